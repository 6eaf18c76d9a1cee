import { MqttPublisher } from '../src/mqtt/publisher';
import type { SubjectState } from '../src/follow/subject-state';
import type { SubjectDescriptor } from '../src/mqtt/subject';
import { toCgmError, type CgmError } from '../src/model/errors';
import type { Logger } from '../src/model/logger';
import type { GlucoseReading } from '../src/model/reading';
import type { AccountEntry, MqttSettings } from './config';

/**
 * The optional MQTT side of the platform: the same topics and Home Assistant discovery as the
 * stand-alone bridge, fed by the pollers the accessories already run (no second set of requests).
 */
export class MqttLink {
  private readonly publisher: MqttPublisher;
  /** accessory uuid → MQTT subject key */
  private readonly keys = new Map<string, string>();

  constructor(
    settings: MqttSettings,
    private readonly logger: Logger,
  ) {
    this.publisher = new MqttPublisher({
      url: settings.url,
      baseTopic: settings.baseTopic,
      discoveryPrefix: settings.discoveryPrefix,
      ...(settings.username ? { username: settings.username } : {}),
      ...(settings.password ? { password: settings.password } : {}),
      ...(settings.clientId ? { clientId: settings.clientId } : {}),
      ...(settings.discovery ? { discovery: settings.discovery } : {}),
      logger,
    });
  }

  start(): void {
    this.logger.info(`MQTT: publishing to ${this.publisher.brokerUrl}`);
    // start() reports an unreachable broker itself and keeps retrying; it never rejects.
    void this.publisher.start();
  }

  stop(): Promise<void> {
    return this.publisher.stop();
  }

  /** Registers a person under their slug; false (and a warning) when another person has that slug. */
  add(uuid: string, subject: SubjectState, entry: AccountEntry): boolean {
    const key = subject.slug;
    const taken = [...this.keys.entries()].some(([other, k]) => k === key && other !== uuid);
    if (taken) {
      this.logger.warn(`MQTT: two people would publish as "${key}"; give one account another name`);
      return false;
    }
    try {
      this.publisher.addSubject(describe(key, subject, entry));
    } catch (error) {
      this.logger.warn(`MQTT: ${subject.name} is not published: ${toCgmError(error).message}`);
      return false;
    }
    this.keys.set(uuid, key);
    return true;
  }

  /** Everyone is known: retained topics of people no longer configured can go. */
  retainOnlyAdded(): void {
    this.publisher.retainSubjects(this.keys.values());
  }

  reading(uuid: string, reading: GlucoseReading, subject: SubjectState): void {
    const key = this.keys.get(uuid);
    if (key)
      this.publisher.publishReading(key, reading, {
        previous: subject.previous,
        stale: subject.stale,
        sensor: subject.sensorStatus(),
      });
  }

  /** The person's limits or sensor changed: their discovery again (only what changed is sent). */
  details(uuid: string, subject: SubjectState, entry: AccountEntry): void {
    const key = this.keys.get(uuid);
    if (!key) return;
    try {
      this.publisher.addSubject(describe(key, subject, entry));
    } catch (error) {
      this.logger.warn(`MQTT: ${subject.name} is not updated: ${toCgmError(error).message}`);
    }
  }

  status(uuid: string, subject: SubjectState): void {
    const key = this.keys.get(uuid);
    if (!key) return;
    this.publisher.publishStale(key, subject.stale);
    this.publisher.publishProblem(key, subject.problem ?? null);
  }

  problem(uuid: string, error: CgmError | undefined): void {
    const key = this.keys.get(uuid);
    if (key) this.publisher.publishProblem(key, error ?? null);
  }
}

function describe(key: string, subject: SubjectState, entry: AccountEntry): SubjectDescriptor {
  return {
    key,
    name: subject.name,
    provider: subject.provider,
    units: entry.units,
    thresholds: subject.thresholds ?? entry.thresholds,
    staleMinutes: entry.staleMinutes,
    continuous: subject.continuous,
    ...(subject.provider === 'librelinkup' || subject.sensor ? { sensor: true } : {}),
  };
}
