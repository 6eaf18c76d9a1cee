import { createHash, randomBytes } from 'node:crypto';
import { LIBRE_DEMO_ACCOUNTS, type LibreAccountSpec, type LibreStep } from './librelinkup-accounts';
import {
  connectionRecord,
  graphData,
  logbookRecords,
  notificationSettings,
  userRecord,
} from './librelinkup-records';
import type { ProviderSimulator, SimContext, SimRequest, SimResponse } from './types';

export { LIBRE_DEMO_ACCOUNTS, LIBRE_DEMO_PASSWORD } from './librelinkup-accounts';
export type { LibreAccountSpec, LibrePatientSpec, LibreStep } from './librelinkup-accounts';

export interface LibreLinkUpSimulatorOptions {
  accounts?: readonly LibreAccountSpec[];
  /** Lifetime of a login token; the real one lasts 180 days. */
  tokenLifetimeMs?: number;
  /** Lowest `version` header served; older ones get HTTP 403 with body status 920. */
  minVersion?: string;
  /** Hand out a fresh token in every answer's `ticket` (the old one stays valid). */
  rotateTickets?: boolean;
}

const DAY = 24 * 3600_000;
const STEP_TOKEN_LIFETIME = 3600_000;
// The lockout the service applies: 3 failures within 60 s lock logins for 300 s.
const LOCK_FAILURES = 3;
const LOCK_INTERVAL_S = 60;
const LOCK_SECONDS = 300;

/** Regions with a simulated host, `global` being the entry point that redirects. */
const REGIONS = new Set([
  'global',
  'us',
  'eu',
  'eu2',
  'de',
  'fr',
  'jp',
  'ap',
  'au',
  'ae',
  'ca',
  'la',
  'ru',
  'cn',
]);

interface AccountState {
  spec: LibreAccountSpec;
  region: string;
  steps: LibreStep[];
  failures: number[];
  lockedUntil: number;
}

interface TokenState {
  email: string;
  expiresAt: number;
  kind: 'login' | 'step';
  revoked: boolean;
}

const INVALID_JWT: SimResponse = { status: 401, body: { message: 'invalid or expired jwt' } };
const HEADER_MISSING: SimResponse = { status: 400, body: { message: 'RequiredHeaderMissing' } };

/**
 * The LibreLinkUp v4 cloud on loopback: `/librelinkup/{region}/llu/...`. Logins at the wrong region
 * (or `global`) are redirected to the account's region, as the real service does.
 */
export class LibreLinkUpSimulator implements ProviderSimulator {
  readonly provider = 'librelinkup' as const;
  readonly prefix = '/librelinkup';
  private readonly accounts = new Map<string, AccountState>();
  private readonly tokens = new Map<string, TokenState>();
  private readonly tokenLifetimeMs: number;
  private minVersion: number[];
  /** What a 920 answer names as `minimumVersion` (normally the enforced minimum itself). */
  private minVersionText: string;
  rotateTickets: boolean;

  constructor(options: LibreLinkUpSimulatorOptions = {}) {
    for (const spec of options.accounts ?? LIBRE_DEMO_ACCOUNTS) {
      this.accounts.set(spec.email.toLowerCase(), {
        spec,
        region: spec.region,
        steps: [...(spec.steps ?? [])],
        failures: [],
        lockedUntil: 0,
      });
    }
    this.tokenLifetimeMs = options.tokenLifetimeMs ?? 180 * DAY;
    this.minVersionText = options.minVersion ?? '4.16.0';
    this.minVersion = parseVersion(this.minVersionText) ?? [4, 16, 0];
    this.rotateTickets = options.rotateTickets ?? false;
  }

  describe(baseUrl: string): string[] {
    const lines = [
      `LibreLinkUp: server ${baseUrl}/{region} (start at global; logins are redirected to the account's region)`,
    ];
    for (const { spec } of this.accounts.values()) {
      const names = spec.patients.map((p) => `${p.firstName} ${p.lastName}`).join(', ') || 'no patients';
      const extra = spec.steps?.length ? `, login needs: ${spec.steps.join(' then ')}` : '';
      lines.push(`  ${spec.email} / ${spec.password} (region ${spec.region}${extra}): ${names}`);
    }
    return lines;
  }

  /**
   * Abbott raises the minimum app version: from now on every call with an older `version` header gets
   * HTTP 403 with `{"status":920,"data":{"minimumVersion":…}}`. `answer` is what the 920 names
   * (default `version`; a broken or lower one plays a confused cloud).
   */
  requireVersion(version: string, answer: string = version): void {
    const parsed = parseVersion(version);
    if (!parsed) throw new Error(`not a version: ${version}`);
    this.minVersion = parsed;
    this.minVersionText = answer;
  }

