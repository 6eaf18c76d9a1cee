import type { VitaDockConfig } from '../../config';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from '../../http/retry';
import { clientTransport, type HttpTransport, parseBody, type HttpResponse } from '../../http/transport';
import { CgmError, toCgmError } from '../../model/errors';
import type { Logger } from '../../model/logger';
import { silentLogger } from '../../model/logger';
import type { Measurement } from '../../model/measurement';
import { sortAndDedupe, type GlucoseReading } from '../../model/reading';
import type {
  Cadence,
  CgmSource,
  ClientOptions,
  LoginInfo,
  SessionListener,
  SessionState,
  Subject,
} from '../provider';
import {
  DAY_MS,
  GLUCOSE_MODULE,
  MINUTE_MS,
  REAUTHORISE_HINT,
  SYNC_OVERLAP_MS,
  VITADOCK_SERVER,
  type VitaDockDataModule,
} from './constants';
import { vitaDockAccount } from './account';
import { vitaDockError, type CallKind } from './errors';
import { ModuleMirror } from './mirror';
import { glucoseReading, isMeasurementModule, resolveModule, toMeasurement } from './modules';
import type { OAuthCredentials } from './oauth1';
import { readPages } from './paging';
import { dropRefused } from '../records';
import { SignedHttp } from './signed-http';
import {
  RECORD_SCHEMAS,
  countSchema,
  formFields,
  tokenPairSchema,
  type GlucoseRecord,
  type RecordOf,
  type TokenPair,
} from './schemas';
import { verifierFrom } from './verifier';

/** GlucoDock meters are read by hand a few times a day; polling every 15 minutes is plenty. */
export const VITADOCK_CADENCE: Cadence = {
  readingIntervalMs: 15 * MINUTE_MS,
  latestIntervalMs: 15 * MINUTE_MS,
  lagMs: 0,
  /** What the poller backfills at most; an explicit `history`/`measurements` call reads any span. */
  maxHistoryMinutes: 30 * 24 * 60,
  continuous: false,
};

/** How far back `latest()` looks on its first sync. */
const LATEST_WINDOW_MS = 7 * DAY_MS;

export interface VitaDockClientOptions extends ClientOptions {
  /** Backoff for data reads (tests shorten it). */
  retry?: RetryPolicy;
  /** The clock for timestamps and windows (default Date.now, so fake timers drive it). */
  now?: () => number;
}

/** What the user opens in a browser to grant access. */
export interface AuthorizationRequest {
  /** The unauthorised request token (short-lived; it is part of the URLs). */
  requestToken: string;
  /** The consent page for an existing VitaDock account. */
  authorizeUrl: string;
  /** The registration page for someone without an account. */
  signupUrl: string;
}

/** One `/sync` round of a module: what is new or changed, and what was deleted. */
export interface SyncResult {
  module: VitaDockDataModule;
  readings: GlucoseReading[];
  measurements: Measurement[];
  deletedIds: string[];
}

interface Pair {
  token: string;
  secret: string;
}

export { vitaDockAccount };

/** VitaDock Online: the OAuth dance, glucose as readings, the other modules as measurements. */
export class VitaDockClient implements CgmSource {
  readonly provider = 'vitadock' as const;
  readonly cadence = VITADOCK_CADENCE;
  readonly subject: string;
  /** The module `measurements()` reads when none is named, and the glucose module check. */
  readonly module: VitaDockDataModule;
  private readonly server: string;
  private readonly transport: HttpTransport;
  private readonly logger: Logger;
  private readonly retry: RetryPolicy;
  private readonly now: () => number;
  private readonly http: SignedHttp;
  private readonly listeners = new Set<SessionListener>();
  private readonly pending = new Map<string, string>();
  private readonly mirrors = new Map<VitaDockDataModule, ModuleMirror>();
  private device: Pair | undefined;
  private access: Pair | undefined;
  private lastRequestToken: string | undefined;
  /** Set by a 401 on data: no further data call until new tokens arrive. */
  private blocked: CgmError | undefined;

  constructor(
    private readonly config: VitaDockConfig,
    options: VitaDockClientOptions = {},
  ) {
    this.server = (config.server ?? VITADOCK_SERVER).replace(/\/+$/, '');
    this.subject = config.name ?? 'vitadock';
    this.module = resolveModule(config.module);
    this.logger = options.logger ?? silentLogger;
    this.transport = clientTransport(options.transport, this.logger, config.timeoutMs);
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.now = options.now ?? (() => Date.now());
    this.http = new SignedHttp(this.server, this.transport, this.now);
    this.transport.redactor.add(config.consumerKey, config.consumerSecret, config.deviceId);
    this.restore(options.session);
  }

