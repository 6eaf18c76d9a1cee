import {
  nightscoutDestinationSchema,
  type NightscoutDestination,
  type NightscoutDestinationInput,
} from '../../config';
import { backoffDelay, isTransient, type RetryPolicy } from '../../http/retry';
import { clientTransport, parseBody, type HttpTransport } from '../../http/transport';
import { CgmError, toCgmError } from '../../model/errors';
import { silentLogger, type Logger } from '../../model/logger';
import type { GlucoseReading } from '../../model/reading';
import type { LoginGate } from '../login-policy';
import { siteSubjectId } from './client';
import { PATHS, UPLOAD_BATCH } from './constants';
import { uploadDevice, uploadProblem, v1Document, v3Document } from './documents';
import { NightscoutSite } from './site';
import { entryListSchema, v3CreateSchema, v3SearchSchema } from './schemas';

/** Where the site stands: the newest reading it has (from us, or from anyone before we started). */
export interface UploadPosition {
  /** A key for the site in the state store: a hash of its address (never the address or a secret). */
  site: string;
  /** Epoch ms of the newest reading the site holds; nothing at or before it is sent. */
  time: number;
}

export type PositionListener = (position: UploadPosition) => void;
export type UploadErrorListener = (error: CgmError) => void;

export interface NightscoutUploaderOptions {
  /** The site: server, token or apiSecret, api (`v1` default, or `v3`), timeoutMs, queueLimit. */
  destination: NightscoutDestinationInput | NightscoutDestination;
  /** The position persisted from an earlier run (`UploadPosition.time`, as emitted by `onPosition`). */
  position?: number | undefined;
  /** The `device` of every upload; default `glucobridge-<provider>` of each reading. */
  device?: string;
  logger?: Logger;
  transport?: HttpTransport;
  /** Backoff between attempts while the site fails (default 5 s doubling to 5 min, with jitter). */
  backoff?: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
  /** Decides when the secret may be sent; a persistent one keeps a refused secret refused across restarts. */
  loginGate?: LoginGate;
}

export interface UploaderStats {
  /** Readings waiting to be sent. */
  queued: number;
  /** Readings dropped because the queue was full (the site was down too long). */
  dropped: number;
  /** Readings the site accepted. */
  sent: number;
  /** Readings the site refused (HTTP 400/422) or that were not valid readings: never retried. */
  rejected: number;
  position: number | undefined;
  /** The last failure while it lasts (cleared by the next successful upload). */
  problem: CgmError | undefined;
  /** A failure that is not retried (refused secret, wrong address): nothing is sent any more. */
  stopped: boolean;
}

export const DEFAULT_QUEUE_LIMIT = 2000;
const DEFAULT_BACKOFF = { baseDelayMs: 5_000, maxDelayMs: 5 * 60_000 };
/** A site "newest entry" this far ahead of the host clock is a bad upload, not a position. */
const MAX_SITE_AHEAD_MS = 5 * 60_000;

/**
 * Uploads readings of any source to a Nightscout site, each once and in order.
 *
 * `enqueue()` is synchronous and never waits for the site: readings go into a bounded queue (oldest
 * dropped beyond `queueLimit`, counted) and are sent in the background, oldest first: v1 in batches
 * (`POST /api/v1/entries`), v3 one document per request (`POST /api/v3/entries`, with the identifier
 * the server would derive). Before the first upload it reads the site's newest `sgv` entry
 * (`count=1`): nothing at or before it, or before the stored `position`, is sent again. After each
 * accepted upload the position moves and `onPosition` listeners hear it (persist it in the state
 * store). A failing site is retried with exponential backoff and jitter, forever while open; a refused
 * secret or token (AUTH_INVALID), a wrong address (NOT_FOUND) or a configuration mistake (CONFIG)
 * stops sending until a new uploader is made. `close()` returns at once; a request in flight is
 * left to its timeout and its result ignored.
 */
