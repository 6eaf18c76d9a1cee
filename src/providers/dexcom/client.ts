import { createHash } from 'node:crypto';
import { field } from '../../model/fields';
import type { DexcomConfig } from '../../config';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from '../../http/retry';
import type { Redactor } from '../../http/redact';
import { clientTransport, type HttpTransport, parseBody, type HttpResponse } from '../../http/transport';
import { CgmError, toCgmError } from '../../model/errors';
import { silentLogger, type Logger } from '../../model/logger';
import { DEXCOM_RANGE, dexcomPlaceholder } from '../../model/plausible';
import { makeReading, sortAndDedupe, type GlucoseReading } from '../../model/reading';
import { dexcomTrend } from '../../model/trend';
import type {
  Cadence,
  CgmSource,
  ClientOptions,
  LoginInfo,
  SessionListener,
  SessionState,
  Subject,
} from '../provider';
import { readingsFrom, recordList } from '../records';
import {
  DEXCOM_CADENCE,
  DEXCOM_REGION_INFO,
  ENDPOINTS,
  MAX_COUNT,
  MAX_MINUTES,
  MAX_LOGIN_BYTES,
  MAX_READ_BYTES,
  NULL_UUID,
  dexcomServicesUrl,
  isUuid,
} from './constants';
import { LoginPolicy, type LoginGate } from '../login-policy';
import { authHint, dexcomError, type DexcomErrorContext } from './errors';
import { glucoseRecordSchema, idResponseSchema, type GlucoseRecord } from './schemas';

export interface DexcomClientOptions extends ClientOptions {
  /** Backoff for transient failures of authenticated calls (tests shorten it). */
  retry?: RetryPolicy;
}

export interface DexcomCallOptions {
  method?: 'GET' | 'POST';
  query?: Record<string, string | number | boolean | undefined>;
  /** A JSON body; without one an empty body (Content-Length 0) is sent. */
  body?: unknown;
  /** For endpoints that want the session id inside the body (UpdatePublisherAccountRuntimeInfo). */
  bodyWithSession?: (sessionId: string) => unknown;
  /** Calls that need no session (General/SystemUtcTime). */
  anonymous?: boolean;
  /** `false` for calls that must not be sent twice (creating a contact): no transient retry. */
  retry?: boolean;
  /** The largest answer accepted, in bytes (default the transport's). */
  maxBytes?: number;
}

/**
 * Dexcom Share as a follower reads it, plus the authenticated call the publisher and the followers
 * modules build on. One login in flight per client; the session is reused; an expired session gets
 * one new login and one retry; a refused login is never repeated by this client.
 */
export class DexcomClient implements CgmSource {
  readonly provider = 'dexcom' as const;
  readonly cadence: Cadence = DEXCOM_CADENCE;
  readonly config: DexcomConfig;
  /** Whose glucose this account is (the configured name, else the username). */
  readonly subject: string;
  private readonly transport: HttpTransport;
  private readonly logger: Logger;
  private readonly retry: RetryPolicy;
  private readonly baseUrl: string;
  private readonly applicationId: string;
  private readonly accountKey: string;
  private readonly listeners = new Set<SessionListener>();
  /** Aborted by `close()`: every request in flight ends, and no new one starts. */
  private readonly lifetime = new AbortController();
  private accountId: string | undefined;
  private sessionId: string | undefined;
  private loginInFlight: Promise<string> | undefined;
  private readonly gate: LoginGate;

  constructor(config: DexcomConfig, options: DexcomClientOptions = {}) {
    this.config = config;
    this.logger = options.logger ?? silentLogger;
    this.transport = clientTransport(options.transport, this.logger, config.timeoutMs);
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.gate = options.loginGate ?? new LoginPolicy();
    this.subject = config.name ?? (config.username || undefined) ?? 'dexcom';
    this.baseUrl = dexcomServicesUrl(config.region, config.server);
    this.applicationId = DEXCOM_REGION_INFO[config.region].applicationId;
    this.accountKey = createHash('sha256')
      .update(`${config.region}:${config.username || config.accountId || ''}`)
      .digest('hex');
    this.redactor.add(config.password, config.username, config.accountId);
    if (config.accountId && isUuid(config.accountId) && config.accountId !== NULL_UUID) {
      this.accountId = config.accountId;
    }
    this.restore(options.session);
  }

  get redactor(): Redactor {
    return this.transport.redactor;
  }

  async login(): Promise<LoginInfo> {
    await this.session();
    return { provider: 'dexcom', region: this.config.region, subjects: await this.subjects() };
  }

  /**
   * The newest reading of the last 24 hours. The whole window (not 10 minutes) so that a sensor
   * gap still shows the last known value; the poller judges its age and reports `stale`.
   */
  async latest(subject?: string): Promise<GlucoseReading | null> {
    this.checkSubject(subject);
    const readings = await this.read(MAX_MINUTES, 1);
    return readings[readings.length - 1] ?? null;
  }