  // ---- CgmSource --------------------------------------------------------------------------------

  async login(): Promise<LoginInfo> {
    return this.guard(async () => {
      await this.count(this.module, 0);
      return { provider: 'vitadock', region: new URL(this.server).host, subjects: this.subjectList() };
    });
  }

  async latest(subject?: string): Promise<GlucoseReading | null> {
    return this.guard(async () => {
      this.checkSubject(subject);
      const module = this.glucoseModule();
      await this.sync(module);
      const newest = this.mirror(module).newest() as GlucoseRecord | undefined;
      return newest ? glucoseReading(newest, this.subject) : null;
    });
  }

  async history(options: { minutes: number; subject?: string }): Promise<GlucoseReading[]> {
    return this.guard(async () => {
      this.checkSubject(options.subject);
      const since = this.since(options.minutes);
      const records = await this.list(this.glucoseModule(), since);
      return sortAndDedupe(records.map((r) => glucoseReading(r, this.subject)));
    });
  }

  async subjects(): Promise<Subject[]> {
    return Promise.resolve(this.subjectList());
  }

  onSession(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.http.close();
  }

  // ---- data -------------------------------------------------------------------------------------

  /** Non-glucose measurements of the last `minutes`, oldest first, deleted ones left out. */
  async measurements(options: { module?: string; minutes: number }): Promise<Measurement[]> {
    return this.guard(async () => {
      const module = options.module === undefined ? this.module : resolveModule(options.module);
      if (!isMeasurementModule(module)) {
        throw new CgmError('CONFIG', `${module} holds glucose readings`, { hint: 'read it with history()' });
      }
      const since = this.since(options.minutes);
      const records = await this.list(module, since);
      return records
        .map((record) => toMeasurement(module, record, this.subject))
        .sort((a, b) => a.time.getTime() - b.time.getTime());
    });
  }

  /** How many entries a module has measured since `sinceMs` (epoch ms). */
  async count(module: string, sinceMs = 0): Promise<number> {
    return this.guard(async () => {
      const name = resolveModule(module);
      const response = await this.dataCall(`/data/${name}/count`, { date_since: Math.floor(sinceMs) });
      return parseBody(countSchema, response.text, `VitaDock ${name}/count`);
    });
  }

  /**
   * Brings the local copy of a module up to date through `/sync` (what a push notification asks
   * for) and tells what changed. The first round reads the last week.
   */
  async sync(module: string): Promise<SyncResult> {
    return this.guard(async () => {
      const name = resolveModule(module);
      const mirror = this.mirror(name);
      const since =
        mirror.cursor === undefined ? this.now() - LATEST_WINDOW_MS : mirror.cursor - SYNC_OVERLAP_MS;
      const records = await this.pages(name, '/sync', since);
      const change = mirror.apply(records);
      mirror.touch(since);
      mirror.prune(this.now() - this.cadence.maxHistoryMinutes * MINUTE_MS);
      const upserted = [...change.upserted].sort((a, b) => a.measurementDate - b.measurementDate);
      return {
        module: name,
        readings: isMeasurementModule(name)
          ? []
          : sortAndDedupe(upserted.map((r) => glucoseReading(r as GlucoseRecord, this.subject))),
        measurements: isMeasurementModule(name)
          ? upserted.map((r) => toMeasurement(name, r, this.subject))
          : [],
        deletedIds: change.deletedIds,
      };
    });
  }

  // ---- authorisation ----------------------------------------------------------------------------

  /** Registers this installation as a device (apps registered as "Mobile"); needs `deviceId`. */
  async registerDevice(): Promise<void> {
    return this.guard(async () => {
      const deviceId = this.config.deviceId;
      if (!deviceId) throw new CgmError('CONFIG', 'VitaDock: no deviceId configured for device registration');
      const response = await this.http.call({
        method: 'POST',
        path: '/auth/devices',
        credentials: this.appCredentials(),
        headers: { device_id: deviceId },
      });
      const pair = this.tokenPair(response, 'VitaDock device registration', 'consumer');
      this.device = { token: pair.oauth_token, secret: pair.oauth_token_secret };
    });
  }

