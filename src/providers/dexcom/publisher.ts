import { parseBody } from '../../http/transport';
import { field } from '../../model/fields';
import { CgmError, toCgmError } from '../../model/errors';
import { silentLogger, type Logger } from '../../model/logger';
import { VERSION } from '../../version';
import type { UploadPositions } from '../upload-positions';
import type { DexcomClient } from './client';
import { ENDPOINTS, MAX_MINUTES } from './constants';
import { DEXCOM_CODES } from './errors';
import { booleanAnswer, systemUtcTimeSchema, textAnswer } from './schemas';
import { formatDexcomDate } from './timestamp';
import { DEFAULT_UPLOAD_SPACING_MS, planUpload, toEgv, type Egv, type UploadReading } from './upload-plan';

/** What the Share servers show about the uploading app (UpdatePublisherAccountRuntimeInfo). */
export interface RuntimeInfo {
  DeviceManufacturer: string;
  DeviceModel: string;
  DeviceOsVersion: string;
  AppVersion: string;
  AppName: string;
  AppNumber: string;
  DeviceOsName: string;
}

/** Honest defaults: GlucoBridge on Node.js, not a Dexcom app. */
export function defaultRuntimeInfo(): RuntimeInfo {
  return {
    DeviceManufacturer: 'GlucoBridge',
    DeviceModel: `Node.js ${process.version}`,
    DeviceOsVersion: process.platform,
    AppVersion: VERSION,
    AppName: 'GlucoBridge',
    AppNumber: 'GlucoBridge',
    DeviceOsName: process.platform,
  };
}

export type { UploadReading } from './upload-plan';
export { DEFAULT_UPLOAD_SPACING_MS };

export interface UploadResult {
  /** Readings Dexcom accepted (or turned out to have already) in this call. */
  uploaded: number;
  /** Readings left out: uploaded before, or closer than the spacing to the reading before. */
  skipped: number;
  /** PostReceiverEgvRecords batches of this call (a batch split to find a duplicate counts once). */
  batches: number;
  /** The newest reading Dexcom has from this receiver, as far as this publisher knows. */
  lastUploaded: Date | undefined;
}

export interface UploadProgress {
  lastUploaded: Date;
  /** How many readings were accepted in this step. */
  count: number;
}

export interface UploadOptions {
  /** Least time between two uploaded readings, ms (default the publisher's, else 4 min 45 s). */
  spacingMs?: number;
}

export interface DexcomPublisherOptions {
  /** Receiver serial; default the configuration's `serial`. */
  serial?: string;
  /** Default the configuration's `takeOverReceiver`. */
  takeOverReceiver?: boolean;
  runtimeInfo?: Partial<RuntimeInfo>;
  /** Readings per PostReceiverEgvRecords (default 60 = 5 hours). */
  batchSize?: number;
  /** `TA` of every upload; -5 is what the working public uploaders send. */
  timeAdjustment?: number;
  /** Least time between two uploaded readings, ms (default 4 min 45 s; 0 uploads every reading). */
  spacingMs?: number;
  /**
   * Where the position (the last reading Dexcom accepted, per receiver serial) is kept across
   * restarts: the host's state store through `uploadPositions(store)`.
   */
  positions?: UploadPositions;
  /** A position known otherwise: nothing at or before it is sent. */
  lastUploaded?: Date;
  /** Called whenever the position moves (after a batch Dexcom accepted). */
  onUploaded?: (progress: UploadProgress) => void;
  logger?: Logger;
}

export interface ServerTime {
  time: Date;
  offsetMinutes: number;
  /** Dexcom's clock minus ours, in ms (0 when the difference is below rounding noise). */
  skewMs: number;
}

export type ReceiverStatus = 'AssignedToYou' | 'NotAssigned' | (string & {});

const SECOND = 1_000;
const MINUTE = 60_000;
const DAY = 86_400_000;
/** Clock differences below this are round-trip noise; correcting them would move readings. */
const SKEW_THRESHOLD_MS = 2 * SECOND;

