import type { Logger } from '../model/logger';
import { type CgmError, stopsPolling, toCgmError } from '../model/errors';
import type { GlucoseReading } from '../model/reading';
import type { MqttPublisher } from '../mqtt/publisher';
import { subjectSlug, type SubjectDescriptor } from '../mqtt/subject';
import { Poller } from '../poller';
import type { CgmSource, Subject } from '../providers/provider';
import { MAX_BACKOFF_MS, MIN_POLL_INTERVAL_MS } from '../poller';
import type { AccountConfig } from './config';
import { hasMeasurements, MeasurementFollower } from './measurements';

export interface FollowedSubject {
  key: string;
  descriptor: SubjectDescriptor;
  poller: Poller;
}

export interface AccountEvents {
  reading(key: string, reading: GlucoseReading): void;
}

/**
 * One configured account inside the bridge: logs in (patiently, and never again after a refused
 * password), follows each of its subjects with a poller and hands everything to the publisher.
 */
export class BridgeAccount {
  readonly key: string;
  private followed: FollowedSubject[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failures = 0;
  private problemShown = false;
  private measurements: MeasurementFollower | undefined;

  constructor(
    readonly config: AccountConfig,
    private readonly source: CgmSource,
    private readonly publisher: MqttPublisher,
    private readonly logger: Logger,
    private readonly events: Partial<AccountEvents> = {},
    /** Keys published by an earlier run, kept while the login has not said who is followed now. */
    private readonly knownKeys: string[] = [],
  ) {
    this.key = subjectSlug(config.name);
  }

  /** The subject keys this account publishes (known before login: the account's own key). */
  get keys(): string[] {
    if (this.followed.length > 0) return this.followed.map((f) => f.key);
    return [...new Set([this.key, ...this.knownKeys])];
  }

  get subjects(): readonly FollowedSubject[] {
    return this.followed;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.measurements?.stop();
    await Promise.all(this.followed.map((f) => f.poller.stop()));
    await this.source.close();
  }

  private async connect(): Promise<void> {
    try {
      const info = await this.source.login();
      this.failures = 0;
      if (this.stopped) return;
      if (this.problemShown) this.publisher.publishProblem(this.key, null);
      this.follow(this.choose(info.subjects));
    } catch (thrown) {
      this.loginFailed(toCgmError(thrown));
    }
  }

  /** A configured patient, or every subject the account can see (a carer may follow two children). */
  private choose(subjects: Subject[]): Subject[] {
    const wanted = this.config.source.provider === 'librelinkup' ? this.config.source.patient : undefined;
    if (wanted === undefined || subjects.length <= 1)
      return subjects.slice(0, wanted === undefined ? undefined : 1);
    const lower = wanted.toLowerCase();
    const match = subjects.find((s) => s.id === wanted || s.name.toLowerCase() === lower);
    return match ? [match] : subjects.slice(0, 1);
  }

  private follow(subjects: Subject[]): void {
    const single = subjects.length <= 1;
    this.followed = (subjects.length > 0 ? subjects : [undefined]).map((subject) => {
      const name = single || !subject ? this.config.name : `${this.config.name} ${subject.name}`;
      const key = single ? this.key : subjectSlug(name);
      const descriptor = this.describe(key, name);
      this.publisher.addSubject(descriptor);
      const poller = new Poller(this.source, {
        ...(subject ? { subject: subject.id } : {}),
        staleMinutes: this.config.staleMinutes,
        logger: this.logger,
      });
      this.wire(key, poller);
      poller.start();
      return { key, descriptor, poller };
    });
    const first = this.followed[0];
    if (first && hasMeasurements(this.source)) {
      this.measurements = new MeasurementFollower(
        this.source,
        (measurement) => this.publisher.publishMeasurement(first.key, measurement),
        this.logger,
      );
      this.measurements.start();
    }
    // A device made only to show a failed login goes once the account's own subjects replace it.
    if (!single && this.problemShown) this.publisher.removeSubject(this.key);
  }

  private describe(key: string, name: string): SubjectDescriptor {
    return {
      key,
      name,
      provider: this.config.source.provider,
      units: this.config.units,
      thresholds: this.config.thresholds,
      staleMinutes: this.config.staleMinutes,
    };
  }

  private wire(key: string, poller: Poller): void {
    let failing = false;
    poller.on('reading', (reading) => {
      if (failing) this.publisher.publishProblem(key, null);
      failing = false;
      this.publisher.publishReading(key, reading);
      this.events.reading?.(key, reading);
    });
    poller.on('stale', (info) => {
      this.publisher.publishStale(key, true);
      const age =
        info.ageMs === undefined
          ? 'no reading yet'
          : `last reading ${Math.round(info.ageMs / 60_000)} min ago`;
      this.logger.warn(`${key}: data is stale (${age})`);
    });
    poller.on('fresh', () => this.publisher.publishStale(key, false));
    poller.on('error', (error) => {
      failing = true;
      this.publisher.publishProblem(key, error);
      this.logger.warn(`${key}: ${error.code}: ${error.message}`);
    });
    poller.on('halted', (error) => {
      this.logger.error(`${key}: polling stopped (${error.code})${error.hint ? `: ${error.hint}` : ''}`);
    });
  }

  private loginFailed(error: CgmError): void {
    this.publisher.addSubject(this.describe(this.key, this.config.name));
    this.publisher.publishProblem(this.key, error);
    this.problemShown = true;
    if (this.stopped) return;
    if (stopsPolling(error) && error.code !== 'ACCOUNT_LOCKED') {
      this.logger.error(
        `${this.config.name}: ${error.code}: ${error.message}${error.hint ? ` (${error.hint})` : ''}; ` +
          'not trying again until the configuration changes',
      );
      return;
    }
    this.failures += 1;
    const backoff = Math.min(MAX_BACKOFF_MS, MIN_POLL_INTERVAL_MS * 2 ** (this.failures - 1));
    const wait = Math.max(backoff, error.retryAfterMs ?? 0);
    this.logger.warn(
      `${this.config.name}: ${error.code}: ${error.message}; next login in ${Math.round(wait / 1000)} s`,
    );
    this.retryTimer = setTimeout(() => void this.connect(), wait);
  }
}