  /** Makes every token of one account (or of all) invalid: the next call gets HTTP 401. */
  expireTokens(email?: string): void {
    for (const token of this.tokens.values()) {
      if (email === undefined || token.email === email.toLowerCase()) token.revoked = true;
    }
  }

  /** Moves an account to another region: calls elsewhere are redirected there from now on. */
  moveAccount(email: string, region: string): void {
    this.state(email).region = region;
  }

  /** Steps the account's next login must pass (new terms published). */
  requireSteps(email: string, steps: LibreStep[]): void {
    this.state(email).steps = [...steps];
  }

  /** Locks the account's logins until `until` (epoch ms), as three failures in a minute do (another app, say). */
  lock(email: string, until: number): void {
    this.state(email).lockedUntil = until;
  }

  /** The login lock of an account ends now. */
  unlock(email: string): void {
    const state = this.state(email);
    state.lockedUntil = 0;
    state.failures = [];
  }

  handle(request: SimRequest, context: SimContext): SimResponse {
    const now = context.clock.now();
    const [, region = '', ...rest] = request.path.split('/');
    const path = `/${rest.join('/')}`;
    if (!REGIONS.has(region)) return { status: 404, body: { message: 'NotFound' } };
    if (header(request, 'product') === undefined) return HEADER_MISSING;
    const version = parseVersion(header(request, 'version') ?? '');
    if (!version || compareVersions(version, this.minVersion) < 0) {
      return { status: 403, body: { data: { minimumVersion: this.minVersionText }, status: 920 } };
    }
    if (request.method === 'POST' && path === '/llu/auth/login') return this.login(request, region, now);
    const step = /^\/auth\/continue\/([^/]+)$/.exec(path);
    if (request.method === 'POST' && step) return this.acceptStep(request, step[1] ?? '', now);
    if (request.method === 'GET' && path.startsWith('/llu/')) return this.authed(request, region, path, now);
    return { status: 404, body: { message: 'NotFound' } };
  }

  // ---- login ----------------------------------------------------------------------------------

  private login(request: SimRequest, region: string, now: number): SimResponse {
    const body = request.json as { email?: unknown; password?: unknown } | undefined;
    const email = typeof body?.email === 'string' ? body.email.trim().toLowerCase() : '';
    const state = this.accounts.get(email);
    if (!state) return ok({ status: 2, error: { message: 'notAuthenticated' } });
    if (now < state.lockedUntil) {
      return ok({
        status: 429,
        data: {
          code: 60,
          data: { failures: LOCK_FAILURES, interval: LOCK_INTERVAL_S, lockout: LOCK_SECONDS },
          message: 'locked',
        },
      });
    }
    if (body?.password !== state.spec.password) {
      state.failures = state.failures.filter((t) => now - t < LOCK_INTERVAL_S * 1000);
      state.failures.push(now);
      if (state.failures.length >= LOCK_FAILURES) state.lockedUntil = now + LOCK_SECONDS * 1000;
      return ok({ status: 2, error: { message: 'notAuthenticated' } });
    }
    state.failures = [];
    const target = state.spec.redirects?.[region] ?? (this.serves(state, region) ? undefined : state.region);
    if (target !== undefined) return ok({ status: 0, data: { redirect: true, region: target } });
    return this.nextStepOrSuccess(state, now);
  }

  private acceptStep(request: SimRequest, type: string, now: number): SimResponse {
    const token = this.bearer(request, now);
    if (!token || token.kind !== 'step') return INVALID_JWT;
    const state = this.state(token.email);
    // verifyEmail can only be done by the person, never through this call.
    if (state.steps[0] === type && type !== 'verifyEmail') state.steps.shift();
    return this.nextStepOrSuccess(state, now);
  }

  private nextStepOrSuccess(state: AccountState, now: number): SimResponse {
    const step = state.steps[0];
    if (step !== undefined) {
      const { token, expiresAt } = this.issue(state.spec.email, 'step', now);
      return ok({
        status: 4,
        data: {
          step: stepRecord(step, state.spec.email),
          user: { accountType: 'pat', country: state.spec.country, uiLanguage: 'en-US' },
          authTicket: { token, expires: Math.floor(expiresAt / 1000), duration: STEP_TOKEN_LIFETIME },
        },
      });
    }
    const { token, expiresAt } = this.issue(state.spec.email, 'login', now);
    return ok({
      status: 0,
      data: {
        user: userRecord(state.spec, now),
        messages: { unread: 0 },
        notifications: { unresolved: 0 },
        authTicket: { token, expires: Math.floor(expiresAt / 1000), duration: this.tokenLifetimeMs },
        invitations: null,
        trustedDeviceToken: '',
      },
    });
  }

