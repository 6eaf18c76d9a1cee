import type { ZodType } from 'zod';
import { field } from '../../model/fields';
import type { LibreLinkUpConfig } from '../../config';
import { DEFAULT_RETRY, isTransient, withRetry, type RetryPolicy } from '../../http/retry';
import {
  clientTransport,
  type HttpTransport,
  parseBody,
  type HttpRequest,
  type HttpResponse,
} from '../../http/transport';
import { CgmError, toCgmError } from '../../model/errors';
import { silentLogger, type Logger } from '../../model/logger';
import type { GlucoseReading } from '../../model/reading';
import type {
  AdoptedVersions,
  Cadence,
  CgmSource,
  ClientOptions,
  LoginInfo,
  SessionListener,
  Subject,
  SubjectDetails,
  VersionListener,
} from '../provider';
import {
  ACCEPTABLE_STEPS,
  baseUrlFor,
  canSwitchRegion,
  DEFAULT_VERSION,
  GLOBAL_REGION,
  MAX_REDIRECT_HOPS,
  MAX_TERMS_STEPS,
  PATHS,
  PRODUCT,
  REGION_CODE,
  MAX_ANSWER_BYTES,
  TOKEN_MARGIN_MS,
} from './constants';
import { LoginPolicy, type LoginGate } from '../login-policy';
import { connectionDetails } from './details';
import { libreError, type AnswerContext } from './errors';
import { findPatient, mergeHistory, noPatients, patientName, readingsOf, toSubject } from './readings';
import {
  accountResponseSchema,
  connectionsResponseSchema,
  countryConfigResponseSchema,
  graphResponseSchema,
  logbookResponseSchema,
  loginSuccessSchema,
  notificationSettingsResponseSchema,
  redirectSchema,
  stepResponseSchema,
  type Connection,
  type Ticket,
} from './schemas';
import { accountKey, fromState, isUsable, makeSession, toState, type LibreSession } from './session';
import { compareAppVersions, judgeVersionAnswer, startingVersion, VERSION_KEY } from './version';

export interface LibreLinkUpOptions extends ClientOptions {
  /** Backoff for transient failures (tests shorten it). */
  retry?: RetryPolicy;
}

/** The follower's alarm thresholds for one patient, in mg/dL. */
export interface LibreAlarmSettings {
  connectionId: string;
  lowMgdl?: number;
  highMgdl?: number;
  urgentLowMgdl?: number;
}

/** What `/llu/config/country` tells about a country. */
export interface LibreCountryConfig {
  minimumVersion?: string;
  /** Region code → API base URL. */
  regions: Record<string, string>;
}

/** The logged-in follower's profile. */
export interface LibreAccount {
  userId: string;
  country?: string;
  /** The unit the account shows glucose in. */
  units?: 'mgdl' | 'mmol';
}

export const LIBRE_CADENCE: Cadence = {
  readingIntervalMs: 5 * 60_000,
  latestIntervalMs: 60_000,
  lagMs: 60_000,
  maxHistoryMinutes: 720,
  continuous: true,
};

const LOGIN_WHAT = 'LibreLinkUp login';

/**
 * A LibreLinkUp follower account (the v4 `/llu` API). One login at a time, the token reused until it
 * expires, a refused password never sent again by this instance.
 */
export class LibreLinkUpClient implements CgmSource {
  readonly provider = 'librelinkup' as const;
  readonly cadence = LIBRE_CADENCE;

  private readonly transport: HttpTransport;
  private readonly logger: Logger;
  /** The `version` header sent: the configured one (a floor), or a higher one the service asked for. */
  private version: string;
  private readonly retry: RetryPolicy;
  private readonly accountHash: string;
  private readonly listeners = new Set<SessionListener>();
  private readonly versionListeners = new Set<VersionListener>();
  private region: string;
  private session: LibreSession | undefined;
  /** The session came from a login in this run and no call has been answered with it yet. */
  private untried = false;
  private loginInFlight: Promise<LibreSession> | undefined;
  private readonly gate: LoginGate;
  private knownConnections: Connection[] = [];
  private chosenPatient: string | undefined;
  /** What the last answers said about each patient (sensor, targets), by patientId. */
  private readonly detailsByPatient = new Map<string, SubjectDetails>();
  /** Aborted by `close()`: every request in flight ends, and no new one starts. */
  private readonly lifetime = new AbortController();

