import { createHash } from 'node:crypto';
import { thresholdsSchema, type NightscoutConfig, type Thresholds } from '../../config';
import { DEFAULT_RETRY, type RetryPolicy } from '../../http/retry';
import { clientTransport, parseBody } from '../../http/transport';
import { CgmError } from '../../model/errors';
import { silentLogger, type Logger } from '../../model/logger';
import { mmolToMgdl, type GlucoseReading, type GlucoseUnit } from '../../model/reading';
import type {
  Cadence,
  CgmSource,
  ClientOptions,
  LoginInfo,
  SessionListener,
  Subject,
  SubjectDetails,
} from '../provider';
import {
  ENTRIES_PER_MINUTE,
  MAX_PAGES,
  NIGHTSCOUT_CADENCE,
  PATHS,
  V1_MAX_COUNT,
  V3_MAX_LIMIT,
} from './constants';
import { judgeEntry, medianSpacing, onePerMeasurement, type Candidate } from './entries';
import { NightscoutSite } from './site';
import { entryListSchema, statusSchema, v3SearchSchema, type StatusBody } from './schemas';

export interface NightscoutClientOptions extends ClientOptions {
  /** Backoff for transient failures (tests shorten it). */
  retry?: RetryPolicy;
}

/** A site's own display settings (`/api/v1/status.json`); thresholds in mg/dL. */
export interface NightscoutSiteSettings {
  /** `settings.customTitle`, else the status `name`. */
  title?: string;
  /** The unit the site displays (`mg/dl` → mgdl, `mmol` → mmol). */
  units: GlucoseUnit;
  /** The site's four lines: urgent high, target top, target bottom, urgent low (mg/dL). */
  thresholds?: { bgHigh?: number; bgTargetTop?: number; bgTargetBottom?: number; bgLow?: number };
  version?: string;
}

/** The newest entries `latest()` looks at: room for copies from several uploaders and odd records. */
const LATEST_COUNT = 10;
/** Instants handed out are remembered this long (a day of history plus margin). */
const KNOWN_FOR_MS = 26 * 3600_000;
/** Refused records are logged once; beyond this many remembered keys the memory starts over. */
const REFUSED_MEMORY = 1000;

/**
 * A Nightscout site as a source (API v1 `entries.json`, or v3 `/api/v3/entries`): the site is one
 * subject, its `sgv` entries are the readings. Readings come out oldest first, one per measurement
 * (several uploaders: the newest upload wins). The spacing seen in what it reads sets `cadence`.
 * Every method rejects only with `CgmError`: AUTH_INVALID (refused secret/token; never retried),
 * NOT_FOUND (wrong address, with a hint), CONFIG (redirect, permission), SERVER/NETWORK/TIMEOUT/
 * RATE_LIMITED (retried with backoff first), PROTOCOL (not a Nightscout answer).
 */
export class NightscoutClient implements CgmSource {
  readonly provider = 'nightscout' as const;
  readonly config: NightscoutConfig;
  /** The site as a subject id: stable for its address, and not the address (a readable site's URL is its key). */
  readonly subjectId: string;
  private readonly site: NightscoutSite;
  private readonly logger: Logger;
  private readonly known = new Map<number, number>();
  private readonly refused = new Set<string>();
  private title: string | undefined;
  /** The site's own limits as its status last gave them (for `thresholds: "cloud"`). */
  private limits: Thresholds | undefined;
  private settingsRead = false;
  private observed: number | undefined;
  private closed = false;

  constructor(config: NightscoutConfig, options: NightscoutClientOptions = {}) {
    this.config = config;
    this.logger = options.logger ?? silentLogger;
    this.subjectId = siteSubjectId(config.server);
    this.site = new NightscoutSite({
      server: config.server,
      token: config.token,
      apiSecret: config.apiSecret,
      api: config.api,
      timeoutMs: config.timeoutMs,
      transport: clientTransport(options.transport, this.logger, config.timeoutMs),
      logger: this.logger,
      retry: options.retry ?? DEFAULT_RETRY,
      loginGate: options.loginGate,
    });
  }

  /** Nightscout's cadence, its reading interval following the spacing observed in `history()`. */
  get cadence(): Cadence {
    const interval = this.observed ?? NIGHTSCOUT_CADENCE.readingIntervalMs;
    return { ...NIGHTSCOUT_CADENCE, readingIntervalMs: interval, latestIntervalMs: interval };
  }

  /** The median spacing of the readings last read (ms), or `undefined` before enough were read. */
  get observedIntervalMs(): number | undefined {
    return this.observed;
  }

  /** Checks the address and the secret (status read, JWT exchanged on v3) and names the site. */
  async login(): Promise<LoginInfo> {
    await this.siteSettings();
    return { provider: 'nightscout', region: this.config.api, subjects: await this.subjects() };
  }