/**
 * The uploader side of Dexcom Share: receiver assignment, the remote monitoring session, runtime
 * info and EGV uploads. Uploads start after the position (the last reading Dexcom accepted for this
 * receiver, kept in the host's state store), keep readings at least the spacing apart, and keep a
 * batch that failed (sent again first, in order, on the next call): nothing is posted twice, no
 * flood of 1-minute readings, and network faults lose nothing. Calls to `upload` run one at a time.
 */
export class DexcomPublisher {
  private readonly client: DexcomClient;
  private readonly options: DexcomPublisherOptions;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private pending: Egv[] = [];
  /** Epoch ms of the last reading Dexcom accepted, with every reading before it (a watermark). */
  private position: number | undefined;
  /** Accepted readings newer than a reading still waiting: the position cannot pass them yet. */
  private readonly ahead = new Set<number>();
  private positionLoaded = false;
  private prepared = false;
  private skewMs: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** One look at Dexcom's own record per upload call, when a batch meets a duplicate. */
  private readBackUsed = false;

  constructor(client: DexcomClient, options: DexcomPublisherOptions = {}) {
    this.client = client;
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.batchSize = Math.max(1, Math.min(options.batchSize ?? 60, 288));
    this.position = options.lastUploaded?.getTime();
    checkSpacing(options.spacingMs);
  }

  get serial(): string {
    const serial = (this.options.serial ?? this.client.config.serial ?? '').trim().toUpperCase();
    if (!/^[A-Z0-9]{4,20}$/.test(serial)) {
      throw new CgmError('CONFIG', 'a receiver serial (letters and digits) is needed to upload to Dexcom', {
        hint: `give the ${field('serial')}: the receiver or transmitter registered with the Dexcom app`,
      });
    }
    return serial;
  }

  /** Readings waiting for a retry after a failed batch. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Dexcom's clock (GET General/SystemUtcTime) and how far ours is from it. */
  async systemUtcTime(): Promise<ServerTime> {
    const before = Date.now();
    const response = await this.client.call(ENDPOINTS.systemUtcTime, { method: 'GET', anonymous: true });
    const after = Date.now();
    const parsed = parseBody(systemUtcTimeSchema, response.json, `Dexcom ${ENDPOINTS.systemUtcTime}`);
    const raw = parsed.DateTime.ms - (before + after) / 2;
    const skewMs = Math.abs(raw) < SKEW_THRESHOLD_MS ? 0 : Math.round(raw / SECOND) * SECOND;
    this.skewMs = skewMs;
    return { time: new Date(parsed.DateTime.ms), offsetMinutes: parsed.OffsetMinutes, skewMs };
  }

  async receiverStatus(): Promise<ReceiverStatus> {
    const response = await this.client.call(ENDPOINTS.checkReceiver, {
      query: { serialNumber: this.serial },
    });
    return textAnswer(response, `Dexcom ${ENDPOINTS.checkReceiver}`);
  }

  /**
   * Makes sure the receiver belongs to this account. Another owner's receiver is taken over only
   * when the configuration allows it; a failed replace of a receiver that turns out to be ours
   * (Dexcom answers 500 then) is success.
   */
  async ensureReceiver(): Promise<void> {
    const status = await this.receiverStatus();
    if (status === 'AssignedToYou') return;
    if (!(this.options.takeOverReceiver ?? this.client.config.takeOverReceiver)) {
      throw new CgmError('CONFIG', `the receiver is not assigned to this Dexcom account (${status})`, {
        vendorCode: status,
        hint: `allow ${field('takeOverReceiver')}, or check the ${field('serial')}`,
      });
    }
    try {
      await this.client.call(ENDPOINTS.replaceReceiver, {
        query: { serialNumber: this.serial },
        retry: false,
      });
    } catch (error) {
      if ((await this.receiverStatus().catch(() => status)) !== 'AssignedToYou') throw error;
    }
    this.logger.info('Dexcom receiver assigned to this account');
  }

  async isMonitoringActive(): Promise<boolean> {
    const response = await this.client.call(ENDPOINTS.isMonitoringActive);
    return booleanAnswer(response, `Dexcom ${ENDPOINTS.isMonitoringActive}`);
  }

  async startMonitoring(): Promise<void> {
    await this.client.call(ENDPOINTS.startMonitoring, { query: { serialNumber: this.serial } });
  }