  /** Readings of the last `minutes` (at most 24 h), oldest first. `[]` means no data, not an error. */
  async history(options: { minutes: number; subject?: string }): Promise<GlucoseReading[]> {
    this.checkSubject(options.subject);
    if (!(options.minutes > 0)) return [];
    // The window bounds the records; maxCount stays at the cap so no reading in it is cut off.
    return this.read(Math.min(MAX_MINUTES, Math.ceil(options.minutes)), MAX_COUNT);
  }

  /** The account itself; named by its configured name, never by its login. */
  subjects(): Promise<Subject[]> {
    return Promise.resolve([{ id: this.subject, name: this.config.name ?? 'Dexcom' }]);
  }

  onSession(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    // Dexcom has no logout: the requests under way are cancelled and the listeners forgotten.
    this.listeners.clear();
    if (!this.lifetime.signal.aborted) {
      this.lifetime.abort(new CgmError('CONFIG', 'Dexcom: the client was closed', { retryable: false }));
    }
    return Promise.resolve();
  }

  /**
   * One authenticated call: logs in when needed, sends the session id, retries transient failures
   * with backoff, and on an expired session logs in again once and retries once. Resolves with a 2xx
   * answer; anything else rejects with the mapped CgmError.
   */
  async call(endpoint: string, options: DexcomCallOptions = {}): Promise<HttpResponse> {
    this.throwIfClosed();
    const attempt = (sessionId: string | undefined) => () => this.send(endpoint, options, sessionId);
    const run = <T>(task: () => Promise<T>) => (options.retry === false ? task() : this.retrying(task));
    if (options.anonymous) return run(attempt(undefined));
    const sessionId = await this.session();
    try {
      return await run(attempt(sessionId));
    } catch (error) {
      if (!(error instanceof CgmError) || error.code !== 'SESSION_EXPIRED') throw error;
      this.logger.info(`Dexcom session ended (${error.vendorCode ?? 'expired'}); logging in again`);
      this.dropSession(sessionId);
      return run(attempt(await this.session()));
    }
  }

  private async read(minutes: number, maxCount: number): Promise<GlucoseReading[]> {
    const response = await this.call(ENDPOINTS.readLatest, {
      query: { minutes, maxCount },
      maxBytes: MAX_READ_BYTES,
    });
    const what = `Dexcom ${ENDPOINTS.readLatest}`;
    // Each record on its own: one impossible reading is dropped (and logged), the others still count.
    const records = recordList(response.json, 2 * MAX_COUNT, what);
    const toReading = (record: GlucoseRecord) => this.toReading(record);
    return sortAndDedupe(readingsFrom(records, glucoseRecordSchema, toReading, what, this.logger));
  }

  private toReading(record: GlucoseRecord): GlucoseReading {
    // WT is the instant; DT carries the same milliseconds plus an offset that is NOT applied.
    const field = record.WT ? 'WT' : 'DT';
    const ms = (record.WT ?? record.DT)?.ms ?? Number.NaN;
    const limit = dexcomPlaceholder(record.Value);
    return makeReading(
      {
        provider: 'dexcom',
        subject: this.subject,
        time: new Date(ms),
        mgdl: record.Value,
        trend: dexcomTrend(record.Trend),
        ...(limit ? { limit } : {}),
      },
      { range: DEXCOM_RANGE, fields: { time: field, mgdl: 'Value' } },
    );
  }

  private checkSubject(subject: string | undefined): void {
    if (subject !== undefined && subject !== this.subject) {
      // The subject id may be the username: only a configured name is ever repeated in a message.
      const named = this.config.name ? `"${this.config.name}"` : 'its own account holder';
      throw new CgmError('NOT_FOUND', `this Dexcom account reads ${named} only, not the subject asked for`, {
        hint: 'a Dexcom account has one subject: leave the subject out, or give the configured name',
      });
    }
  }

  /** After `close()`, every call rejects with the closing error. */
  private throwIfClosed(): void {
    const reason: unknown = this.lifetime.signal.reason;
    if (this.lifetime.signal.aborted && reason instanceof CgmError) throw reason;
  }

  private retrying<T>(task: () => Promise<T>): Promise<T> {
    return withRetry(task, this.retry, this.lifetime.signal);
  }

  private async send(
    endpoint: string,
    options: DexcomCallOptions,
    sessionId: string | undefined,
  ): Promise<HttpResponse> {
    const body =
      sessionId !== undefined && options.bodyWithSession ? options.bodyWithSession(sessionId) : options.body;
    const response = await this.transport.send({
      method: options.method ?? 'POST',
      url: `${this.baseUrl}/${endpoint}`,
      query:
        sessionId === undefined || options.bodyWithSession ? options.query : { sessionId, ...options.query },
      // No body at all (Content-Length 0), as Dexcom's apps send: the transport's `null` becomes `""`.
      ...(body === undefined ? { headers: { 'Content-Type': 'application/json' } } : { body }),
      ...(this.config.timeoutMs === undefined ? {} : { timeoutMs: this.config.timeoutMs }),
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
      signal: this.lifetime.signal,
    });
    if (response.status >= 200 && response.status < 300) return response;
    throw dexcomError(response, this.errorContext(endpoint, false));
  }