  constructor(
    private readonly config: LibreLinkUpConfig,
    options: LibreLinkUpOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.transport = clientTransport(options.transport, this.logger, config.timeoutMs);
    this.transport.redactor.add(config.password, config.username, config.username.toLowerCase());
    this.version = startingVersion(config.version ?? DEFAULT_VERSION, options.versions?.[VERSION_KEY]);
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.gate = options.loginGate ?? new LoginPolicy();
    this.accountHash = accountKey(config.username);
    this.region = config.region ?? GLOBAL_REGION;
    const restored = fromState(options.session, this.accountHash);
    if (restored) {
      this.session = restored.session;
      this.transport.redactor.add(restored.session.token, restored.session.userId);
      if (restored.region && REGION_CODE.test(restored.region)) this.region = restored.region;
    }
  }

  async login(): Promise<LoginInfo> {
    const connections = await this.fetchConnections();
    return { provider: 'librelinkup', region: this.region, subjects: connections.map(toSubject) };
  }

  async subjects(): Promise<Subject[]> {
    return (await this.fetchConnections()).map(toSubject);
  }

  /** The current measurement, from `/llu/connections` (it carries every patient's newest value). */
  async latest(subject?: string): Promise<GlucoseReading | null> {
    const connection = this.choose(await this.fetchConnections(), subject);
    const current = connection.glucoseMeasurement;
    if (!current) return null;
    const what = 'LibreLinkUp connections';
    return readingsOf([current], connection.patientId, what, this.logger)[0] ?? null;
  }

  /** The graph (about 12 h at 5-minute spacing) plus the current value, oldest first. */
  async history(options: { minutes: number; subject?: string }): Promise<GlucoseReading[]> {
    if (!Number.isFinite(options.minutes) || options.minutes <= 0) {
      throw new CgmError('CONFIG', `LibreLinkUp history: minutes must be a positive number`);
    }
    const patient = await this.resolvePatient(options.subject);
    const body = await this.authed(PATHS.graph(patient), graphResponseSchema, 'LibreLinkUp graph', patient);
    this.noteDetails(body.data.connection, body.data.activeSensors);
    const since = Date.now() - options.minutes * 60_000;
    const current = body.data.connection.glucoseMeasurement;
    return mergeHistory(body.data.graphData, current, patient, since, this.logger);
  }

  /** Scans and alarm readings of about 14 days (events, not a 5-minute series), oldest first. */
  async logbook(subject?: string): Promise<GlucoseReading[]> {
    const patient = await this.resolvePatient(subject);
    const body = await this.authed(
      PATHS.logbook(patient),
      logbookResponseSchema,
      'LibreLinkUp logbook',
      patient,
    );
    return readingsOf(body.data, patient, 'LibreLinkUp logbook', this.logger);
  }

  /** The follower's alarm thresholds for a patient. */
  async alarmSettings(subject?: string): Promise<LibreAlarmSettings> {
    const connection = this.choose(await this.fetchConnections(), subject);
    const body = await this.authed(
      PATHS.notificationSettings(connection.id),
      notificationSettingsResponseSchema,
      'LibreLinkUp alarm settings',
    );
    const rules = body.data.alarmRules;
    const settings: LibreAlarmSettings = { connectionId: body.data.connectionId };
    if (rules.l?.th !== undefined) settings.lowMgdl = rules.l.th;
    if (rules.h?.th !== undefined) settings.highMgdl = rules.h.th;
    if (rules.f?.th !== undefined) settings.urgentLowMgdl = rules.f.th;
    return settings;
  }

