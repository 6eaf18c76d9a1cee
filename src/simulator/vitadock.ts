// The VitaDock Online side of the simulator: the OAuth dance with real signature checks, a consent
// page that issues verifiers, every data module with paging and deletions, and signed push.
import { randomUUID } from 'node:crypto';
import { VITADOCK_DATA_MODULES, pushIdOf, type VitaDockDataModule } from '../providers/vitadock/constants';
import { systemClock, type SimClock } from './clock';
import { VitaDockAuthority, headerOf, type SimConsumer, type TokenKind } from './vitadock-auth';
import { VitaDockDataStore, type SimRecord } from './vitadock-data';
import { deliverPush, signedPush, type PushRequest } from './vitadock-push';
import type { ProviderSimulator, SimContext, SimRequest, SimResponse } from './types';

/** Obviously fake credentials of the demo application and its pre-authorised user. */
export const VITADOCK_DEMO = {
  consumerKey: 'demo-vitadock-app-key-not-real',
  consumerSecret: 'demo-vitadock-app-secret-not-real',
  accessToken: 'demo-vitadock-access-token-not-real',
  accessSecret: 'demo-vitadock-access-secret-not-real',
  name: 'vitadock-demo',
} as const;

/**
 * A second pre-authorised user of the demo application: years of weekly weigh-ins (and a weekly blood
 * pressure), the record a scale's owner wants whole. Obviously fake tokens too.
 */
export const VITADOCK_YEARS = {
  accessToken: 'demo-vitadock-years-token-not-real',
  accessSecret: 'demo-vitadock-years-secret-not-real',
  name: 'vitadock-years',
  years: 6,
  modules: ['targetscales', 'cardiodocks'] as const,
} as const;

export interface VitaDockSimulatorOptions {
  /** Registered applications (default: the demo one). */
  consumers?: SimConsumer[];
  /** Give the demo application its pre-authorised access token (default true). */
  demoAccess?: boolean;
  /** Seed of the user's glucose trace and device values. */
  seed?: string;
  /** Days of history present at start (default 30). */
  historyDays?: number;
  /** Minutes between glucose readings (default 15). */
  glucoseIntervalMinutes?: number;
  /** How far a timestamp may be from the server's clock (default 5 minutes). */
  maxSkewMs?: number;
  /** The largest page the server gives, whatever `max` asks (default 100). */
  maxPage?: number;
  /** The clock the records follow (default the system clock, so fake timers drive it). */
  clock?: SimClock;
}

const DEFAULT_PAGE = 100;
const DAY_MS = 24 * 3600_000;

const html = (status: number, body: string): SimResponse => ({
  status,
  headers: { 'Content-Type': 'text/html; charset=utf-8' },
  body: `<!DOCTYPE html><html><head><title>VitaDock Online (simulated)</title></head><body>${body}</body></html>`,
});
const text = (status: number, body: string): SimResponse => ({
  status,
  headers: { 'Content-Type': 'text/plain; charset=utf-8' },
  body,
});
const unauthorised = (): SimResponse => text(401, 'Unauthorized');
const badRequest = (): SimResponse => text(400, 'Bad Request');
const tokenBody = (pair: { token: string; secret: string }) =>
  text(200, `oauth_token=${pair.token}&oauth_token_secret=${pair.secret}`);

/**
 * `new Simulator({providers: [new VitaDockSimulator()]})`; a client's server is `${sim.url}/vitadock`.
 * The server requires `start`, `max` and `date_since` on list and sync calls (GlucoBridge always sends them).
 */
export class VitaDockSimulator implements ProviderSimulator {
  readonly provider = 'vitadock' as const;
  readonly prefix = '/vitadock';
  readonly auth: VitaDockAuthority;
  readonly data: VitaDockDataStore;
  /** The records of `VITADOCK_YEARS` (weekly, for years). */
  readonly years: VitaDockDataStore;
  private readonly clock: SimClock;
  private readonly maxPage: number;

