import { randomUUID } from 'node:crypto';
import type { DexcomRegion } from '../config';
import {
  DEXCOM_APPLICATION_ID,
  DEXCOM_JP_APPLICATION_ID,
  NULL_UUID,
  SERVICES_PATH,
  isUuid,
} from '../providers/dexcom/constants';
import { DEXCOM_TREND_BY_CODE } from '../model/trend';
import { dexcomFault, dexcomJson, wireRecord, type SubCodeFormat, type WireFormat } from './dexcom-wire';
import { registerDexcomPublisher } from './dexcom-publisher';
import { gridTimes, tracePoint, type TracePoint } from './trace';
import type { ProviderSimulator, SimContext, SimRequest, SimResponse } from './types';

export interface DexcomSimAccount {
  username: string;
  password: string;
  accountId: string;
  region: DexcomRegion;
  name?: string;
  profile?: 'steady' | 'brittle';
  /** The receiver serial registered to this account (publisher side). */
  receiver?: string;
  /** The uploader's UTC offset in minutes, shown in DT. */
  utcOffsetMinutes?: number;
  /** `legacy` answers in the 2015 form: `/Date(ms)/` and numeric trends. */
  format?: WireFormat;
  /**
   * A scripted trace instead of the seeded one (tests that need a value whatever the hour): the
   * reading at each 5-minute instant.
   */
  trace?: (time: number) => TracePoint;
  /**
   * This account's uploader (benchmarks): the delay (ms) from each reading's instant to its appearance
   * in the cloud, instead of the simulator's `lagMs`. Must give the same delay for the same instant.
   */
  uploadLagMs?: (time: number) => number;
  /** Where this account's 5-minute grid starts (ms past each 5-minute mark; sensors differ). Default 0. */
  phaseMs?: number;
}

export interface DexcomSimulatorOptions {
  accounts?: DexcomSimAccount[];
  /** A session stops working this long after its login (default 24 h). */
  sessionTtlMs?: number;
  /** Wrong passwords in a row before the account locks (default 3). */
  lockoutAfter?: number;
  /** How long a lock lasts (default 15 min). */
  lockoutMs?: number;
  /** Delay from a measurement to its availability (default 20 s). */
  lagMs?: number;
  /** SubCode as XML (Dexcom until 2025) or as a JSON string (seen since). */
  subCode?: SubCodeFormat;
  /** How a posted batch with a reading already stored is answered (default `store-new`). */
  duplicates?: DuplicateMode;
}

/**
 * `store-new`: the new readings of a batch are stored, and only a batch with nothing new is
 * DuplicateEgvPosted. `refuse-batch`: a batch with any stored reading is refused whole with
 * DuplicateEgvPosted and nothing of it is stored. Which one Dexcom does was never captured; an
 * uploader has to lose nothing under either.
 */
export type DuplicateMode = 'store-new' | 'refuse-batch';

/** Obviously fake demo accounts, one per region. */
export const DEXCOM_DEMO_ACCOUNTS: readonly DexcomSimAccount[] = [
  {
    username: 'demo-alex',
    password: 'not-a-real-password-us',
    accountId: '0a1e0c5a-1111-4d5e-8a6b-00000000d001',
    region: 'us',
    name: 'Alex',
    profile: 'steady',
    receiver: 'SM12345678',
    utcOffsetMinutes: -240,
  },
  {
    username: 'demo-sam@example.com',
    password: 'not-a-real-password-ous',
    accountId: '0a1e0c5a-2222-4d5e-8a6b-00000000d002',
    region: 'ous',
    name: 'Sam',
    profile: 'brittle',
    receiver: 'SM87654321',
    utcOffsetMinutes: 60,
  },
  {
    username: 'demo-kenji',
    password: 'not-a-real-password-jp',
    accountId: '0a1e0c5a-3333-4d5e-8a6b-00000000d003',
    region: 'jp',
    name: 'Kenji',
    profile: 'steady',
    utcOffsetMinutes: 540,
  },
];

const MINUTE = 60_000;
const READING_STEP = 5 * MINUTE;
const DAY = 24 * 60 * MINUTE;

/** A reading uploaded through PostReceiverEgvRecords. */
export interface StoredEgv {
  time: number;
  mgdl: number;
  trendCode: number;
}

export interface DexcomSimContact {
  contactId: string;
  name: string;
  email: string;
  created: number;
  modified: number;
  invitation?: {
    subscriptionId: string;
    displayName: string;
    permissions: number;
    alertSettings: unknown;
    created: number;
  };
}