export class NightscoutUploader {
  /** The site's key in the state store (`UploadPosition.site`). */
  readonly siteKey: string;
  private readonly site: NightscoutSite;
  private readonly logger: Logger;
  private readonly api: 'v1' | 'v3';
  private readonly device: string | undefined;
  private readonly queueLimit: number;
  private readonly backoff: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
  private readonly positionListeners = new Set<PositionListener>();
  private readonly errorListeners = new Set<UploadErrorListener>();
  private readonly idleWaiters: (() => void)[] = [];
  private queue: GlucoseReading[] = [];
  private positionMs: number | undefined;
  private siteChecked = false;
  private running = false;
  private inFlight = false;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private droppedCount = 0;
  private droppedInOutage = 0;
  private sentCount = 0;
  private rejectedCount = 0;
  private problemError: CgmError | undefined;
  private stoppedBy: CgmError | undefined;
  private closed = false;

  constructor(options: NightscoutUploaderOptions) {
    const parsed = nightscoutDestinationSchema.safeParse(options.destination);
    if (!parsed.success) {
      throw new CgmError(
        'CONFIG',
        `Nightscout destination: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
        {
          hint: 'a Nightscout destination needs server (https://…) and token or apiSecret',
        },
      );
    }
    const destination = parsed.data;
    this.logger = options.logger ?? silentLogger;
    this.api = destination.api;
    this.device = options.device?.trim() || undefined;
    this.queueLimit = destination.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.siteKey = siteSubjectId(destination.server);
    this.site = new NightscoutSite({
      server: destination.server,
      token: destination.token,
      apiSecret: destination.apiSecret,
      api: destination.api,
      timeoutMs: destination.timeoutMs,
      transport: clientTransport(options.transport, this.logger, destination.timeoutMs),
      logger: this.logger,
      retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
      loginGate: options.loginGate,
    });
    if (options.position !== undefined && Number.isFinite(options.position))
      this.positionMs = options.position;
  }

  /** Queues readings (any order, any source) and returns at once; sending happens in the background. */
  enqueue(readings: GlucoseReading | readonly GlucoseReading[]): void {
    if (this.closed) return;
    const list: readonly GlucoseReading[] = Array.isArray(readings) ? readings : [readings as GlucoseReading];
    const now = Date.now();
    for (const reading of list) {
      const problem = uploadProblem(reading, now);
      if (problem) {
        this.rejectedCount += 1;
        this.logger.warn(`Nightscout upload: PROTOCOL: a reading was not queued: ${problem}`);
        continue;
      }
      this.insert(reading);
    }
    this.trim();
    this.wake();
  }

  /** Called with every new position; returns a function that stops the calls. */
  onPosition(listener: PositionListener): () => void {
    this.positionListeners.add(listener);
    return () => this.positionListeners.delete(listener);
  }

  /** Called with every failure (transient ones too, each attempt); returns the unsubscribe function. */
  onError(listener: UploadErrorListener): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  get position(): number | undefined {
    return this.positionMs;
  }

  get queueLength(): number {
    return this.queue.length;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /** A request to the site is under way (tests driving fake time let real I/O finish meanwhile). */
  get busy(): boolean {
    return this.inFlight;
  }

  stats(): UploaderStats {
    return {
      queued: this.queue.length,
      dropped: this.droppedCount,
      sent: this.sentCount,
      rejected: this.rejectedCount,
      position: this.positionMs,
      problem: this.stoppedBy ?? this.problemError,
      stopped: this.stoppedBy !== undefined,
    };
  }

  /** Resolves when the queue is empty, sending has stopped for good, or the uploader was closed. */
  flush(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops at once: no new request starts, timers end, listeners are forgotten. */
  close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.positionListeners.clear();
    this.errorListeners.clear();
    this.settleWaiters();
    return Promise.resolve();
  }

  // ---- queue ----------------------------------------------------------------------------------

  /** Sorted insert, one reading per instant; what the site already has is never queued. */
  private insert(reading: GlucoseReading): void {
    const time = reading.time.getTime();
    if (this.positionMs !== undefined && time <= this.positionMs) return;
    let index = this.queue.length;
    while (index > 0 && this.queue[index - 1]!.time.getTime() > time) index -= 1;
    if (index > 0 && this.queue[index - 1]!.time.getTime() === time) return;
    this.queue.splice(index, 0, reading);
  }

  /** Beyond the limit the oldest readings go: the present matters more than a long-gone gap. */
  private trim(): void {
    const excess = this.queue.length - this.queueLimit;
    if (excess <= 0) return;
    this.queue.splice(0, excess);
    if (this.droppedInOutage === 0) {
      this.logger.warn(
        `Nightscout upload: the queue is full (${this.queueLimit} readings); the oldest are dropped until the site answers`,
      );
    }
    this.droppedCount += excess;
    this.droppedInOutage += excess;
  }

  private forgetSent(): void {
    if (this.positionMs === undefined) return;
    const position = this.positionMs;
    const firstNew = this.queue.findIndex((r) => r.time.getTime() > position);
    this.queue = firstNew < 0 ? [] : this.queue.slice(firstNew);
  }

  // ---- sending --------------------------------------------------------------------------------

  private wake(): void {
    if (this.running || this.timer || this.closed || this.stoppedBy || this.queue.length === 0) return;
    void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.closed && !this.stoppedBy) {
        if (!this.siteChecked) await this.readSitePosition();
        this.forgetSent();
        if (this.queue.length === 0 || this.closed) break;
        if (this.api === 'v3') await this.sendV3(this.queue[0]!);
        else await this.sendV1(this.queue.slice(0, UPLOAD_BATCH));
        this.recovered();
      }
    } catch (thrown) {
      this.failed(toCgmError(thrown));
    } finally {
      this.running = false;
      this.inFlight = false;
      if (this.idle()) this.settleWaiters();
    }
  }

  /** The site's newest `sgv` entry: whatever is there already is not sent again. */
  private async readSitePosition(): Promise<void> {
    const raw = await this.call(async () => {
      if (this.api === 'v3') {
        const response = await this.site.request({
          method: 'GET',
          path: PATHS.entriesV3,
          query: { type: 'sgv', sort$desc: 'date', limit: 1, fields: 'date' },
          what: 'Nightscout newest entry',
          retry: false,
        });
        return parseBody(v3SearchSchema, response.json, 'Nightscout newest entry').result;
      }
      const response = await this.site.request({
        method: 'GET',
        path: PATHS.entries,
        query: { 'find[type]': 'sgv', count: 1 },
        what: 'Nightscout newest entry',
        retry: false,
      });
      return parseBody(entryListSchema, response.json, 'Nightscout newest entry');
    });
    if (this.closed) return;
    this.siteChecked = true;
    const first = raw[0];
    const date = first && typeof first === 'object' ? (first as { date?: unknown }).date : undefined;
    if (typeof date !== 'number' || !Number.isFinite(date)) return;
    if (date > Date.now() + MAX_SITE_AHEAD_MS) {
      this.logger.warn(
        `Nightscout upload: the site's newest entry is stamped ${new Date(date).toISOString()}, in the future; it is not taken as the position`,
      );
      return;
    }
    if (this.positionMs === undefined || date > this.positionMs) {
      this.logger.info(`Nightscout upload: the site has readings up to ${new Date(date).toISOString()}`);
      this.advance(date);
    }
  }