  /** The follower's own profile; `units` is the unit the account is set to. */
  async account(): Promise<LibreAccount> {
    const body = await this.authed(PATHS.account, accountResponseSchema, 'LibreLinkUp account');
    const { user } = body.data;
    const account: LibreAccount = { userId: user.id };
    if (user.country) account.country = user.country;
    if (user.uom === '0' || user.uom === '1') account.units = user.uom === '0' ? 'mmol' : 'mgdl';
    return account;
  }

  /** The app configuration for a country (no login): minimum app version and the region hosts. */
  async countryConfig(country: string): Promise<LibreCountryConfig> {
    const what = 'LibreLinkUp country configuration';
    const { response, error } = await this.exchangeAdopting(
      () => ({
        method: 'GET',
        url: this.url(PATHS.countryConfig),
        query: { country: country.toUpperCase(), version: this.version },
        headers: this.baseHeaders(),
      }),
      { what, kind: 'data' },
    );
    if (error) throw error;
    const { data } = parseBody(countryConfigResponseSchema, response.json, what);
    const regions: Record<string, string> = {};
    for (const [code, entry] of Object.entries(data.regionalMap ?? {})) {
      regions[code] = entry.lslApi.replace(/\/+$/, '');
    }
    return { ...(data.MinVersion ? { minimumVersion: data.MinVersion } : {}), regions };
  }