/** Everything the simulated cloud remembers about one account. */
export interface DexcomSimAccountState {
  account: DexcomSimAccount;
  failures: number;
  lockedUntil: number;
  /** The receiver serial assigned to this account now. */
  assignedReceiver: string | undefined;
  monitoring: boolean;
  uploads: Map<number, StoredEgv>;
  /** EGV records received in PostReceiverEgvRecords bodies, stored or refused (tests count floods). */
  egvsPosted: number;
  contacts: Map<string, DexcomSimContact>;
  runtimeInfo: unknown;
}

interface SimSession {
  id: string;
  accountId: string;
  region: DexcomRegion;
  createdAt: number;
  expired: boolean;
}

/** What a Publisher/* handler gets besides the request. */
export interface DexcomPublisherCall {
  endpoint: string;
  request: SimRequest;
  state: DexcomSimAccountState;
  now: number;
  fault: (code: string, message: string) => SimResponse;
}

export type DexcomPublisherHandler = (call: DexcomPublisherCall) => SimResponse;

const ROUTE = new RegExp(`^/(us|ous|jp)${SERVICES_PATH}/([A-Za-z]+/[A-Za-z]+)/?$`);

/**
 * The Dexcom Share cloud on loopback: one path segment per region (`/dexcom/us`, `/dexcom/ous`,
 * `/dexcom/jp`), each account in one region (elsewhere its login fails like a wrong password),
 * the two-step login, sessions that expire, lockout after wrong passwords, readings from the
 * deterministic trace or, once something was uploaded, the uploads.
 */
export class DexcomSimulator implements ProviderSimulator {
  readonly provider = 'dexcom' as const;
  readonly prefix = '/dexcom';
  private readonly states: DexcomSimAccountState[];
  private readonly sessions = new Map<string, SimSession>();
  private readonly sessionTtlMs: number;
  private readonly lockoutAfter: number;
  private readonly lockoutMs: number;
  private readonly lagMs: number;
  private readonly subCode: SubCodeFormat;
  private readonly publisherHandlers = new Map<string, DexcomPublisherHandler>();
  /** How batches with a stored reading are answered; tests switch it. */
  duplicates: DuplicateMode;

  constructor(options: DexcomSimulatorOptions = {}) {
    this.states = (options.accounts ?? DEXCOM_DEMO_ACCOUNTS).map((account) => ({
      account,
      failures: 0,
      lockedUntil: 0,
      assignedReceiver: account.receiver,
      monitoring: false,
      uploads: new Map(),
      egvsPosted: 0,
      contacts: new Map(),
      runtimeInfo: undefined,
    }));
    this.sessionTtlMs = options.sessionTtlMs ?? DAY;
    this.lockoutAfter = options.lockoutAfter ?? 3;
    this.lockoutMs = options.lockoutMs ?? 15 * MINUTE;
    this.lagMs = options.lagMs ?? 20_000;
    this.subCode = options.subCode ?? 'xml';
    this.duplicates = options.duplicates ?? 'store-new';
    registerDexcomPublisher(this, () => this.states);
  }

  /** Adds the handler of one Publisher/* endpoint (the publisher and followers side). */
  register(endpoint: string, handler: DexcomPublisherHandler): this {
    this.publisherHandlers.set(endpoint, handler);
    return this;
  }

  /** The handler of one Publisher/* endpoint now (tests wrap it to fail one call among many). */
  handler(endpoint: string): DexcomPublisherHandler | undefined {
    return this.publisherHandlers.get(endpoint);
  }

  /** Ends every open session: the next call with one gets SessionNotValid. */
  expireSessions(): void {
    for (const session of this.sessions.values()) session.expired = true;
  }

  /** The state of one account (by username or account id), for tests and the CLI demo. */
  state(usernameOrId: string): DexcomSimAccountState {
    const found = this.states.find(
      (s) => s.account.accountId === usernameOrId || s.account.username === usernameOrId,
    );
    if (!found) throw new Error(`no simulated Dexcom account ${usernameOrId}`);
    return found;
  }

  /** One line per demo account: the login, the server and the receiver serial uploads need. */
  describe(baseUrl: string): string[] {
    return this.states.map(({ account }) => {
      const receiver = account.receiver
        ? `receiver serial ${account.receiver}`
        : 'no receiver (upload with --take-over-receiver and any serial)';
      return (
        `dexcom ${account.region}: username ${account.username}, password ${account.password}, ` +
        `account id ${account.accountId}, ${receiver} (server ${baseUrl}/${account.region})`
      );
    });
  }