  private async sendV1(batch: GlucoseReading[]): Promise<void> {
    const documents = batch.map((r) => v1Document(r, this.device ?? uploadDevice(r)));
    const refused = await this.upload(documents, PATHS.entriesUpload);
    if (this.closed) return;
    const last = batch[batch.length - 1]!;
    if (refused) this.rejectedCount += batch.length;
    else this.sentCount += batch.length;
    this.advance(last.time.getTime());
  }

  private async sendV3(reading: GlucoseReading): Promise<void> {
    const document = v3Document(reading, this.device ?? uploadDevice(reading));
    const refused = await this.upload(document, PATHS.entriesV3);
    if (this.closed) return;
    if (refused) this.rejectedCount += 1;
    else this.sentCount += 1;
    this.advance(reading.time.getTime());
  }

  /**
   * One POST. Resolves `true` when the site refused the documents for good (HTTP 400/422: logged and
   * skipped, or they would block every later reading); a v3 "field cannot be modified" means the site
   * already has an entry at that instant from another device, which counts as delivered.
   */
  private async upload(body: unknown, path: string): Promise<boolean> {
    try {
      const response = await this.call(() =>
        this.site.request({
          method: 'POST',
          path,
          body,
          what: 'Nightscout upload',
          upload: true,
          retry: false,
        }),
      );
      if (this.api === 'v3') parseBody(v3CreateSchema, response.json, 'Nightscout upload');
      return false;
    } catch (thrown) {
      const error = toCgmError(thrown);
      if (error.code !== 'PROTOCOL' || error.retryable) throw error;
      if (/cannot be modified/i.test(error.message)) {
        this.logger.debug(`Nightscout upload: the site already has this reading from another device`);
        return false;
      }
      this.logger.error(`Nightscout upload: the site refused a reading; it is skipped: ${error.message}`);
      return true;
    }
  }