  async subjects(): Promise<Subject[]> {
    // The site's thresholds come with its status; read once even when the name is configured.
    if (!this.settingsRead) await this.siteSettings().catch(() => undefined);
    return this.subjectName().then((name) => [{ id: this.subjectId, name }]);
  }

  /** The site's thresholds (bgLow, bgTargetBottom, bgTargetTop) as its status last gave them. */
  details(subject: string): SubjectDetails | undefined {
    if (subject !== this.subjectId || !this.limits) return undefined;
    return { targets: { ...this.limits } };
  }

  /** The newest reading on the site, or `null` when it has none. */
  async latest(subject?: string): Promise<GlucoseReading | null> {
    await this.checkSubject(subject);
    const raw = await this.readPage({ count: LATEST_COUNT });
    const readings = this.toReadings(raw);
    this.observe(readings);
    return readings[readings.length - 1] ?? null;
  }

  /** Readings of the last `minutes` (at most a day is typical), oldest first, one per measurement. */
  async history(options: { minutes: number; subject?: string }): Promise<GlucoseReading[]> {
    await this.checkSubject(options.subject);
    if (!(options.minutes > 0)) return [];
    const since = Date.now() - Math.ceil(options.minutes) * 60_000;
    const pageSize = Math.min(
      this.config.api === 'v3' ? V3_MAX_LIMIT : V1_MAX_COUNT,
      Math.ceil(options.minutes * ENTRIES_PER_MINUTE) + LATEST_COUNT,
    );
    const raw: unknown[] = [];
    let before: number | undefined;
    for (let page = 0; ; page += 1) {
      const entries = await this.readPage({ count: pageSize, since, before });
      raw.push(...entries);
      const oldest = oldestDate(entries);
      if (entries.length < pageSize || oldest === undefined || oldest <= since) break;
      if (page + 1 >= MAX_PAGES) {
        this.logger.warn(`Nightscout history: stopped after ${MAX_PAGES} pages of ${pageSize} entries`);
        break;
      }
      before = oldest;
    }
    const readings = this.toReadings(raw).filter((r) => r.time.getTime() >= since);
    this.observe(readings);
    return readings;
  }

  /** The site's units, thresholds and title (`GET /api/v1/status.json`). */
  async siteSettings(): Promise<NightscoutSiteSettings> {
    const response = await this.site.request({
      method: 'GET',
      path: PATHS.status,
      what: 'Nightscout status',
    });
    const settings = toSiteSettings(parseBody(statusSchema, response.json, 'Nightscout status'));
    if (settings.title) this.title = settings.title;
    this.settingsRead = true;
    this.limits = siteThresholds(settings);
    return settings;
  }

