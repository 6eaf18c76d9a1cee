import { AccountDestinations } from '../follow/destinations';
import { AccountFollower } from '../follow/follower';
import type { AccountStore } from '../follow/account-state';
import type { SubjectState } from '../follow/subject-state';
import type { Logger } from '../model/logger';
import type { GlucoseReading } from '../model/reading';
import type { MqttPublisher } from '../mqtt/publisher';
import type { SubjectDescriptor } from '../mqtt/subject';
import type { LoginTurns } from '../providers/login-policy';
import type { ClientOptions } from '../providers/provider';
import { StatisticsKeeper, type StatisticsKeeperOptions } from '../stats/keeper';
import type { AccountConfig } from './config';

export interface AccountEvents {
  reading(key: string, reading: GlucoseReading): void;
}

/** Turns every account of one bridge shares: logins, and the statistics' loads of a day's history. */
export interface HostTurns {
  logins?: LoginTurns;
  historyLoads?: StatisticsKeeperOptions['historyTurns'];
}

/**
 * One configured account inside the bridge: its follower decides everything (logins, people, state);
 * this class only renders the follower's events as MQTT topics and Home Assistant discovery.
 */
export class BridgeAccount {
  readonly follower: AccountFollower;
  /** The account's Nightscout site, when it has a `nightscout` block. */
  readonly destinations: AccountDestinations | undefined;
  /** Each person's last-24-hours statistics (state JSON, Home Assistant sensors, the status page). */
  readonly statistics: StatisticsKeeper;

  constructor(
    readonly config: AccountConfig,
    key: string,
    store: AccountStore,
    private readonly publisher: MqttPublisher,
    logger: Logger,
    private readonly events: Partial<AccountEvents> = {},
    clientOptions: Pick<ClientOptions, 'transport'> = {},
    turns: HostTurns = {},
  ) {
    const { logins: loginTurns, historyLoads } = turns;
    this.follower = new AccountFollower({
      ...(loginTurns ? { loginTurns } : {}),
      key,
      name: config.name,
      config: config.source,
      store,
      logger,
      staleMinutes: config.staleMinutes,
      measurements: true,
      thresholds: config.thresholds,
      cloudThresholds: config.cloudThresholds,
      clientOptions,
    });
    this.statistics = new StatisticsKeeper(this.follower, {
      logger,
      ...(historyLoads ? { historyTurns: historyLoads } : {}),
    });
    // MQTT first: the uploads are handed their readings after it has published them.
    this.wire();
    this.destinations = config.nightscout
      ? new AccountDestinations({
          follower: this.follower,
          nightscout: config.nightscout,
          store,
          logger,
          ...(clientOptions.transport ? { transport: clientOptions.transport } : {}),
        })
      : undefined;
  }

  /** The topic keys (slugs) of the people this account publishes. */
  get keys(): string[] {
    return this.follower.subjects.map((s) => s.slug);
  }

  /** Restores the known people and makes the first attempt to follow them; never rejects. */
  start(): Promise<void> {
    this.statistics.start();
    return this.follower.start();
  }

  async stop(): Promise<void> {
    this.statistics.stop();
    await Promise.all([this.follower.stop(), this.destinations?.stop()]);
  }

  private wire(): void {
    const { follower, publisher } = this;
    follower.on('subject', (subject) => {
      publisher.addSubject(this.describe(subject));
      if (subject.problem) publisher.publishProblem(subject.slug, subject.problem);
    });
    follower.on('removed', (subject) => publisher.removeSubject(subject.slug));
    follower.on('reading', (subject, reading) => {
      publisher.publishReading(subject.slug, reading, {
        previous: subject.previous,
        stale: subject.stale,
        sensor: subject.sensorStatus(),
        statistics: this.statistics.fresh(subject),
      });
      this.events.reading?.(subject.slug, reading);
    });
    // A new sensor, or the person's limits from the cloud: discovery again (only what changed is sent).
    follower.on('details', (subject) => publisher.addSubject(this.describe(subject)));
    follower.on('status', (subject) => {
      publisher.publishStale(subject.slug, subject.stale);
      publisher.publishProblem(subject.slug, subject.problem ?? null);
    });
    this.statistics.on('statistics', (subject, statistics) =>
      publisher.publishStatistics(subject.slug, statistics),
    );
    follower.on('measurement', (subject, measurement) =>
      publisher.publishMeasurement(subject.slug, measurement),
    );
  }

  private describe(subject: SubjectState): SubjectDescriptor {
    return {
      key: subject.slug,
      name: subject.name,
      provider: subject.provider,
      units: this.config.units,
      thresholds: subject.thresholds ?? this.config.thresholds,
      staleMinutes: this.config.staleMinutes,
      continuous: subject.continuous,
      ...(subject.provider === 'librelinkup' || subject.sensor ? { sensor: true } : {}),
    };
  }
}