  /** Step 1: a request token and the pages where the user grants access. */
  async requestAuthorization(): Promise<AuthorizationRequest> {
    return this.guard(async () => {
      await this.ensureDevice();
      const response = await this.http.call({
        method: 'POST',
        path: '/auth/unauthorizedaccesses',
        credentials: this.consumerCredentials(),
      });
      const pair = this.tokenPair(response, 'VitaDock request token', 'consumer');
      this.pending.set(pair.oauth_token, pair.oauth_token_secret);
      this.lastRequestToken = pair.oauth_token;
      const token = encodeURIComponent(pair.oauth_token);
      return {
        requestToken: pair.oauth_token,
        authorizeUrl: `${this.server}/desiredaccessrights/request?oauth_token=${token}`,
        signupUrl: `${this.server}/signup?oauth_token=${token}`,
      };
    });
  }

  /**
   * Step 2: trades the verifier (the callback URL or query, or the code the user pasted) for the
   * access token, emits it as a session and returns it.
   */
  async authorize(verifierOrCallback: string, requestToken?: string): Promise<SessionState> {
    return this.guard(async () => {
      const found = verifierFrom(verifierOrCallback);
      const token = requestToken ?? found.requestToken ?? this.lastRequestToken;
      const secret = token === undefined ? undefined : this.pending.get(token);
      if (token === undefined || secret === undefined) {
        throw new CgmError('CONFIG', 'VitaDock: no authorisation is in progress for this verifier', {
          hint: 'request the authorisation URL again and use the verifier it leads to',
        });
      }
      this.transport.redactor.add(found.verifier);
      const response = await this.http.call({
        method: 'POST',
        path: '/auth/accesses/verify',
        credentials: { ...this.consumerCredentials(), token, tokenSecret: secret, verifier: found.verifier },
      });
      const pair = this.tokenPair(response, 'VitaDock access token', 'verify');
      this.pending.delete(token);
      this.access = { token: pair.oauth_token, secret: pair.oauth_token_secret };
      this.blocked = undefined;
      this.mirrors.clear();
      const state = this.sessionState();
      if (state) this.emit(state);
      return state as SessionState;
    });
  }

  /** Invalidates the access token at VitaDock and forgets it here. */
  async logout(): Promise<void> {
    return this.guard(async () => {
      const access = this.requireAccess();
      const response = await this.http.call({
        method: 'POST',
        path: '/auth/accesses/logout',
        credentials: { ...this.consumerCredentials(), token: access.token, tokenSecret: access.secret },
      });
      // 401: the token was already dead, which is what logout wants.
      if (response.status !== 401 && (response.status < 200 || response.status >= 300)) {
        throw vitaDockError(response, 'VitaDock logout', 'data');
      }
      this.access = undefined;
      this.mirrors.clear();
    });
  }

  /** The tokens worth persisting now, if authorised. */
  sessionState(): SessionState | undefined {
    if (!this.access) return undefined;
    const data: Record<string, string> = { accessToken: this.access.token, accessSecret: this.access.secret };
    if (this.device)
      Object.assign(data, { deviceToken: this.device.token, deviceSecret: this.device.secret });
    return {
      provider: 'vitadock',
      account: vitaDockAccount(this.config.consumerKey, this.access.token),
      data,
    };
  }

  // ---- internals --------------------------------------------------------------------------------

  private restore(session: SessionState | undefined): void {
    const { accessToken, accessSecret } = this.config;
    if (accessToken && accessSecret) this.access = { token: accessToken, secret: accessSecret };
    if (session?.provider === 'vitadock') {
      const { data } = session;
      const text = (key: string) => (typeof data[key] === 'string' ? data[key] : undefined);
      const token = text('accessToken');
      const secret = text('accessSecret');
      if (token && secret && vitaDockAccount(this.config.consumerKey, token) === session.account) {
        // Explicit tokens in the configuration win over a stored session.
        this.access ??= { token, secret };
        const deviceToken = text('deviceToken');
        const deviceSecret = text('deviceSecret');
        if (deviceToken && deviceSecret) this.device = { token: deviceToken, secret: deviceSecret };
      } else {
        this.logger.warn('VitaDock: ignoring a stored session that belongs to another application');
      }
    }
    this.transport.redactor.add(
      this.access?.token,
      this.access?.secret,
      this.device?.token,
      this.device?.secret,
    );
  }

  private emit(state: SessionState): void {
    for (const listener of this.listeners) {
      try {
        listener(state);
      } catch (error) {
        this.logger.warn(`VitaDock: a session listener failed: ${toCgmError(error).message}`);
      }
    }
  }

  private subjectList(): Subject[] {
    return [{ id: this.subject, name: this.subject }];
  }

  private checkSubject(subject: string | undefined): void {
    if (subject !== undefined && subject !== this.subject) {
      throw new CgmError('NOT_FOUND', `VitaDock: no subject "${subject}" in this account`, {
        hint: `this account reads "${this.subject}"`,
      });
    }
  }