  private errorContext(what: string, login: boolean): DexcomErrorContext {
    return {
      what,
      login,
      region: this.config.region,
      redactor: this.redactor,
      ...(this.config.server ? { server: this.config.server } : {}),
    };
  }

  /** The session id, logging in when there is none; concurrent callers share one login. */
  private session(): Promise<string> {
    if (this.sessionId) return Promise.resolve(this.sessionId);
    this.loginInFlight ??= this.logIn().finally(() => {
      this.loginInFlight = undefined;
    });
    return this.loginInFlight;
  }

  private dropSession(sessionId: string): void {
    // Only the session that failed: another caller may already have replaced it.
    if (this.sessionId === sessionId) this.sessionId = undefined;
  }

  private async logIn(): Promise<string> {
    this.checkConfig();
    this.gate.admit();
    const release = await this.gate.turn?.(this.lifetime.signal);
    try {
      const accountId = this.accountId ?? (await this.authenticate());
      const sessionId = await this.loginById(accountId);
      this.sessionId = sessionId;
      this.gate.succeeded();
      this.emitSession(accountId, sessionId);
      return sessionId;
    } catch (error) {
      throw this.gate.failed(toCgmError(error));
    } finally {
      release?.();
    }
  }

  private checkConfig(): void {
    const { accountId, username } = this.config;
    if (accountId && (!isUuid(accountId) || accountId === NULL_UUID)) {
      throw new CgmError('CONFIG', 'the Dexcom account id must be a UUID like 1234abcd-…-…-…-…', {
        hint: `copy the ${field('accountId')} from the Dexcom account page URL, or leave it empty and give the ${field('username')}`,
      });
    }
    if (!accountId && !username) {
      throw new CgmError('CONFIG', 'a Dexcom username (or account id) is required', {
        hint: `give the ${field('username')} or the ${field('accountId')}`,
      });
    }
  }

  private async authenticate(): Promise<string> {
    const accountId = await this.loginStep(ENDPOINTS.authenticate, {
      accountName: this.config.username,
      password: this.config.password,
      applicationId: this.applicationId,
    });
    this.accountId = accountId;
    return accountId;
  }

  private loginById(accountId: string): Promise<string> {
    return this.loginStep(ENDPOINTS.loginById, {
      accountId,
      password: this.config.password,
      applicationId: this.applicationId,
    });
  }

  /** One login request, sent once (a password is never replayed) and answered with a UUID. */
  private async loginStep(endpoint: string, body: Record<string, unknown>): Promise<string> {
    const response = await this.transport.send({
      method: 'POST',
      url: `${this.baseUrl}/${endpoint}`,
      body,
      ...(this.config.timeoutMs === undefined ? {} : { timeoutMs: this.config.timeoutMs }),
      maxBytes: MAX_LOGIN_BYTES,
      signal: this.lifetime.signal,
    });
    if (response.status < 200 || response.status >= 300) {
      throw dexcomError(response, this.errorContext(endpoint, true));
    }
    const id = parseBody(idResponseSchema, response.json, `Dexcom ${endpoint}`);
    if (id === NULL_UUID) {
      throw new CgmError('AUTH_INVALID', `Dexcom ${endpoint}: the login failed (Dexcom answered no id)`, {
        hint: authHint(this.config.region, this.config.server),
      });
    }
    if (!isUuid(id)) throw new CgmError('PROTOCOL', `Dexcom ${endpoint}: the answer is not an id`);
    this.redactor.add(id);
    return id;
  }

  private emitSession(accountId: string, sessionId: string): void {
    const state: SessionState = {
      provider: 'dexcom',
      account: this.accountKey,
      data: { accountId, sessionId, createdAt: Date.now() },
    };
    for (const listener of this.listeners) {
      try {
        listener(state);
      } catch (error) {
        this.logger.warn(`a session listener failed: ${error instanceof Error ? error.message : 'error'}`);
      }
    }
  }

  private restore(state: SessionState | undefined): void {
    if (!state || state.provider !== 'dexcom' || state.account !== this.accountKey) return;
    const { accountId, sessionId } = state.data;
    if (typeof accountId === 'string' && isUuid(accountId) && accountId !== NULL_UUID) {
      this.accountId ??= accountId;
      this.redactor.add(accountId);
    }
    if (typeof sessionId === 'string' && isUuid(sessionId) && sessionId !== NULL_UUID) {
      this.sessionId = sessionId;
      this.redactor.add(sessionId);
    }
  }
}