  async stopMonitoring(): Promise<void> {
    await this.client.call(ENDPOINTS.stopMonitoring);
  }

  async updateRuntimeInfo(): Promise<void> {
    const runtimeInfo = { ...defaultRuntimeInfo(), ...this.options.runtimeInfo };
    await this.client.call(ENDPOINTS.updateRuntimeInfo, {
      bodyWithSession: (sessionId) => ({ sessionId, runtimeInfo }),
    });
  }

  /** What an upload needs once: the clock, the receiver, the runtime info. */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    void this.serial; // a missing serial fails here, before any request
    await this.systemUtcTime();
    await this.ensureReceiver();
    await this.updateRuntimeInfo();
    this.prepared = true;
  }

  /**
   * Uploads the readings Dexcom does not have yet, oldest first, in batches, at least the spacing
   * apart. Every reading is judged before anything is sent (one impossible reading refuses the
   * call: CONFIG naming it). A batch that fails stays queued and goes first next time; the error is
   * thrown after the batches before it were recorded as accepted.
   */
  upload(readings: Iterable<UploadReading>, options: UploadOptions = {}): Promise<UploadResult> {
    let egvs: Egv[];
    let spacingMs: number;
    try {
      void this.serial;
      spacingMs = checkSpacing(options.spacingMs) ?? checkSpacing(this.options.spacingMs) ?? DEFAULT_SPACING;
      egvs = [...readings].map((reading, index) => toEgv(reading, index));
    } catch (error) {
      return Promise.reject(toCgmError(error));
    }
    const run = this.queue.then(() => this.uploadNow(egvs, spacingMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async uploadNow(egvs: Egv[], spacingMs: number): Promise<UploadResult> {
    const serial = this.serial;
    await this.loadPosition(serial);
    const known = egvs.filter((egv) => this.ahead.has(egv.time)).length;
    const plan = planUpload(
      egvs.filter((egv) => !this.ahead.has(egv.time)),
      this.pending,
      this.position,
      spacingMs,
    );
    this.pending = plan.queue;
    const result: UploadResult = {
      uploaded: 0,
      skipped: plan.skipped + known,
      batches: 0,
      lastUploaded: this.lastUploaded(),
    };
    if (this.pending.length === 0) return result;
    await this.prepare();
    this.readBackUsed = false;
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, this.batchSize);
      result.uploaded += await this.post(serial, batch);
      result.batches += 1;
      result.lastUploaded = this.lastUploaded();
    }
    return result;
  }

  /** Posts a batch; resolves with how many of its readings Dexcom now has. */
  private async post(serial: string, batch: Egv[]): Promise<number> {
    try {
      await this.postBatch(serial, batch);
    } catch (error) {
      if (!(error instanceof CgmError) || error.vendorCode !== DEXCOM_CODES.duplicateEgv) throw error;
      // One reading Dexcom already has is stored; a larger batch may still hold new ones.
      if (batch.length > 1) return this.resolveDuplicates(serial, batch);
    }
    await this.accepted(batch);
    return batch.length;
  }

  /**
   * Dexcom refused a batch because it already has some reading in it, and a server may refuse the
   * whole batch for that. Which ones it has, its own record says (one read from the batch on, once
   * per call; what it holds leaves the whole queue, so the later batches of a lost position cost
   * nothing); whatever that cannot settle is posted in halves, down to single readings, so no new
   * reading is lost.
   */
  private async resolveDuplicates(serial: string, batch: Egv[]): Promise<number> {
    const held = await this.heldByDexcom(batch);
    const known = held ? this.pending.filter((egv) => held.has(this.postedTime(egv))) : [];
    if (held && known.length > 0) {
      await this.accepted(known);
      const rest = batch.filter((egv) => !held.has(this.postedTime(egv)));
      this.logger.debug(`Dexcom already had ${known.length} of the readings to upload; posting the rest`);
      return known.length + (rest.length > 0 ? await this.post(serial, rest) : 0);
    }
    const half = Math.ceil(batch.length / 2);
    return (await this.post(serial, batch.slice(0, half))) + (await this.post(serial, batch.slice(half)));
  }

  /** The instants Dexcom holds over a batch's span (the publisher's own read), if it can tell. */
  private async heldByDexcom(batch: Egv[]): Promise<Set<number> | undefined> {
    if (this.readBackUsed) return undefined;
    this.readBackUsed = true;
    const oldest = Math.min(...batch.map((egv) => this.postedTime(egv)));
    const minutes = Math.min(MAX_MINUTES, Math.ceil((Date.now() + (this.skewMs ?? 0) - oldest) / MINUTE) + 1);
    try {
      const readings = await this.client.history({ minutes });
      return new Set(readings.map((reading) => reading.time.getTime()));
    } catch (error) {
      this.logger.debug(
        `Dexcom's own record could not be read (${toCgmError(error).code}); posting in halves`,
      );
      return undefined;
    }
  }

  private async postBatch(serial: string, batch: Egv[]): Promise<void> {
    const body = {
      SN: serial,
      Egvs: batch.map((egv) => ({
        Trend: egv.trend,
        ST: formatDexcomDate(this.postedTime(egv)),
        DT: formatDexcomDate(this.postedTime(egv)),
        Value: egv.value,
      })),
      TA: this.options.timeAdjustment ?? -5,
    };
    const post = () => this.client.call(ENDPOINTS.postEgvs, { body });
    try {
      await post();
    } catch (error) {
      if (!(error instanceof CgmError) || error.vendorCode !== DEXCOM_CODES.monitoringSessionNotActive) {
        throw error;
      }
      this.logger.info('Dexcom monitoring session not active; starting it');
      await this.startMonitoring();
      await post();
    }
  }

  /**
   * The instant Dexcom gets: the reading's own, except for readings this host's clock stamped, which
   * move by Dexcom's clock minus ours (a relayed reading keeps the instant its cloud gave it).
   */
  private postedTime(egv: Egv): number {
    const time = egv.hostClock ? egv.time + (this.skewMs ?? 0) : egv.time;
    return Math.floor(time / SECOND) * SECOND;
  }

  /** Dexcom has these: they leave the queue, and the position moves up to the first still waiting. */
  private async accepted(egvs: Egv[]): Promise<void> {
    const done = new Set(egvs.map((egv) => egv.time));
    this.pending = this.pending.filter((egv) => !done.has(egv.time));
    const firstWaiting = this.pending[0]?.time ?? Number.POSITIVE_INFINITY;
    for (const time of done) if (time > firstWaiting) this.ahead.add(time);
    const reached = Math.max(...[...done, ...this.ahead].filter((time) => time < firstWaiting));
    if (!Number.isFinite(reached) || (this.position !== undefined && reached <= this.position)) return;
    this.position = reached;
    for (const time of this.ahead) if (time <= reached) this.ahead.delete(time);
    if (this.options.positions) await this.options.positions.set(this.destination(), reached);
    try {
      this.options.onUploaded?.({ lastUploaded: new Date(reached), count: egvs.length });
    } catch (error) {
      this.logger.warn(`onUploaded failed: ${error instanceof Error ? error.message : 'error'}`);
    }
  }

  /** The stored position, once, before the first upload. */
  private async loadPosition(serial: string): Promise<void> {
    if (this.positionLoaded) return;
    this.positionLoaded = true;
    const stored = await this.options.positions?.get(`dexcom:${serial}`);
    if (stored !== undefined && (this.position === undefined || stored > this.position)) {
      this.position = stored;
    }
  }

  /** The state store's key of this publisher's position: one per receiver. */
  private destination(): string {
    return `dexcom:${this.serial}`;
  }

  private lastUploaded(): Date | undefined {
    return this.position === undefined ? undefined : new Date(this.position);
  }
}

const DEFAULT_SPACING = DEFAULT_UPLOAD_SPACING_MS;

/** A spacing from 0 to a day, in ms; CONFIG otherwise. */
function checkSpacing(spacingMs: number | undefined): number | undefined {
  if (spacingMs === undefined) return undefined;
  if (!Number.isFinite(spacingMs) || spacingMs < 0 || spacingMs > DAY) {
    throw new CgmError('CONFIG', 'the upload spacing must be from 0 to 86400 seconds', {
      hint: 'the default, 285 seconds (4 min 45 s), keeps one reading per 5-minute slot',
    });
  }
  return spacingMs;
}