  constructor(options: VitaDockSimulatorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxPage = options.maxPage ?? DEFAULT_PAGE;
    this.auth = new VitaDockAuthority(options.maxSkewMs ?? 5 * 60_000);
    const consumers = options.consumers ?? [
      { key: VITADOCK_DEMO.consumerKey, secret: VITADOCK_DEMO.consumerSecret },
    ];
    for (const consumer of consumers) this.auth.addConsumer(consumer);
    if (options.demoAccess ?? true) {
      this.auth.addConsumer({ key: VITADOCK_DEMO.consumerKey, secret: VITADOCK_DEMO.consumerSecret });
      this.auth.addAccessToken(
        VITADOCK_DEMO.consumerKey,
        { token: VITADOCK_DEMO.accessToken, secret: VITADOCK_DEMO.accessSecret },
        0,
      );
      this.auth.addAccessToken(
        VITADOCK_DEMO.consumerKey,
        { token: VITADOCK_YEARS.accessToken, secret: VITADOCK_YEARS.accessSecret },
        0,
      );
    }
    this.years = new VitaDockDataStore(
      `${options.seed ?? 'vitadock-demo'}:years`,
      this.clock.now(),
      VITADOCK_YEARS.years * 366,
      DAY_MS,
      { modules: VITADOCK_YEARS.modules, everyDays: 7 },
    );
    this.data = new VitaDockDataStore(
      options.seed ?? 'vitadock-demo',
      this.clock.now(),
      options.historyDays ?? 30,
      (options.glucoseIntervalMinutes ?? 15) * 60_000,
    );
  }

  describe(baseUrl: string): string[] {
    const env = (token: string, secret: string) =>
      `GLUCOBRIDGE_VITADOCK_CONSUMER_KEY=${VITADOCK_DEMO.consumerKey} ` +
      `GLUCOBRIDGE_VITADOCK_CONSUMER_SECRET=${VITADOCK_DEMO.consumerSecret} ` +
      `GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN=${token} GLUCOBRIDGE_VITADOCK_ACCESS_SECRET=${secret}`;
    return [
      `VitaDock Online at ${baseUrl}: application key ${VITADOCK_DEMO.consumerKey}, pre-authorised users "${VITADOCK_DEMO.name}" and "${VITADOCK_YEARS.name}"`,
      `  read --provider vitadock needs the application key and secret and a pre-authorised token pair:`,
      `    ${env(VITADOCK_DEMO.accessToken, VITADOCK_DEMO.accessSecret)} \\`,
      `      glucobridge read --provider vitadock --server ${baseUrl} [--module targetscales]`,
      `  "${VITADOCK_YEARS.name}" (${VITADOCK_YEARS.years} years of weekly weigh-ins and blood pressure): the same with`,
      `    GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN=${VITADOCK_YEARS.accessToken} GLUCOBRIDGE_VITADOCK_ACCESS_SECRET=${VITADOCK_YEARS.accessSecret}`,
      `      glucobridge read --provider vitadock --server ${baseUrl} --module targetscales --since 2020-01-01`,
      `  consent page ${baseUrl}/desiredaccessrights/request?oauth_token=… (add &approve=1 to grant without a browser)`,
    ];
  }

  // ---- what tests drive -------------------------------------------------------------------------

  /** The user grants access to a request token; returns the verifier. */
  approve(requestToken: string): string {
    return this.auth.approve(requestToken);
  }

  setCallbackUrl(consumerKey: string, url: string | undefined): void {
    this.auth.setCallbackUrl(consumerKey, url);
  }

  /** The user withdraws an access token in the web UI. */
  revoke(accessToken: string): boolean {
    return this.auth.revoke(accessToken);
  }

  /** The user deletes a record in the web UI: `/sync` then shows it as `active:false`. */
  deleteRecord(module: VitaDockDataModule, id: string): boolean {
    return this.data.remove(module, id, this.clock.now());
  }