  private async call<T>(task: () => Promise<T>): Promise<T> {
    this.inFlight = true;
    try {
      return await task();
    } finally {
      this.inFlight = false;
    }
  }

  private advance(time: number): void {
    if (this.positionMs !== undefined && time <= this.positionMs) return;
    this.positionMs = time;
    // What the site now has leaves the queue before listeners look at the figures.
    this.forgetSent();
    const position: UploadPosition = { site: this.siteKey, time };
    for (const listener of this.positionListeners) {
      try {
        listener(position);
      } catch (error) {
        // The host's store failing must not stop the uploads; the site's newest entry covers a restart.
        this.logger.warn(
          `Nightscout upload: storing the position failed: ${error instanceof Error ? error.message : 'error'}`,
        );
      }
    }
  }

  private recovered(): void {
    if (this.failures > 0 || this.droppedInOutage > 0) {
      const lost =
        this.droppedInOutage > 0 ? `; ${this.droppedInOutage} readings were dropped meanwhile` : '';
      this.logger.info(`Nightscout upload: the site answers again${lost}`);
    }
    this.failures = 0;
    this.droppedInOutage = 0;
    this.problemError = undefined;
  }

  private failed(error: CgmError): void {
    if (this.closed) return;
    this.problemError = error;
    for (const listener of this.errorListeners) {
      try {
        listener(error);
      } catch {
        // A host's listener failing changes nothing here.
      }
    }
    const retried =
      error.retryable &&
      (isTransient(error) || error.code === 'PROTOCOL' || error.code === 'SESSION_EXPIRED');
    if (!retried) {
      this.stoppedBy = error;
      this.logger.error(
        `Nightscout upload stopped: ${error.code}: ${error.message}${error.hint ? ` (${error.hint})` : ''}`,
      );
      return;
    }
    const delay = backoffDelay(this.failures, { attempts: Infinity, ...this.backoff }, error);
    if (this.failures === 0) {
      this.logger.warn(`Nightscout upload: ${error.code}: ${error.message}; retrying with backoff`);
    } else {
      this.logger.debug(
        `Nightscout upload: still failing (${error.code}); next try in ${Math.round(delay / 1000)} s`,
      );
    }
    this.failures += 1;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, delay);
  }

  private idle(): boolean {
    return this.closed || this.stoppedBy !== undefined || (!this.running && this.queue.length === 0);
  }

  private settleWaiters(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