  handle(request: SimRequest, context: SimContext): SimResponse {
    const match = ROUTE.exec(request.path);
    if (!match) return { status: 404, body: 'Not Found' };
    const region = match[1] as DexcomRegion;
    const endpoint = match[2] ?? '';
    const now = context.clock.now();
    if (endpoint === 'General/SystemUtcTime') {
      if (request.method !== 'GET') return { status: 405, body: '' };
      return dexcomJson({ DateTime: `/Date(${now})/`, OffsetMinutes: 0 });
    }
    if (request.method !== 'POST') return { status: 405, body: '' };
    switch (endpoint) {
      case 'General/AuthenticatePublisherAccount':
        return this.authenticate(region, request.json, now);
      case 'General/LoginPublisherAccountById':
        return this.loginById(region, request.json, now);
      case 'General/LoginPublisherAccountByName':
        // What this legacy call has answered since 2022, whatever the credentials.
        return dexcomJson(NULL_UUID);
    }
    if (!endpoint.startsWith('Publisher/')) return { status: 404, body: 'Not Found' };
    return this.publisher(region, endpoint, request, now);
  }

  private fault(code: string, message: string, now: number): SimResponse {
    return dexcomFault(code, message, now, this.subCode);
  }

  private authenticate(region: DexcomRegion, json: unknown, now: number): SimResponse {
    const body = fields(json, ['accountName', 'password', 'applicationId']);
    if (typeof body === 'string') return this.fault('InvalidArgument', body, now);
    const state = this.states.find(
      (s) =>
        s.account.region === region && s.account.username.toLowerCase() === body.accountName.toLowerCase(),
    );
    if (!state || !appIdFits(region, body.applicationId)) {
      // Unknown user, another region's account or the wrong application id all look alike.
      return this.fault('AccountPasswordInvalid', 'Publisher account password failed', now);
    }
    const refused = this.checkPassword(state, body.password, now);
    return refused ?? dexcomJson(state.account.accountId);
  }

  private loginById(region: DexcomRegion, json: unknown, now: number): SimResponse {
    const body = fields(json, ['accountId', 'password', 'applicationId']);
    if (typeof body === 'string') return this.fault('InvalidArgument', body, now);
    if (body.accountId === '') return dexcomJson(NULL_UUID);
    if (!isUuid(body.accountId)) {
      return this.fault(
        'InvalidArgument',
        'Missing required field(s): JSON parse error: Cannot deserialize value of type `java.util.UUID` ' +
          `from String "${body.accountId}": UUID has to be represented by standard 36-char representation`,
        now,
      );
    }
    const state = this.states.find(
      (s) =>
        s.account.region === region && s.account.accountId.toLowerCase() === body.accountId.toLowerCase(),
    );
    if (!state || !appIdFits(region, body.applicationId)) {
      return this.fault(
        'SSO_InternalError',
        `Synchronization of SSO account during authenticate call failed. AccountId=${body.accountId} ` +
          "UAM_ERROR: HttpStatus='401 UNAUTHORIZED(401)' " +
          `Msg=Cannot Authenticate by AccountId='${body.accountId}'`,
        now,
      );
    }
    const refused = this.checkPassword(state, body.password, now);
    if (refused) return refused;
    const session: SimSession = {
      id: randomUUID(),
      accountId: state.account.accountId,
      region,
      createdAt: now,
      expired: false,
    };
    this.sessions.set(session.id, session);
    return dexcomJson(session.id);
  }

  /** Lockout first, then the password; wrong ones count towards the lock. */
  private checkPassword(
    state: DexcomSimAccountState,
    password: string,
    now: number,
  ): SimResponse | undefined {
    if (state.lockedUntil > now) {
      return this.fault(
        'SSO_AuthenticateMaxAttemptsExceeed',
        'Maximum authentication attempts exceeded',
        now,
      );
    }
    if (password === state.account.password) {
      state.failures = 0;
      return undefined;
    }
    state.failures += 1;
    if (state.failures >= this.lockoutAfter) {
      state.failures = 0;
      state.lockedUntil = now + this.lockoutMs;
      return this.fault(
        'SSO_AuthenticateMaxAttemptsExceeed',
        'Maximum authentication attempts exceeded',
        now,
      );
    }
    return this.fault('AccountPasswordInvalid', 'Publisher account password failed', now);
  }