  // ---- authenticated calls --------------------------------------------------------------------

  private authed(request: SimRequest, region: string, path: string, now: number): SimResponse {
    const accountId = header(request, 'account-id');
    if (!accountId) return HEADER_MISSING;
    const token = this.bearer(request, now);
    if (!token || token.kind !== 'login') return INVALID_JWT;
    const state = this.state(token.email);
    if (accountId !== sha256(state.spec.userId)) return HEADER_MISSING;
    if (!this.serves(state, region)) return ok({ status: 0, data: { redirect: true, region: state.region } });
    const ticket = this.ticket(request, token, now);
    const { spec } = state;
    if (path === '/llu/connections') {
      return ok({ status: 0, data: spec.patients.map((p) => connectionRecord(p, spec, now)), ticket });
    }
    const patientCall = /^\/llu\/connections\/([^/]+)\/(graph|logbook)$/.exec(path);
    if (patientCall) {
      const patient = spec.patients.find((p) => p.patientId === decodeURIComponent(patientCall[1] ?? ''));
      if (!patient) return ok({ error: { message: 'couldNotLoadPatient' }, status: 4 });
      const data =
        patientCall[2] === 'graph' ? graphData(patient, spec, now) : logbookRecords(patient, spec.uom, now);
      return ok({ status: 0, data, ticket });
    }
    const settings = /^\/llu\/notifications\/settings\/([^/]+)$/.exec(path);
    if (settings) {
      const patient = spec.patients.find((p) => p.connectionId === decodeURIComponent(settings[1] ?? ''));
      if (!patient) return ok({ status: 4, error: { message: 'couldNotLoadConnection' } });
      return ok({ status: 0, data: notificationSettings(patient, now), ticket });
    }
    return { status: 404, body: { message: 'NotFound' } };
  }

  /** Where an account is served: its region, and the global host too for US accounts. */
  private serves(state: AccountState, region: string): boolean {
    return region === state.region || (region === 'global' && state.region === 'us');
  }

  private ticket(request: SimRequest, token: TokenState, now: number): Record<string, unknown> {
    const current = bearerText(request) ?? '';
    if (!this.rotateTickets) {
      return { token: current, expires: Math.floor(token.expiresAt / 1000), duration: this.tokenLifetimeMs };
    }
    const fresh = this.issue(token.email, 'login', now);
    return {
      token: fresh.token,
      expires: Math.floor(fresh.expiresAt / 1000),
      duration: this.tokenLifetimeMs,
    };
  }

  // ---- tokens ---------------------------------------------------------------------------------

  private issue(email: string, kind: TokenState['kind'], now: number): { token: string; expiresAt: number } {
    const expiresAt = now + (kind === 'step' ? STEP_TOKEN_LIFETIME : this.tokenLifetimeMs);
    const state = this.state(email);
    const payload = {
      id: state.spec.userId,
      country: state.spec.country,
      region: state.region,
      role: 'patient',
      s: 'llu.android',
      exp: Math.floor(expiresAt / 1000),
    };
    const token = [
      base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' })),
      base64url(JSON.stringify(payload)),
      randomBytes(24).toString('base64url'),
    ].join('.');
    this.tokens.set(token, { email: state.spec.email.toLowerCase(), expiresAt, kind, revoked: false });
    return { token, expiresAt };
  }

  private bearer(request: SimRequest, now: number): TokenState | undefined {
    const text = bearerText(request);
    const token = text === undefined ? undefined : this.tokens.get(text);
    if (!token || token.revoked || token.expiresAt <= now) return undefined;
    return token;
  }

  private state(email: string): AccountState {
    const state = this.accounts.get(email.toLowerCase());
    if (!state) throw new Error(`the LibreLinkUp simulator has no account ${email}`);
    return state;
  }
}

function stepRecord(step: LibreStep, email: string): Record<string, unknown> {
  if (step === 'verifyEmail') return { type: step, componentName: 'VerifyEmail', props: { email } };
  const titleKey = step === 'tou' ? 'Common.termsOfUse' : 'Common.privacyPolicy';
  return { type: step, componentName: 'AcceptDocument', props: { reaccept: true, titleKey, type: step } };
}

function ok(body: unknown): SimResponse {
  return { status: 200, body };
}

function header(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearerText(request: SimRequest): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header(request, 'authorization') ?? '');
  return match?.[1];
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function parseVersion(text: string): number[] | undefined {
  if (!/^\d+(\.\d+){0,3}$/.test(text.trim())) return undefined;
  return text.trim().split('.').map(Number);
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