  /** A record measured now (or at `measurementDate`), as a device upload. */
  addRecord(module: VitaDockDataModule, fields: Record<string, unknown>): string {
    return this.data.store(module, fields, this.clock.now());
  }

  records(module: VitaDockDataModule): SimRecord[] {
    this.data.advance(this.clock.now());
    return this.data.all(module);
  }

  /**
   * Builds the notification VitaDock would send for `moduleId` (-1: access withdrawn), signed for
   * `accessToken` (default the newest one issued).
   */
  signPush(url: string, moduleId: number | VitaDockDataModule, accessToken?: string): PushRequest {
    const found = accessToken ? this.auth.accessWith(accessToken) : this.auth.newestAccess();
    if (!found) throw new Error('no access token to sign a push for');
    const id = typeof moduleId === 'number' ? moduleId : pushIdOf(moduleId);
    if (id === undefined) throw new Error(`module ${String(moduleId)} has no push id`);
    return signedPush(
      url,
      id,
      {
        consumerKey: found.consumer.key,
        consumerSecret: found.consumer.secret,
        accessToken: found.access.token,
        accessSecret: found.access.secret,
      },
      systemClock.now(),
    );
  }

  /** Sends a signed notification to `url` and resolves with the receiver's answer. */
  async sendPush(
    url: string,
    moduleId: number | VitaDockDataModule,
    accessToken?: string,
  ): Promise<{ status: number; body: string }> {
    return deliverPush(this.signPush(url, moduleId, accessToken));
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  handle(request: SimRequest, context: SimContext): SimResponse {
    const now = context.clock.now();
    const path = request.path.replace(/\/+$/, '') || '/';
    const signedUrl = `${context.baseUrl}${path}`;
    // Timestamps are judged by the wall clock the client signs with, even when the records run on a
    // compressed demo clock.
    const check = (kind: TokenKind) => this.auth.check(request, signedUrl, kind, systemClock.now());
    if (request.method === 'POST' && path === '/auth/devices') {
      const result = check('none');
      const deviceId = headerOf(request, 'device_id');
      if (!result.ok) return unauthorised();
      if (!deviceId) return badRequest();
      return tokenBody(
        this.auth.registerDevice(this.auth.appOf(result.consumerKey) ?? result.consumerKey, deviceId),
      );
    }
    if (request.method === 'GET' && path === '/auth/devices/generate') return text(200, randomUUID());
    if (request.method === 'POST' && path === '/auth/unauthorizedaccesses') {
      const result = check('none');
      return result.ok ? tokenBody(this.auth.issueRequestToken(result.consumerKey)) : unauthorised();
    }
    if (request.method === 'POST' && path === '/auth/accesses/verify') {
      const result = check('request');
      if (!result.ok || !result.token) return unauthorised();
      const access = this.auth.issueAccessToken(result.token.token, result.verifier, now);
      return access ? tokenBody(access) : unauthorised();
    }
    if (request.method === 'POST' && path === '/auth/accesses/logout') {
      const result = check('access');
      if (!result.ok || !result.token) return unauthorised();
      this.auth.revoke(result.token.token);
      return { status: 200 };
    }
    if (request.method === 'GET' && (path === '/desiredaccessrights/request' || path === '/signup')) {
      return this.consentPage(request);
    }
    if (path.startsWith('/data/')) {
      const result = check('access');
      if (!result.ok) return unauthorised();
      const store = result.token?.token === VITADOCK_YEARS.accessToken ? this.years : this.data;
      return this.dataCall(request, path.slice('/data/'.length), now, store);
    }
    return text(404, 'Not Found');
  }

  private consentPage(request: SimRequest): SimResponse {
    const token = request.query.get('oauth_token') ?? '';
    const pending = this.auth.requestToken(token);
    if (!pending) return html(400, '<p>This authorisation link is not valid (any more).</p>');
    const callback = this.auth.callbackOf(pending.consumerKey);
    if (request.query.get('deny') === '1') {
      this.auth.deny(token);
      if (!callback) return html(200, '<p>Access denied.</p>');
      return redirect(callback, { oauth_token: token, deny: 'true' });
    }
    if (request.query.get('approve') === '1') {
      const verifier = this.auth.approve(token);
      if (!callback) {
        return html(
          200,
          `<p>Enter this verifier in your application:</p><p id="verifier">oauth_verifier=${verifier}</p>`,
        );
      }
      return redirect(callback, { oauth_token: token, oauth_verifier: verifier });
    }
    const self = `${request.url.pathname}?oauth_token=${encodeURIComponent(token)}`;
    return html(
      200,
      `<h1>Grant access to your VitaDock data?</h1><p><a href="${self}&amp;approve=1">Allow</a> ` +
        `<a href="${self}&amp;deny=1">Deny</a></p>`,
    );
  }

  private dataCall(request: SimRequest, rest: string, now: number, data: VitaDockDataStore): SimResponse {
    const match = /^(.+?)(\/sync|\/count|\/array|\/delete\/array|\/delete)?$/.exec(rest);
    const module = match?.[1] as VitaDockDataModule | undefined;
    const operation = match?.[2] ?? '';
    if (!module || !(VITADOCK_DATA_MODULES as readonly string[]).includes(module))
      return text(404, 'Not Found');
    if (hasRepeatedParameter(request.query)) return badRequest();
    data.advance(now);
    const records = data.all(module);
    if (request.method === 'GET' && (operation === '' || operation === '/sync')) {
      return this.page(request, records, operation === '/sync' ? 'updatedDate' : 'measurementDate');
    }
    if (request.method === 'GET' && operation === '/count') {
      const since = integerParam(request, 'date_since');
      if (since === undefined) return badRequest();
      return text(200, String(records.filter((r) => r.active && r.measurementDate > since).length));
    }
    if (request.method === 'POST' && operation === '/array') {
      if (!Array.isArray(request.json)) return badRequest();
      const items = request.json as unknown[];
      if (!items.every((item) => item !== null && typeof item === 'object')) return badRequest();
      return {
        status: 200,
        body: items.map((item) => data.store(module, item as Record<string, unknown>, now)),
      };
    }
    if (request.method === 'POST' && operation === '/delete/array') {
      if (!Array.isArray(request.json)) return badRequest();
      for (const id of request.json as unknown[]) if (typeof id === 'string') data.remove(module, id, now);
      return { status: 200 };
    }
    if (request.method === 'POST' && operation === '/delete') {
      const id = request.query.get('id');
      return id && data.remove(module, id, now) ? { status: 200 } : text(404, 'Not Found');
    }
    return text(405, 'Method Not Allowed');
  }

  /** One page: oldest first from `start` (0-based), on measurement or update date per endpoint. */
  private page(
    request: SimRequest,
    records: SimRecord[],
    field: 'measurementDate' | 'updatedDate',
  ): SimResponse {
    const start = integerParam(request, 'start');
    const max = integerParam(request, 'max');
    const since = integerParam(request, 'date_since');
    if (start === undefined || max === undefined || since === undefined || max < 1) return badRequest();
    const matching = records
      .filter((r) => r[field] > since)
      .sort((a, b) => a[field] - b[field] || a.id.localeCompare(b.id));
    return { status: 200, body: matching.slice(start, start + Math.min(max, this.maxPage)) };
  }
}

function integerParam(request: SimRequest, name: string): number | undefined {
  const value = request.query.get(name);
  return value !== null && /^-?\d+$/.test(value) ? Number(value) : undefined;
}

function hasRepeatedParameter(query: URLSearchParams): boolean {
  const names = [...query.keys()];
  return new Set(names).size !== names.length;
}

function redirect(callback: string, params: Record<string, string>): SimResponse {
  const url = new URL(callback);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return { status: 302, headers: { Location: url.toString() }, body: '' };
}