  private publisher(region: DexcomRegion, endpoint: string, request: SimRequest, now: number): SimResponse {
    const sessionId = sessionParam(request);
    if (sessionId === undefined || !isUuid(sessionId)) {
      return {
        status: 400,
        body: 'The server encountered an error processing the request. See server logs for more details.',
      };
    }
    if (sessionId === NULL_UUID && endpoint === 'Publisher/ReadPublisherLatestGlucoseValues') {
      return { status: 200, body: '' }; // what the null session reads: an empty, non-JSON body
    }
    const session = this.sessions.get(sessionId.toLowerCase());
    if (!session || session.region !== region) {
      return this.fault(
        'SessionIdNotFound',
        `Failed to find session object. [SessionId = ${sessionId}]`,
        now,
      );
    }
    if (session.expired || now - session.createdAt > this.sessionTtlMs) {
      session.expired = true;
      return this.fault(
        'SessionNotValid',
        `Session not active or timed out. [SessionId = ${sessionId}]`,
        now,
      );
    }
    const state = this.state(session.accountId);
    if (endpoint === 'Publisher/ReadPublisherLatestGlucoseValues') return this.read(state, request, now);
    const handler = this.publisherHandlers.get(endpoint);
    if (!handler) return { status: 404, body: 'Not Found' };
    return handler({
      endpoint,
      request,
      state,
      now,
      fault: (code, message) => this.fault(code, message, now),
    });
  }

  private read(state: DexcomSimAccountState, request: SimRequest, now: number): SimResponse {
    const minutes = Number(request.query.get('minutes'));
    const maxCount = Number(request.query.get('maxCount'));
    if (!Number.isInteger(minutes) || !Number.isInteger(maxCount) || minutes < 0 || maxCount < 0) {
      return this.fault('InvalidArgument', 'minutes and maxCount must be whole numbers', now);
    }
    // Nothing older than a day is kept, whatever window is asked for.
    const from = now - Math.min(minutes, 1440) * MINUTE;
    const account = state.account;
    const readings =
      state.uploads.size > 0
        ? [...state.uploads.values()]
            .filter((egv) => egv.time > from && egv.time <= now)
            .sort((a, b) => b.time - a.time)
            .map((egv) => ({
              time: egv.time,
              mgdl: egv.mgdl,
              trend: DEXCOM_TREND_BY_CODE[egv.trendCode] ?? 'notComputable',
            }))
        : this.visibleTimes(account, from, now)
            // Only the records sent are traced (a latest read asks for one of a day's 288).
            .slice(0, maxCount)
            .map((time) =>
              account.trace
                ? account.trace(time)
                : tracePoint(account.accountId, time, account.profile ?? 'steady'),
            );
    const records = readings
      .slice(0, maxCount)
      .map((reading) => wireRecord(reading, account.utcOffsetMinutes ?? 0, account.format ?? 'modern'));
    return { status: 200, headers: { 'Content-Type': 'application/json' }, body: records };
  }

  private visibleTimes(account: DexcomSimAccount, from: number, now: number): number[] {
    const phase = account.phaseMs ?? 0;
    const lag = account.uploadLagMs;
    if (!lag) return gridTimes(from - phase, now - this.lagMs - phase, READING_STEP).map((t) => t + phase);
    // Readings up to a few minutes old may still be on their way.
    return gridTimes(from - phase, now - phase, READING_STEP)
      .map((t) => t + phase)
      .filter((t) => t + lag(t) <= now);
  }
}

function appIdFits(region: DexcomRegion, applicationId: string): boolean {
  return region === 'jp'
    ? applicationId === DEXCOM_JP_APPLICATION_ID
    : applicationId === DEXCOM_APPLICATION_ID;
}

/** Both spellings clients use (`sessionId`, `sessionID`), or in the body (runtime info). */
export function sessionParam(request: SimRequest): string | undefined {
  for (const [key, value] of request.query) if (key.toLowerCase() === 'sessionid') return value;
  const inBody = (request.json as { sessionId?: unknown } | undefined)?.sessionId;
  return typeof inBody === 'string' ? inBody : undefined;
}

/** The named string fields of a JSON body, or the InvalidArgument message naming a missing one. */
function fields<K extends string>(json: unknown, names: K[]): Record<K, string> | string {
  if (json === null || typeof json !== 'object') return `Missing required field(s): ${names.join(', ')}`;
  const out = {} as Record<K, string>;
  for (const name of names) {
    const value = (json as Record<string, unknown>)[name];
    if (typeof value !== 'string') return `Missing required field(s): ${name}`;
    out[name] = value;
  }
  return out;
}
