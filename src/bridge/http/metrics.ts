import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { CgmErrorCode } from '../../model/errors';
import type { RequestOutcome } from '../../http/observed';

/** What the gauges read when Prometheus scrapes. */
export interface MetricsSource {
  /** Every person with a reading: their account's name, their slug, and the reading's time (epoch ms). */
  lastReadings(): { account: string; person: string; time: number }[];
  /** Readings and measurements waiting for the broker. */
  queueLength(): number;
  mqttConnected(): boolean;
}

/**
 * The bridge's Prometheus metrics (prom-client, in a registry of its own): readings published, errors by
 * code, requests to the clouds by provider and result, the age of each person's last reading, the MQTT
 * queue and connection, and Node's process metrics. Names start with `glucobridge_`.
 */
export class BridgeMetrics {
  readonly registry = new Registry();
  private readonly readings: Counter<'account' | 'person'>;
  private readonly errors: Counter<'code'>;
  private readonly requests: Counter<'provider' | 'result'>;

  constructor(source: MetricsSource, now: () => number = Date.now) {
    const registers = [this.registry];
    this.readings = new Counter({
      name: 'glucobridge_readings_published_total',
      help: 'Glucose readings published to MQTT, per account and person (slug).',
      labelNames: ['account', 'person'],
      registers,
    });
    this.errors = new Counter({
      name: 'glucobridge_errors_total',
      help: 'Problems that began (an account or a person got a new error), by CgmError code.',
      labelNames: ['code'],
      registers,
    });
    this.requests = new Counter({
      name: 'glucobridge_cloud_requests_total',
      help: 'HTTP requests to the clouds, by provider and result (2xx, 4xx, 5xx, or the error code when no answer came).',
      labelNames: ['provider', 'result'],
      registers,
    });
    new Gauge({
      name: 'glucobridge_last_reading_age_seconds',
      help: "Age of each person's last reading, in seconds.",
      labelNames: ['account', 'person'],
      registers,
      collect() {
        this.reset();
        for (const { account, person, time } of source.lastReadings())
          this.set({ account, person }, Math.max(0, Math.round((now() - time) / 1000)));
      },
    });
    new Gauge({
      name: 'glucobridge_mqtt_queue_length',
      help: 'Readings and measurements waiting for the MQTT broker.',
      registers,
      collect() {
        this.set(source.queueLength());
      },
    });
    new Gauge({
      name: 'glucobridge_mqtt_connected',
      help: '1 while the bridge is connected to its MQTT broker, else 0.',
      registers,
      collect() {
        this.set(source.mqttConnected() ? 1 : 0);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  readingPublished(account: string, person: string): void {
    this.readings.inc({ account, person });
  }

  error(code: CgmErrorCode): void {
    this.errors.inc({ code });
  }

  request(provider: string, outcome: RequestOutcome): void {
    const result = 'status' in outcome ? `${Math.floor(outcome.status / 100)}xx` : outcome.error;
    this.requests.inc({ provider, result });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