  /** Nightscout stores no session worth keeping: a JWT is exchanged again in one request. */
  onSession(_listener: SessionListener): () => void {
    return () => undefined;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  // ---- reading --------------------------------------------------------------------------------

  /** One page of `sgv` entries, newest first: v1 `find[...]`/`count`, v3 `field$op`/`limit`. */
  private async readPage(window: { count: number; since?: number; before?: number }): Promise<unknown[]> {
    if (this.closed) throw new CgmError('CONFIG', 'Nightscout: the client was closed');
    if (this.config.api === 'v3') {
      const response = await this.site.request({
        method: 'GET',
        path: PATHS.entriesV3,
        query: {
          type: 'sgv',
          sort$desc: 'date',
          limit: window.count,
          ...(window.since === undefined ? {} : { date$gte: window.since }),
          ...(window.before === undefined ? {} : { date$lt: window.before }),
        },
        what: 'Nightscout v3 entries',
      });
      return parseBody(v3SearchSchema, response.json, 'Nightscout v3 entries').result;
    }
    const response = await this.site.request({
      method: 'GET',
      path: PATHS.entries,
      query: {
        'find[type]': 'sgv',
        count: window.count,
        ...(window.since === undefined ? {} : { 'find[date][$gte]': window.since }),
        ...(window.before === undefined ? {} : { 'find[date][$lt]': window.before }),
      },
      what: 'Nightscout entries',
    });
    return parseBody(entryListSchema, response.json, 'Nightscout entries');
  }

  private toReadings(raw: readonly unknown[]): GlucoseReading[] {
    const now = Date.now();
    const candidates: Candidate[] = [];
    for (const record of raw) {
      const verdict = judgeEntry(record, this.subjectId, now);
      if (verdict.kind === 'reading') candidates.push(verdict.candidate);
      else if (verdict.kind === 'refused') this.refuse(verdict.key, verdict.reason);
    }
    const readings = onePerMeasurement(candidates, new Set(this.known.keys()));
    this.remember(readings, now);
    return readings;
  }

  /** The uploader decides the spacing: the median step of what was just read sets the cadence. */
  private observe(readings: readonly GlucoseReading[]): void {
    const spacing = medianSpacing(readings);
    if (spacing === undefined || spacing === this.observed) return;
    this.logger.debug(`Nightscout: readings arrive every ${Math.round(spacing / 1000)} s`);
    this.observed = spacing;
  }

  /** Instants handed out, so that a copy a few seconds off keeps the instant seen first. */
  private remember(readings: readonly GlucoseReading[], now: number): void {
    for (const reading of readings) this.known.set(reading.time.getTime(), now);
    for (const [instant] of this.known) {
      if (instant < now - KNOWN_FOR_MS) this.known.delete(instant);
    }
  }

  private refuse(key: string, reason: string): void {
    if (this.refused.has(key)) return;
    if (this.refused.size >= REFUSED_MEMORY) this.refused.clear();
    this.refused.add(key);
    this.logger.warn(`Nightscout: PROTOCOL: an entry was dropped: ${this.site.redactor.clean(reason)}`);
  }

  private async subjectName(): Promise<string> {
    if (this.config.name) return this.config.name;
    if (!this.title) await this.siteSettings();
    // Not the host name: the address of a readable site is all it takes to read it.
    return this.title ?? 'Nightscout';
  }

  private async checkSubject(subject: string | undefined): Promise<void> {
    if (subject === undefined || subject === this.subjectId) return;
    const name = await this.subjectName();
    if (subject.trim().toLowerCase() === name.trim().toLowerCase()) return;
    throw new CgmError('NOT_FOUND', `this Nightscout site is "${name}", not the subject asked for`, {
      hint: 'a Nightscout site has one subject: leave the subject out or use its name',
    });
  }
}

/** A stable subject id for a site: a hash of its address (lowercase host, path kept). */
export function siteSubjectId(server: string): string {
  let key = server.trim().replace(/\/+$/, '');
  try {
    const url = new URL(key);
    key = `${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, '')}`;
  } catch {
    // Left as written; the config schema only lets URLs through.
  }
  return `nightscout-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`;
}

/** GlucoBridge's urgent low / low / high from a site's `bgLow` / `bgTargetBottom` / `bgTargetTop`. */
export function siteThresholds(settings: NightscoutSiteSettings): Thresholds | undefined {
  const t = settings.thresholds;
  if (!t || t.bgLow === undefined || t.bgTargetBottom === undefined || t.bgTargetTop === undefined) {
    return undefined;
  }
  const parsed = thresholdsSchema.safeParse({
    urgentLow: t.bgLow,
    low: t.bgTargetBottom,
    high: t.bgTargetTop,
  });
  return parsed.success ? parsed.data : undefined;
}

function toSiteSettings(body: StatusBody): NightscoutSiteSettings {
  const units: GlucoseUnit = /mmol/i.test(body.settings?.units ?? '') ? 'mmol' : 'mgdl';
  const raw = body.settings?.thresholds;
  const settings: NightscoutSiteSettings = { units };
  const title = body.settings?.customTitle?.trim() || body.name?.trim();
  if (title) settings.title = title;
  if (body.version) settings.version = body.version;
  if (raw) {
    // The server converts mmol/L thresholds to mg/dL; a value under 50 on a mmol site was not converted.
    const mgdl = (value: number | undefined) =>
      value === undefined || !Number.isFinite(value)
        ? undefined
        : units === 'mmol' && value < 50
          ? mmolToMgdl(value)
          : Math.round(value);
    const thresholds: NonNullable<NightscoutSiteSettings['thresholds']> = {};
    const bgHigh = mgdl(raw.bgHigh);
    const bgTargetTop = mgdl(raw.bgTargetTop);
    const bgTargetBottom = mgdl(raw.bgTargetBottom);
    const bgLow = mgdl(raw.bgLow);
    if (bgHigh !== undefined) thresholds.bgHigh = bgHigh;
    if (bgTargetTop !== undefined) thresholds.bgTargetTop = bgTargetTop;
    if (bgTargetBottom !== undefined) thresholds.bgTargetBottom = bgTargetBottom;
    if (bgLow !== undefined) thresholds.bgLow = bgLow;
    settings.thresholds = thresholds;
  }
  return settings;
}

function oldestDate(entries: readonly unknown[]): number | undefined {
  let oldest: number | undefined;
  for (const entry of entries) {
    const date = entry && typeof entry === 'object' ? (entry as { date?: unknown }).date : undefined;
    const ms = typeof date === 'number' ? date : typeof date === 'string' ? Number(date) : NaN;
    if (Number.isFinite(ms) && (oldest === undefined || ms < oldest)) oldest = ms;
  }
  return oldest;
}