  private glucoseModule(): typeof GLUCOSE_MODULE {
    if (this.module !== GLUCOSE_MODULE) {
      throw new CgmError('CONFIG', `VitaDock module ${this.module} has no glucose readings`, {
        hint: `set module to ${GLUCOSE_MODULE} for glucose, or read ${this.module} with measurements()`,
      });
    }
    return GLUCOSE_MODULE;
  }

  /**
   * The instant `minutes` ago. Not capped: scales, cuffs and thermometers are used weekly or less and
   * their owners want the whole record (paging reads years); the poller keeps its own 30-day cap.
   */
  private since(minutes: number): number {
    if (!Number.isFinite(minutes) || minutes <= 0) {
      throw new CgmError('CONFIG', 'minutes must be a positive number');
    }
    return Math.max(0, Math.floor(this.now() - minutes * MINUTE_MS));
  }

  private mirror(module: VitaDockDataModule): ModuleMirror {
    let mirror = this.mirrors.get(module);
    if (!mirror) {
      mirror = new ModuleMirror();
      this.mirrors.set(module, mirror);
    }
    return mirror;
  }

  /** Active records measured since `since`, all pages, deduplicated by id. */
  private async list<M extends VitaDockDataModule>(module: M, since: number): Promise<RecordOf[M][]> {
    const records = await this.pages(module, '', since);
    return records.filter((r) => r.active && r.measurementDate >= since);
  }

  /** Every page of `/data/<module>[/sync]` since `since`. */
  private async pages<M extends VitaDockDataModule>(
    module: M,
    endpoint: '' | '/sync',
    since: number,
  ): Promise<RecordOf[M][]> {
    const path = `/data/${module}${endpoint}`;
    const fetchPage = async (start: number, max: number) =>
      (await this.dataCall(path, { start, max, date_since: Math.floor(since) })).json;
    const what = `VitaDock ${module}${endpoint}`;
    const records = await readPages(fetchPage, RECORD_SCHEMAS[module], what, this.logger);
    if (isMeasurementModule(module)) return records;
    // Glucose records enter the local copy only when the reading rules accept them (deletions always).
    const plausible = (record: RecordOf[M]) => {
      if (record.active) glucoseReading(record as GlucoseRecord, this.subject);
      return record;
    };
    return dropRefused(records, plausible, what, this.logger);
  }

  /** A signed GET of a data endpoint: retried when transient, blocked for good after a 401. */
  private async dataCall(path: string, query: Record<string, number>): Promise<HttpResponse> {
    const what = `VitaDock ${path.replace(/^\/data\//, '')}`;
    return withRetry(
      async () => {
        if (this.blocked) throw this.blocked;
        const access = this.requireAccess();
        await this.ensureDevice();
        const response = await this.http.call({
          method: 'GET',
          path,
          query,
          credentials: { ...this.consumerCredentials(), token: access.token, tokenSecret: access.secret },
        });
        if (response.status === 200) return response;
        const error = vitaDockError(response, what, 'data');
        if (error.code === 'AUTH_INVALID') {
          this.blocked = error;
          this.logger.warn(
            `${what}: access token rejected; not calling VitaDock again until authorised anew`,
          );
        }
        throw error;
      },
      this.retry,
      this.http.signal,
    );
  }

  private requireAccess(): Pair {
    if (this.access) return this.access;
    throw new CgmError('AUTH_INVALID', 'VitaDock: this account is not authorised yet', {
      hint: REAUTHORISE_HINT.replace('again ', ''),
    });
  }

  private async ensureDevice(): Promise<void> {
    if (this.config.deviceId && !this.device) await this.registerDevice();
  }

  private appCredentials(): OAuthCredentials {
    return { consumerKey: this.config.consumerKey, consumerSecret: this.config.consumerSecret };
  }

  /** The device pair replaces the application pair once the device is registered. */
  private consumerCredentials(): OAuthCredentials {
    return this.device
      ? { consumerKey: this.device.token, consumerSecret: this.device.secret }
      : this.appCredentials();
  }

  private tokenPair(response: HttpResponse, what: string, kind: CallKind): TokenPair {
    if (response.status !== 200) throw vitaDockError(response, what, kind);
    const pair = parseBody(tokenPairSchema, formFields(response.text), what);
    this.transport.redactor.add(pair.oauth_token, pair.oauth_token_secret);
    return pair;
  }

  /** Every public method rejects only with CgmError. */
  private async guard<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } catch (error) {
      throw toCgmError(error);
    }
  }
}