  onSession(listener: SessionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onVersions(listener: VersionListener): () => void {
    this.versionListeners.add(listener);
    return () => this.versionListeners.delete(listener);
  }

  /** The sensor, targets and name of a patient as the last connections or graph answer gave them. */
  details(subject: string): SubjectDetails | undefined {
    return this.detailsByPatient.get(subject);
  }

  /** The app version the client sends now (the configured floor, or one adopted from the service). */
  get appVersion(): string {
    return this.version;
  }

  close(): Promise<void> {
    this.listeners.clear();
    this.versionListeners.clear();
    if (!this.lifetime.signal.aborted) {
      this.lifetime.abort(new CgmError('CONFIG', 'LibreLinkUp: the client was closed', { retryable: false }));
    }
    return Promise.resolve();
  }

  // ---- patients -------------------------------------------------------------------------------

  private async fetchConnections(): Promise<Connection[]> {
    const body = await this.authed(PATHS.connections, connectionsResponseSchema, 'LibreLinkUp connections');
    this.knownConnections = body.data;
    for (const connection of body.data) this.noteDetails(connection, undefined);
    return body.data;
  }

  private noteDetails(connection: Connection, activeSensors: unknown): void {
    const details = connectionDetails(connection, activeSensors, Date.now());
    // A sensor started later that only the graph's activeSensors named stays (the two may disagree).
    const before = this.detailsByPatient.get(connection.patientId)?.sensor;
    if (before && details.sensor && before.activated.getTime() > details.sensor.activated.getTime()) {
      details.sensor = before;
    }
    this.detailsByPatient.set(connection.patientId, details);
  }

  /** The patient a call is about: the one asked for, the configured one, or the first (kept). */
  private choose(connections: Connection[], subject?: string): Connection {
    const wanted = subject ?? this.config.patient;
    if (wanted) {
      return findPatient(connections, wanted);
    }
    if (connections.length === 0) throw noPatients();
    // The service does not keep the order stable, so the first pick is remembered.
    const kept = connections.find((c) => c.patientId === this.chosenPatient);
    if (kept) return kept;
    const first = connections[0]!;
    this.chosenPatient = first.patientId;
    if (connections.length > 1) {
      const others = connections.slice(1).map(patientName).join(', ');
      this.logger.info(
        `LibreLinkUp: following ${patientName(first)}; also followed: ${others} (set patient to choose)`,
      );
    }
    return first;
  }

  /** A patientId, from the connections already seen when possible (saves a request per poll). */
  private async resolvePatient(subject?: string): Promise<string> {
    const wanted = subject ?? this.config.patient;
    if (wanted) {
      const known = this.knownConnections.find((c) => c.patientId === wanted);
      if (known) return known.patientId;
    } else if (this.chosenPatient) {
      return this.chosenPatient;
    }
    return this.choose(await this.fetchConnections(), subject).patientId;
  }

  // ---- authenticated calls --------------------------------------------------------------------

  /**
   * GET with the token: an expired token gets one new login and one retry; a region redirect is
   * followed (at most twice, never back to a region already tried).
   */
  private async authed<T extends { ticket?: Ticket | undefined }>(
    path: string,
    schema: ZodType<T>,
    what: string,
    aboutPatient?: string,
  ): Promise<T> {
    let renewed = false;
    let hops = 0;
    const visited = new Set([this.region]);
    for (;;) {
      const session = await this.ensureSession();
      // couldNotLoadPatient for a patient the account does follow means "no data now", not "unknown".
      const patientKnown = this.knownConnections.some((c) => c.patientId === aboutPatient);
      const { response, error } = await this.exchangeAdopting(
        () => ({ method: 'GET', url: this.url(path), headers: this.authHeaders(session) }),
        { what, kind: 'data', patientKnown },
      );
      if (error) {
        if (error.code === 'SESSION_EXPIRED' && !renewed) {
          renewed = true;
          this.logger.info(`${what}: token refused, logging in again`);
          if (this.session === session) this.session = undefined;
          continue;
        }
        if (error.code === 'SESSION_EXPIRED' && this.session === session && this.untried) {
          // The token of the login just made is refused too: another login would give the same, so
          // the error says why and asks the caller to wait (its retryAfterMs) before the next one.
          this.session = undefined;
          throw tokenRefusedAfterLogin(what, error);
        }
        throw error;
      }
      if (this.session === session) this.untried = false;
      const redirect = redirectSchema.safeParse(response.json);
      if (redirect.success) {
        hops += 1;
        this.followRedirect(redirect.data.data.region, visited, hops, what);
        this.emitSession();
        continue;
      }
      const body = parseBody(schema, response.json, what);
      this.adoptTicket(body.ticket);
      return body;
    }
  }

  private authHeaders(session: LibreSession): Record<string, string> {
    return {
      ...this.baseHeaders(),
      Authorization: `Bearer ${session.token}`,
      'Account-Id': session.accountId,
    };
  }

  private baseHeaders(): Record<string, string> {
    return { product: PRODUCT, version: this.version, 'Cache-Control': 'no-cache' };
  }

  private url(path: string): string {
    return `${baseUrlFor(this.region, this.config.server)}${path}`;
  }

  /**
   * `exchange`, and when the service refuses the app version (status 920) with a higher valid minimum:
   * that version adopted (kept, persisted, logged once) and the request built and sent again, once.
   * A request carrying the password is not sent again (one login POST per attempt): its error says the
   * version is adopted, and the login policy's next attempt sends it.
   */
  private async exchangeAdopting(
    build: () => HttpRequest,
    context: Omit<AnswerContext, 'redactor' | 'version'>,
    policy = this.retry,
    repeat = true,
  ): Promise<{ response: HttpResponse; error: CgmError | undefined }> {
    let adopted = false;
    for (;;) {
      const sent = this.version;
      const answer = await this.exchange(build(), context, policy);
      if (answer.error?.vendorCode !== '920') return answer;
      const verdict = judgeVersionAnswer(
        answer.response,
        sent,
        adopted,
        context.what,
        this.transport.redactor,
      );
      if ('error' in verdict) return { response: answer.response, error: verdict.error };
      adopted = true;
      // A call running alongside may have adopted it already: then it is only sent again.
      if (compareAppVersions(verdict.adopt, this.version) > 0) this.adoptVersion(verdict.adopt, sent);
      if (!repeat) {
        const error = new CgmError(
          'SERVER',
          `${context.what}: the service asked for app version ${verdict.adopt}; the next login sends it`,
          { vendorCode: '920', retryable: true, detail: { minimumVersion: verdict.adopt } },
        );
        return { response: answer.response, error };
      }
    }
  }

  private adoptVersion(version: string, sent: string): void {
    this.version = version;
    this.logger.warn(
      `LibreLinkUp: the service no longer accepts app version ${sent}; sending ${version} from now on`,
    );
    const versions: AdoptedVersions = { [VERSION_KEY]: version };
    for (const listener of this.versionListeners) {
      try {
        listener({ ...versions });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn(
          `LibreLinkUp: storing the app version failed: ${this.transport.redactor.clean(reason)}`,
        );
      }
    }
  }

  /** One request, transient failures retried with backoff; the answer judged by `libreError`. */
  private async exchange(
    request: HttpRequest,
    context: Omit<AnswerContext, 'redactor' | 'version'>,
    policy = this.retry,
  ): Promise<{ response: HttpResponse; error: CgmError | undefined }> {
    const { signal } = this.lifetime;
    const full: AnswerContext = { ...context, redactor: this.transport.redactor, version: this.version };
    const sent: HttpRequest = {
      ...request,
      ...(this.config.timeoutMs ? { timeoutMs: this.config.timeoutMs } : {}),
      maxBytes: MAX_ANSWER_BYTES,
      signal,
    };
    const response = await withRetry(
      async () => {
        const answer = await this.transport.send(sent);
        const error = libreError(answer, full);
        if (error && isTransient(error)) throw error;
        return answer;
      },
      policy,
      signal,
    );
    return { response, error: libreError(response, full) };
  }

  // ---- login ----------------------------------------------------------------------------------

  private async ensureSession(): Promise<LibreSession> {
    if (this.session && isUsable(this.session, Date.now(), TOKEN_MARGIN_MS)) return this.session;
    this.loginInFlight ??= this.performLogin().finally(() => {
      this.loginInFlight = undefined;
    });
    return this.loginInFlight;
  }

  /** One login attempt, admitted and judged by the login gate (refusals, locks, backoff). */
  private async performLogin(): Promise<LibreSession> {
    this.gate.admit();
    const release = await this.gate.turn?.(this.lifetime.signal);
    try {
      const session = await this.loginSteps();
      this.gate.succeeded();
      return session;
    } catch (error) {
      throw this.gate.failed(toCgmError(error));
    } finally {
      release?.();
    }
  }

  private async loginSteps(): Promise<LibreSession> {
    // One POST per login attempt: a password is never sent again inside the client (a 500 or a lost
    // answer included); when to try again is the login policy's decision.
    const policy = { ...this.retry, attempts: 1 };
    const visited = new Set([this.region]);
    let hops = 0;
    const accepted: string[] = [];
    let answer = await this.exchangeAdopting(
      () => this.loginRequest(),
      { what: LOGIN_WHAT, kind: 'login' },
      policy,
      false,
    );
    for (;;) {
      const { response, error } = answer;
      if (error) {
        const step = error.code === 'TERMS_REQUIRED' ? this.acceptableStep(response, accepted) : undefined;
        if (!step) throw error;
        accepted.push(step.type);
        this.transport.redactor.add(step.token);
        answer = await this.exchangeAdopting(
          () => ({
            method: 'POST',
            url: this.url(PATHS.acceptStep(step.type)),
            // No body at all: the accept call takes none.
            headers: { ...this.baseHeaders(), Authorization: `Bearer ${step.token}` },
          }),
          { what: `LibreLinkUp accepting ${step.type}`, kind: 'login' },
          policy,
        );
        this.logger.info(`LibreLinkUp: accepted the "${step.type}" step for the account (acceptTerms is on)`);
        continue;
      }
      const redirect = redirectSchema.safeParse(response.json);
      if (redirect.success) {
        hops += 1;
        this.followRedirect(redirect.data.data.region, visited, hops, LOGIN_WHAT);
        answer = await this.exchangeAdopting(
          () => this.loginRequest(),
          { what: LOGIN_WHAT, kind: 'login' },
          policy,
          false,
        );
        continue;
      }
      return this.adoptLogin(response);
    }
  }

  private loginRequest(): HttpRequest {
    return {
      method: 'POST',
      url: this.url(PATHS.login),
      headers: this.baseHeaders(),
      body: { email: this.config.username, password: this.config.password },
    };
  }

  /** The step to accept for the user, when they opted in and it is one a client may accept. */
  private acceptableStep(
    response: HttpResponse,
    accepted: string[],
  ): { type: string; token: string } | undefined {
    if (!this.config.acceptTerms) return undefined;
    const parsed = stepResponseSchema.safeParse(response.json);
    if (!parsed.success) return undefined;
    const type = parsed.data.data.step.type;
    const token = parsed.data.data.authTicket?.token;
    // The same step asked again right after accepting it means accepting does not work.
    if (!token || !ACCEPTABLE_STEPS.has(type) || accepted.length >= MAX_TERMS_STEPS) return undefined;
    if (accepted[accepted.length - 1] === type) return undefined;
    return { type, token };
  }

  private adoptLogin(response: HttpResponse): LibreSession {
    const body = parseBody(loginSuccessSchema, response.json, LOGIN_WHAT);
    const { user, authTicket } = body.data;
    this.transport.redactor.add(authTicket.token, user.id);
    this.session = makeSession(authTicket.token, authTicket.expires, user.id);
    this.untried = true;
    this.logger.info(`LibreLinkUp: logged in (region ${this.region})`);
    this.emitSession();
    return this.session;
  }

  private followRedirect(region: string, visited: Set<string>, hops: number, what: string): void {
    if (!REGION_CODE.test(region)) {
      throw new CgmError('PROTOCOL', `${what}: redirected to an unreadable region`);
    }
    if (!canSwitchRegion(this.config.server)) {
      throw new CgmError('REGION_REDIRECT', `${what}: the account belongs to region ${region}`, {
        detail: { region },
        retryable: false,
        hint: `use a ${field('server')} containing {region}, or the server of region ${region}`,
      });
    }
    if (hops > MAX_REDIRECT_HOPS || visited.has(region)) {
      const path = [...visited, region].join(' → ');
      throw new CgmError('REGION_REDIRECT', `${what}: redirect loop (${path})`, {
        detail: { region },
        retryable: false,
        hint: `set the ${field('region')} to ${region} (or the account's home region) to start there`,
      });
    }
    visited.add(region);
    this.logger.info(`${what}: the account belongs to region ${region}, switching`);
    this.region = region;
  }

  /** Every answer carries a refreshed token; the newest one is kept and persisted. */
  private adoptTicket(ticket: Ticket | undefined): void {
    const session = this.session;
    if (!ticket || !session || ticket.token === session.token) return;
    // A ticket already expired (or about to) is ignored: switching to it would only force a password
    // login on the next call, on every poll.
    if (!isUsable({ ...session, expires: ticket.expires }, Date.now(), TOKEN_MARGIN_MS)) {
      this.logger.debug('LibreLinkUp: ignored a refreshed ticket that has already expired');
      return;
    }
    this.transport.redactor.add(ticket.token);
    this.session = { ...session, token: ticket.token, expires: ticket.expires };
    this.emitSession();
  }

  private emitSession(): void {
    if (!this.session) return;
    const state = toState(this.session, this.accountHash, this.region);
    for (const listener of this.listeners) {
      try {
        listener(state);
      } catch (error) {
        // A host's storage failing must not fail the reading that triggered it.
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn(`LibreLinkUp: storing the session failed: ${this.transport.redactor.clean(reason)}`);
      }
    }
  }
}

/**
 * The token of a login that just succeeded, refused at once: LibreLinkUp does this while the account
 * has a step pending (new terms, a privacy policy) that the login itself did not report. Judged as a
 * failed login, so the login policy waits before the next one.
 */
function tokenRefusedAfterLogin(what: string, cause: CgmError): CgmError {
  return new CgmError(
    'SESSION_EXPIRED',
    `${what}: the service refused the token of the login it had just given`,
    {
      vendorCode: cause.vendorCode ?? 'HTTP401',
      retryAfterMs: 15 * 60_000,
      cause,
      hint:
        'the account may have a step pending (new terms of use or a privacy policy): sign in to the LibreLinkUp ' +
        `app with this account and accept it, or switch on ${field('acceptTerms')}`,
    },
  );
}
