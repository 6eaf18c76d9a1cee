import { parseBody } from '../../http/transport';
import { field } from '../../model/fields';
import { CgmError } from '../../model/errors';
import { silentLogger, type Logger } from '../../model/logger';
import { checkMgdl, instantProblem, METER_RANGE } from '../../model/plausible';
import { dexcomTrendCode, type Trend } from '../../model/trend';
import { VERSION } from '../../version';
import type { DexcomClient } from './client';
import { ENDPOINTS } from './constants';
import { DEXCOM_CODES } from './errors';
import { booleanAnswer, systemUtcTimeSchema, textAnswer } from './schemas';
import { formatDexcomDate } from './timestamp';

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

/** A reading to upload: the same fields `glucobridge read --json` prints. */
export interface UploadReading {
  time: Date;
  mgdl: number;
  trend?: Trend;
}

export interface UploadResult {
  /** Readings posted (or already stored at Dexcom) by this call. */
  sent: number;
  /** Readings skipped because they were sent before. */
  skipped: number;
  batches: number;
  /** The newest reading Dexcom has from this publisher. */
  lastUploaded: Date | undefined;
}

export interface UploadProgress {
  lastUploaded: Date;
  /** How many readings the batch held. */
  count: number;
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
  /** The newest reading a previous run uploaded (from `onUploaded`): nothing at or before it is sent again. */
  lastUploaded?: Date;
  /** Called after every batch Dexcom accepted, so hosts can persist the progress. */
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

interface Egv {
  time: number;
  value: number;
  trend: number;
}

const SECOND = 1_000;
const DAY = 86_400_000;
/** Clock differences below this are round-trip noise; correcting them would move readings. */
const SKEW_THRESHOLD_MS = 2 * SECOND;

/**
 * The uploader side of Dexcom Share: receiver assignment, the remote monitoring session, runtime
 * info and EGV uploads. It keeps what it sent (nothing is posted twice) and a batch that failed
 * (sent again first, in order, on the next call), so network faults lose nothing.
 */
export class DexcomPublisher {
  private readonly client: DexcomClient;
  private readonly options: DexcomPublisherOptions;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly sent = new Set<number>();
  private pending: Egv[] = [];
  private watermark: number;
  private lastUploadedMs: number | undefined;
  private prepared = false;
  private skewMs: number | undefined;

  constructor(client: DexcomClient, options: DexcomPublisherOptions = {}) {
    this.client = client;
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    this.batchSize = Math.max(1, Math.min(options.batchSize ?? 60, 288));
    this.watermark = options.lastUploaded?.getTime() ?? Number.NEGATIVE_INFINITY;
    this.lastUploadedMs = options.lastUploaded?.getTime();
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
   * Uploads the readings Dexcom does not have yet, oldest first, in batches. A batch that fails
   * stays queued and goes first next time; the error is thrown after the batches before it were
   * recorded as sent.
   */
  async upload(readings: Iterable<UploadReading>): Promise<UploadResult> {
    const serial = this.serial;
    let skipped = 0;
    const queued = new Map<number, Egv>(this.pending.map((egv) => [egv.time, egv]));
    // Every reading is judged before anything is queued or sent: one impossible reading refuses all.
    const egvs = [...readings].map((reading, index) => toEgv(reading, index));
    for (const egv of egvs) {
      if (this.sent.has(egv.time) || egv.time <= this.watermark) skipped += 1;
      else if (!queued.has(egv.time)) queued.set(egv.time, egv);
    }
    this.pending = [...queued.values()].sort((a, b) => a.time - b.time);
    const result: UploadResult = { sent: 0, skipped, batches: 0, lastUploaded: this.lastUploaded() };
    if (this.pending.length === 0) return result;
    await this.prepare();
    while (this.pending.length > 0) {
      const batch = this.pending.slice(0, this.batchSize);
      await this.postBatch(serial, batch);
      this.pending = this.pending.slice(batch.length);
      this.remember(batch);
      result.sent += batch.length;
      result.batches += 1;
      result.lastUploaded = this.lastUploaded();
    }
    return result;
  }

  private async postBatch(serial: string, batch: Egv[]): Promise<void> {
    const skew = this.skewMs ?? 0;
    const body = {
      SN: serial,
      Egvs: batch.map((egv) => ({
        Trend: egv.trend,
        ST: formatDexcomDate(egv.time + skew),
        DT: formatDexcomDate(egv.time + skew),
        Value: egv.value,
      })),
      TA: this.options.timeAdjustment ?? -5,
    };
    const post = () => this.client.call(ENDPOINTS.postEgvs, { body });
    try {
      await post();
    } catch (error) {
      if (!(error instanceof CgmError)) throw error;
      if (error.vendorCode === DEXCOM_CODES.duplicateEgv) return; // already stored: success
      if (error.vendorCode !== DEXCOM_CODES.monitoringSessionNotActive) throw error;
      this.logger.info('Dexcom monitoring session not active; starting it');
      await this.startMonitoring();
      try {
        await post();
      } catch (again) {
        if (!(again instanceof CgmError) || again.vendorCode !== DEXCOM_CODES.duplicateEgv) throw again;
      }
    }
  }

  private remember(batch: Egv[]): void {
    for (const egv of batch) this.sent.add(egv.time);
    const newest = batch[batch.length - 1]!.time;
    if (this.lastUploadedMs === undefined || newest > this.lastUploadedMs) this.lastUploadedMs = newest;
    // Dexcom keeps a day; older memories can go.
    for (const time of this.sent) if (time < this.lastUploadedMs - 2 * DAY) this.sent.delete(time);
    try {
      this.options.onUploaded?.({ lastUploaded: new Date(this.lastUploadedMs), count: batch.length });
    } catch (error) {
      this.logger.warn(`onUploaded failed: ${error instanceof Error ? error.message : 'error'}`);
    }
  }

  private lastUploaded(): Date | undefined {
    return this.lastUploadedMs === undefined ? undefined : new Date(this.lastUploadedMs);
  }
}

/**
 * A reading as Dexcom stores it, by the same rules as readings read from a cloud: an instant from
 * 2000 to a day ahead, and a value some glucose device can report (20–600 mg/dL, a meter's range),
 * stored as an integer in 39–401 (39 is LOW and 401 HIGH to every Dexcom app). Anything else is a
 * CONFIG error naming the reading and the field.
 */
function toEgv(reading: UploadReading, index: number): Egv {
  const where = `readings[${index}]`;
  const hint = 'each reading needs a time since 2000, not in the future, and a value of 20–600 mg/dL';
  const time = reading.time instanceof Date ? reading.time : new Date(Number.NaN);
  const late = instantProblem(time);
  if (late) throw new CgmError('CONFIG', `${where}.time ${late}`, { hint });
  const value = checkMgdl(reading.mgdl, undefined, METER_RANGE);
  if (!value.ok) throw new CgmError('CONFIG', `${where}.mgdl ${value.problem}`, { hint });
  return {
    time: Math.floor(time.getTime() / SECOND) * SECOND,
    value: value.mgdl,
    trend: Math.max(0, dexcomTrendCode(reading.trend ?? 'none')),
  };
}
