import type { NightscoutDestination, SourceConfig } from '../config';
import type { RetryPolicy } from '../http/retry';
import type { HttpTransport } from '../http/transport';
import { CgmError, toCgmError } from '../model/errors';
import { silentLogger, type Logger } from '../model/logger';
import type { GlucoseReading } from '../model/reading';
import { siteSubjectId } from '../providers/nightscout/client';
import type { AccountStore } from './account-state';
import { AccountFollower } from './follower';
import type { SubjectState } from './subject-state';
import { NightscoutSink } from './upload-sink';

const MINUTE = 60_000;

/** What is wrong with a destination: the field of the `nightscout` block (empty: the block) and why. */
export interface DestinationProblem {
  field: '' | 'token' | 'server';
  message: string;
}

/**
 * Why a Nightscout destination cannot work, or `undefined`: uploads need a secret (v3 a token); and
 * on an account (`source`), VitaDock meter readings are not uploaded and a site is not its own destination.
 */
export function destinationProblem(
  destination: NightscoutDestination,
  source?: SourceConfig,
): DestinationProblem | undefined {
  if (destination.token === undefined && destination.apiSecret === undefined) {
    return {
      field: '',
      message: 'uploading needs the site\'s "apiSecret" or a "token" whose role may create entries (admin)',
    };
  }
  if (destination.api === 'v3' && destination.token === undefined) {
    return {
      field: 'token',
      message: 'API v3 needs an access token (it does not accept the API secret; use "api": "v1" with it)',
    };
  }
  if (source?.provider === 'vitadock') {
    return {
      field: '',
      message: 'VitaDock gives meter readings, and only CGM readings (sgv) are uploaded; remove the block',
    };
  }
  if (
    source?.provider === 'nightscout' &&
    siteSubjectId(source.server) === siteSubjectId(destination.server)
  ) {
    return {
      field: 'server',
      message: 'this is the site the account reads; a site cannot be its own destination',
    };
  }
  return undefined;
}

/** A problem as a configuration line: `accounts[0].nightscout.token: …`. */
export function describeDestinationProblem(problem: DestinationProblem, where: string): string {
  return `${where}.nightscout${problem.field ? `.${problem.field}` : ''}: ${problem.message}`;
}

export interface AccountDestinationsOptions {
  follower: AccountFollower;
  /** The account's `nightscout` block. */
  nightscout: NightscoutDestination;
  /** The account's store: upload positions go to its `uploads` section. */
  store: AccountStore;
  logger?: Logger;
  transport?: HttpTransport;
  backoff?: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
}

/**
 * The destinations of one followed account (today: one Nightscout site), fed from the follower's
 * `reading` and `backfill` events, so every host that runs a follower uploads the same way. A site
 * holds one person's glucose: while the account follows more than one person nothing is uploaded
 * (CONFIG, logged once; the account's `patient` picks one). After a restart the readings between the
 * stored position and the first new one are read once from the source's history and sent first, so
 * the site has no hole where the host was down. Uploading never delays the follower or other outputs.
 */
export class AccountDestinations {
  readonly nightscout: NightscoutSink;
  private readonly follower: AccountFollower;
  private readonly logger: Logger;
  private gapChecked = false;
  /** Readings that arrive while the gap before the first one is read. */
  private holding: GlucoseReading[] | undefined;
  private refusal: CgmError | undefined;
  private stopped = false;
  private readonly onReading = (subject: SubjectState, reading: GlucoseReading): void =>
    this.take(subject, [reading]);
  private readonly onBackfill = (subject: SubjectState, readings: GlucoseReading[]): void =>
    this.take(subject, readings);

  constructor(options: AccountDestinationsOptions) {
    this.follower = options.follower;
    this.logger = options.logger ?? silentLogger;
    this.nightscout = new NightscoutSink({
      destination: options.nightscout,
      store: options.store,
      logger: this.logger,
      ...(options.transport ? { transport: options.transport } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
    this.follower.on('reading', this.onReading);
    this.follower.on('backfill', this.onBackfill);
  }

  /** Why nothing is uploaded (several people on one site), if so. */
  get problem(): CgmError | undefined {
    return this.refusal ?? this.nightscout.problem;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.follower.off('reading', this.onReading);
    this.follower.off('backfill', this.onBackfill);
    await this.nightscout.close();
  }

  private take(subject: SubjectState, readings: GlucoseReading[]): void {
    if (this.stopped || readings.length === 0 || !this.onePerson()) return;
    if (this.holding) {
      this.holding.push(...readings);
      return;
    }
    if (!this.gapChecked) {
      this.gapChecked = true;
      this.holding = [...readings];
      void this.fillGap(subject);
      return;
    }
    this.nightscout.enqueue(readings);
  }

  /** True while the account follows one person; the change to several (and back) is logged once. */
  private onePerson(): boolean {
    const people = this.follower.subjects.filter((s) => !AccountFollower.isPlaceholder(s));
    if (people.length <= 1) {
      if (this.refusal) {
        this.refusal = undefined;
        this.logger.info('Nightscout upload: the account follows one person again; uploads resume');
      }
      return true;
    }
    if (!this.refusal) {
      this.refusal = new CgmError(
        'CONFIG',
        `this account follows ${people.length} people, and a Nightscout site holds one person's glucose; nothing is uploaded`,
        { hint: 'set "patient" on the account to the one person whose site it is (one account per person)' },
      );
      this.logger.error(`Nightscout upload: CONFIG: ${this.refusal.message} (${this.refusal.hint ?? ''})`);
    }
    return false;
  }

  /**
   * The first reading of this run: when the site's stored position is older than one reading interval
   * before it, the readings in between come from the source's history (once), then everything held.
   */
  private async fillGap(subject: SubjectState): Promise<void> {
    const sink = this.nightscout;
    try {
      await sink.ready();
      const from = sink.position;
      const first = this.holding?.[0];
      if (this.stopped || from === undefined || !first) return;
      const cadence = this.follower.source.cadence;
      if (first.time.getTime() - from <= cadence.readingIntervalMs * 1.5) return;
      const minutes = Math.min(cadence.maxHistoryMinutes, Math.ceil((Date.now() - from) / MINUTE) + 1);
      try {
        const missed = (await this.follower.history(subject, minutes)).filter((r) => r.time.getTime() > from);
        if (missed.length > 0) {
          this.logger.info(
            `Nightscout upload: ${missed.length} readings since ${new Date(from).toISOString()} are sent first`,
          );
        }
        if (!this.stopped) sink.enqueue(missed);
      } catch (thrown) {
        const error = toCgmError(thrown);
        this.logger.warn(
          `Nightscout upload: the readings since ${new Date(from).toISOString()} could not be read ` +
            `(${error.code}); the site keeps that gap`,
        );
      }
    } finally {
      const held = this.holding ?? [];
      this.holding = undefined;
      if (!this.stopped) sink.enqueue(held);
    }
  }
}
