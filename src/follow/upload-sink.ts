import { EventEmitter } from 'node:events';
import { nightscoutDestinationSchema, type NightscoutDestination } from '../config';
import type { RetryPolicy } from '../http/retry';
import type { HttpTransport } from '../http/transport';
import { CgmError, toCgmError } from '../model/errors';
import { silentLogger, type Logger } from '../model/logger';
import type { GlucoseReading } from '../model/reading';
import { siteSubjectId } from '../providers/nightscout/client';
import { NightscoutUploader, type UploaderStats } from '../providers/nightscout/uploader';
import type { AccountStore } from './account-state';

export interface NightscoutSinkOptions {
  /** The site: server, token or apiSecret, api (`v1` default, or `v3`), queueLimit. */
  destination: NightscoutDestination;
  /** Where the upload position lives (section `uploads`, key = the site's key). */
  store: AccountStore;
  logger?: Logger;
  transport?: HttpTransport;
  /** Backoff between attempts while the site fails (tests shorten it). */
  backoff?: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
}

export interface NightscoutSinkEvents {
  /** The site's problem changed: an error (the first of an outage, or another code), or `undefined` once it answers again. */
  problem: [CgmError | undefined];
  /** The site accepted readings up to this instant (epoch ms). */
  position: [number];
}

/** What a sink reports: the uploader's figures, and whether the stored position was read yet. */
export interface NightscoutSinkStats extends UploaderStats {
  ready: boolean;
}

/**
 * One Nightscout site as the destination of a host (the bridge's and Homebridge's account block, the
 * Node-RED `cgm nightscout` node): a `NightscoutUploader` whose position survives restarts in the
 * account store (`uploads[<site key>]`, epoch ms), and whose problems are told once per change.
 * `enqueue` never waits: readings handed over before the stored position is read are held, then
 * queued in order. The uploader itself logs each outage once (its start, a full queue, its end).
 */
export class NightscoutSink extends EventEmitter<NightscoutSinkEvents> {
  /** The site's key in the store: a hash of its address, never the address or a secret. */
  readonly siteKey: string;
  private readonly options: NightscoutSinkOptions;
  private readonly logger: Logger;
  private uploader: NightscoutUploader | undefined;
  private held: GlucoseReading[] = [];
  private problemOf: CgmError | undefined;
  private closed = false;
  private persisted = 0;
  private readonly opening: Promise<void>;

  constructor(options: NightscoutSinkOptions) {
    super();
    const parsed = nightscoutDestinationSchema.safeParse(options.destination);
    if (!parsed.success) {
      throw new CgmError('CONFIG', `Nightscout destination: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    }
    this.options = { ...options, destination: parsed.data };
    this.logger = options.logger ?? silentLogger;
    this.siteKey = siteSubjectId(parsed.data.server);
    this.opening = this.open();
  }

  /** Resolves once the stored position is read and the uploader exists (never rejects). */
  ready(): Promise<void> {
    return this.opening;
  }

  /** The site's current problem (a failure while it lasts, or the one that stopped the uploads). */
  get problem(): CgmError | undefined {
    return this.problemOf;
  }

  /** Queues readings (any order) and returns at once. */
  enqueue(readings: GlucoseReading | readonly GlucoseReading[]): void {
    if (this.closed) return;
    const list: readonly GlucoseReading[] = Array.isArray(readings) ? readings : [readings as GlucoseReading];
    if (this.uploader) this.uploader.enqueue(list);
    else this.held.push(...list);
  }

  stats(): NightscoutSinkStats {
    // The sink's problem: cleared as soon as the site accepts a reading (the uploader's own a moment later).
    if (this.uploader) return { ...this.uploader.stats(), problem: this.problemOf, ready: true };
    return {
      queued: this.held.length,
      dropped: 0,
      sent: 0,
      rejected: 0,
      position: undefined,
      problem: this.problemOf,
      stopped: false,
      ready: false,
    };
  }

  /** The newest instant the site holds as far as this sink knows (stored or uploaded), epoch ms. */
  get position(): number | undefined {
    return this.uploader?.position;
  }

  /** Resolves when everything queued was sent, sending stopped for good, or the sink was closed. */
  async flush(): Promise<void> {
    await this.opening;
    await this.uploader?.flush();
  }

  /** Stops at once; what is still queued is not sent (the stored position lets a restart fill the gap). */
  async close(): Promise<void> {
    this.closed = true;
    this.held = [];
    this.removeAllListeners();
    await this.uploader?.close();
  }

  private async open(): Promise<void> {
    let stored: number | undefined;
    try {
      stored = (await this.options.store.load()).uploads?.[this.siteKey];
    } catch (error) {
      this.logger.warn(
        `Nightscout upload: the stored position could not be read (${toCgmError(error).message})`,
      );
    }
    if (this.closed) return;
    this.persisted = Math.max(this.persisted, stored ?? 0);
    const uploader = new NightscoutUploader({
      destination: this.options.destination,
      position: stored,
      logger: this.logger,
      ...(this.options.transport ? { transport: this.options.transport } : {}),
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
    });
    uploader.onPosition(({ time }) => {
      this.persist(time);
      this.setProblem(undefined);
      this.emit('position', time);
    });
    uploader.onError((error) => this.setProblem(error));
    this.uploader = uploader;
    const held = this.held;
    this.held = [];
    if (held.length > 0) uploader.enqueue(held);
  }

  /** Keeps the newest position at once (the store merges it into the section: other keys stay). */
  private persist(time: number): void {
    if (time <= this.persisted) return;
    this.persisted = time;
    try {
      this.options.store.save({ uploads: { [this.siteKey]: time } });
    } catch (error) {
      this.logger.warn(`Nightscout upload: the position could not be stored (${toCgmError(error).message})`);
    }
  }

  private setProblem(error: CgmError | undefined): void {
    const before = this.problemOf;
    if (error?.code === before?.code && error?.message === before?.message) return;
    // Within one outage a new message of the same code (another retry) is no change worth telling.
    if (error && before && error.code === before.code) return;
    this.problemOf = error;
    this.emit('problem', error);
  }
}
