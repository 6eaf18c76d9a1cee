import type { AccountStore } from '../src/follow/account-state';
import { AccountDestinations } from '../src/follow/destinations';
import { AccountFollower } from '../src/follow/follower';
import type { SubjectState } from '../src/follow/subject-state';
import type { SourceConfig } from '../src/config';
import type { CgmError } from '../src/model/errors';
import type { Logger } from '../src/model/logger';
import type { GlucoseReading } from '../src/model/reading';
import type { AccountEntry } from './config';

/** One person as the platform shows them: the HomeKit accessory, and MQTT when configured. */
export interface SubjectView {
  readonly uuid: string;
  show(reading: GlucoseReading, subject: SubjectState): void;
  /** The person's stale flag or problem changed (HomeKit shows a fault; MQTT reports it). */
  status(subject: SubjectState): void;
  /** The person's limits (from their cloud) or sensor changed. */
  details?(subject: SubjectState): void;
}

/** What an account needs from the platform. */
export interface AccountHost {
  logger: Logger;
  /** The view of a person, their accessory created or taken from the cache; undefined when another account has it. */
  claim(entry: AccountEntry, subject: SubjectState): SubjectView | undefined;
  /** Removes an accessory of this account (the configuration no longer selects that person). */
  release(entry: AccountEntry, uuid: string): void;
  /** Removes this account's accessories that are not in `keep` (its people are known now). */
  prune(entry: AccountEntry, keep: ReadonlySet<string>): void;
  /** Every accessory of this account shows the account's failure (also those restored but not yet claimed). */
  fail(entry: AccountEntry, error: CgmError | undefined): void;
}

/**
 * One configured account in Homebridge: its follower decides logins, people and state; this only turns
 * its events into accessories (claimed, updated, released) through the platform.
 */
export class HomebridgeAccount {
  readonly follower: AccountFollower;
  /** The account's Nightscout site, when it has a `nightscout` block. */
  readonly destinations: AccountDestinations | undefined;
  private readonly views = new Map<string, SubjectView>();
  private pruned = false;

  constructor(
    readonly entry: AccountEntry & { config: SourceConfig },
    store: AccountStore,
    private readonly host: AccountHost,
    logger: Logger,
  ) {
    this.follower = new AccountFollower({
      key: entry.key,
      ...(entry.config.name ? { name: entry.config.name } : {}),
      config: entry.config,
      store,
      logger,
      staleMinutes: entry.staleMinutes,
      thresholds: entry.thresholds,
      cloudThresholds: entry.cloudThresholds,
    });
    // HomeKit and MQTT first: the uploads are handed their readings after they are shown.
    this.wire();
    this.destinations = entry.nightscout
      ? new AccountDestinations({ follower: this.follower, nightscout: entry.nightscout, store, logger })
      : undefined;
  }

  /** The first attempt to find the people; later ones run on their own. Resolves true once they are known. */
  async start(): Promise<boolean> {
    await this.follower.start();
    this.pruneOnce();
    return this.follower.ready;
  }

  async stop(): Promise<void> {
    await Promise.all([this.follower.stop(), this.destinations?.stop()]);
  }

  private wire(): void {
    const { follower, host, entry } = this;
    follower.on('subject', (subject) => {
      if (AccountFollower.isPlaceholder(subject)) return;
      const view = host.claim(entry, subject);
      if (!view) return;
      this.views.set(subject.id, view);
      view.status(subject);
    });
    follower.on('removed', (subject) => {
      const view = this.views.get(subject.id);
      this.views.delete(subject.id);
      if (view) host.release(entry, view.uuid);
    });
    follower.on('reading', (subject, reading) => this.views.get(subject.id)?.show(reading, subject));
    follower.on('status', (subject) => this.views.get(subject.id)?.status(subject));
    follower.on('details', (subject) => this.views.get(subject.id)?.details?.(subject));
    follower.on('problem', (error) => {
      host.fail(entry, error);
      if (!error) this.pruneOnce();
    });
  }

  /** Once the cloud has said who is followed, accessories of people it no longer follows go. */
  private pruneOnce(): void {
    if (this.pruned || !this.follower.ready) return;
    this.pruned = true;
    this.host.prune(this.entry, new Set([...this.views.values()].map((v) => v.uuid)));
  }
}
