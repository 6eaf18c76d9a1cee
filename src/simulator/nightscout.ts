import { entryIdentifier } from '../providers/nightscout/identifier';
import { SiteSecurity, permits, type Identity } from './nightscout-auth';
import { inWindow, objectId, uploaderEntries, type EntryDoc, type Window } from './nightscout-entries';
import { NIGHTSCOUT_DEMO_SITES, type NightscoutSiteSpec } from './nightscout-sites';
import type { ProviderSimulator, SimContext, SimRequest, SimResponse } from './types';

export { NIGHTSCOUT_DEMO_SITES } from './nightscout-sites';
export type { NightscoutSiteSpec, NightscoutUploaderSpec, NightscoutTokenSpec } from './nightscout-sites';

export interface NightscoutSimulatorOptions {
  sites?: readonly NightscoutSiteSpec[];
  /** How long a JWT from the token exchange lasts (the real server: 8 h). */
  jwtLifetimeMs?: number;
}

/** One document a site received through an upload, in arrival order. */
export interface NightscoutUploadRecord {
  api: 'v1' | 'v3';
  date: number;
  sgv: unknown;
  device: unknown;
  identifier?: string;
  /** created: a new entry; updated: v1 upsert of an existing instant; deduplicated: v3 same document. */
  outcome: 'created' | 'updated' | 'deduplicated';
  at: number;
}

interface SiteState {
  spec: NightscoutSiteSpec;
  security: SiteSecurity;
  stored: EntryDoc[];
  uploads: NightscoutUploadRecord[];
}

const HOUR = 3600_000;
/** v1 queries without a date bound look this far back (the server adds a default window too). */
const DEFAULT_LOOKBACK_MS = 48 * HOUR;
const V3_MAX_LIMIT = 1000;
const MIN_TIMESTAMP = 946684800000;
const IMMUTABLE = ['date', 'utcOffset', 'eventType', 'device', 'app'] as const;

const unauthorizedV1: SimResponse = {
  status: 401,
  body: { status: 401, message: 'Unauthorized', description: 'Invalid/Missing' },
};

/**
 * Nightscout sites on loopback under `/nightscout/<site>`: API v1 (`entries.json`, `status.json`,
 * uploads), the token → JWT exchange, and API v3 entries (search and create). Secrets as the real
 * server checks them: the SHA-1 of API_SECRET or of a token in `api-secret`, `?token=`, or a JWT.
 * Every upload is recorded so that tests can count it.
 */
export class NightscoutSimulator implements ProviderSimulator {
  readonly provider = 'nightscout' as const;
  readonly prefix = '/nightscout';
  private readonly sites = new Map<string, SiteState>();

  constructor(options: NightscoutSimulatorOptions = {}) {
    const lifetime = options.jwtLifetimeMs ?? 8 * HOUR;
    for (const spec of options.sites ?? NIGHTSCOUT_DEMO_SITES) {
      this.sites.set(spec.site, {
        spec,
        security: new SiteSecurity(spec, lifetime),
        stored: [],
        uploads: [],
      });
    }
  }

  describe(baseUrl: string): string[] {
    const lines = ['Nightscout sites (API v1 and v3):'];
    for (const { spec } of this.sites.values()) {
      const reader = spec.tokens.find((t) => t.roles.includes('readable'));
      const writer = spec.tokens.find((t) => t.roles.includes('admin'));
      const uploaders =
        spec.uploaders.map((u) => `${u.device} every ${Math.round(u.intervalMs / 60_000)} min`).join(' + ') ||
        'no uploader (a destination)';
      lines.push(
        `  ${spec.title}: server ${baseUrl}/${spec.site}${spec.readable ? ' (readable without a secret)' : ''}; ${uploaders}`,
        `    API secret ${spec.apiSecret}` +
          (reader ? `, read token ${reader.token}` : '') +
          (writer ? `, upload token ${writer.token}` : ''),
      );
    }
    return lines;
  }

  /** Every document uploaded to a site, in arrival order. */
  uploads(site: string): NightscoutUploadRecord[] {
    return [...this.state(site).uploads];
  }

  /** The entries uploaded to a site (one per instant and type, as stored), oldest first. */
  stored(site: string): EntryDoc[] {
    return [...this.state(site).stored].sort((a, b) => a.date - b.date);
  }

  /** Forgets what was uploaded (between tests). */
  reset(site?: string): void {
    for (const state of this.sites.values()) {
      if (site !== undefined && state.spec.site !== site) continue;
      state.stored = [];
      state.uploads = [];
    }
  }

  /** A site's new JWT key: every JWT handed out before is refused from now on. */
  rotateJwtKey(site: string): void {
    this.state(site).security.rotateKey();
  }

  handle(request: SimRequest, context: SimContext): SimResponse {
    const [, siteName = '', ...rest] = request.path.split('/');
    const path = `/${rest.join('/')}`;
    const state = this.sites.get(siteName);
    if (!state) return notFound(request);
    const now = context.clock.now();
    const get = request.method === 'GET';
    const post = request.method === 'POST';
    if (get && /^\/api\/v1\/entries(\/sgv)?(\.json)?$/.test(path)) return this.readV1(state, request, now);
    if (post && /^\/api\/v1\/entries(\.json)?$/.test(path)) return this.uploadV1(state, request, now);
    if (get && /^\/api\/v1\/status(\.json)?$/.test(path)) return this.status(state, request, now);
    const exchange = /^\/api\/v2\/authorization\/request\/([^/]+)$/.exec(path);
    if (get && exchange) return this.exchange(state, decodeURIComponent(exchange[1] ?? ''), now);
    if (path === '/api/v3/version' && get) {
      return {
        status: 200,
        body: { status: 200, result: { version: '15.0.3', apiVersion: '3.0.4-alpha', srvDate: now } },
      };
    }
    if (path === '/api/v3/entries' && get) return this.readV3(state, request, now);
    if (path === '/api/v3/entries' && post) return this.uploadV3(state, request, now);
    return notFound(request);
  }

  private state(site: string): SiteState {
    const state = this.sites.get(site);
    if (!state) throw new Error(`no simulated Nightscout site ${site}`);
    return state;
  }

  // ---- API v1 ---------------------------------------------------------------------------------

  private readV1(state: SiteState, request: SimRequest, now: number): SimResponse {
    const identity = state.security.identifyV1(request, now);
    if (!allowed(identity, 'api:entries:read')) return unauthorizedV1;
    const count = positiveInt(request.query.get('count')) ?? 10;
    const window: Window = {};
    let type: string | undefined = /\/sgv/.test(request.path) ? 'sgv' : undefined;
    for (const [key, value] of request.query) {
      const find = /^find\[(\w+)\](?:\[\$(gte|gt|lte|lt|eq)\])?$/.exec(key);
      if (!find) continue;
      if (find[1] === 'type') type = value;
      if (find[1] === 'date' && find[2] && find[2] !== 'eq') window[find[2] as keyof Window] = Number(value);
    }
    if (window.gte === undefined && window.gt === undefined) window.gte = now - DEFAULT_LOOKBACK_MS;
    const entries = this.entries(state, window, now, count, type).map(v1View);
    return { status: 200, body: entries };
  }

  private uploadV1(state: SiteState, request: SimRequest, now: number): SimResponse {
    const identity = state.security.identifyV1(request, now);
    if (!allowed(identity, 'api:entries:create')) return unauthorizedV1;
    const body = request.json;
    const docs = Array.isArray(body)
      ? body
      : body && typeof body === 'object' && 'date' in body
        ? [body]
        : [];
    const stored: EntryDoc[] = [];
    for (const raw of docs) {
      if (!raw || typeof raw !== 'object') continue;
      const doc = { ...(raw as Record<string, unknown>) };
      delete doc.secret;
      delete doc.token;
      const date =
        typeof doc.date === 'number'
          ? doc.date
          : typeof doc.dateString === 'string'
            ? Date.parse(doc.dateString)
            : NaN;
      if (!Number.isFinite(date)) continue;
      // The server upserts on the instant and the type (sysTime + type).
      const existing = state.stored.find((e) => e.date === date && e.type === doc.type);
      const record: NightscoutUploadRecord = {
        api: 'v1',
        date,
        sgv: doc.sgv,
        device: doc.device,
        outcome: existing ? 'updated' : 'created',
        at: now,
      };
      state.uploads.push(record);
      if (existing) {
        Object.assign(existing, doc, { date });
        stored.push(existing);
      } else {
        const entry: EntryDoc = {
          ...doc,
          date,
          _id: objectId(now, `${String(doc.device)}@${date}@${state.stored.length}`),
          utcOffset: 0,
          sysTime: new Date(date).toISOString(),
        };
        state.stored.push(entry);
        stored.push(entry);
      }
    }
    return { status: 200, body: stored.map(v1View) };
  }

  private status(state: SiteState, request: SimRequest, now: number): SimResponse {
    const identity = state.security.identifyV1(request, now);
    if (!allowed(identity, 'api:status:read')) return unauthorizedV1;
    const { spec } = state;
    return {
      status: 200,
      body: {
        status: 'ok',
        name: 'nightscout',
        version: '15.0.3',
        serverTime: new Date(now).toISOString(),
        serverTimeEpoch: now,
        apiEnabled: true,
        careportalEnabled: true,
        boluscalcEnabled: false,
        settings: {
          units: spec.units ?? 'mg/dl',
          timeFormat: 24,
          customTitle: spec.title,
          theme: 'colors',
          alarmUrgentHigh: true,
          alarmHigh: true,
          alarmLow: true,
          alarmUrgentLow: true,
          thresholds: spec.thresholds ?? { bgHigh: 260, bgTargetTop: 180, bgTargetBottom: 80, bgLow: 55 },
          authDefaultRoles: spec.readable ? 'readable' : 'denied',
        },
        extendedSettings: { devicestatus: { advanced: true } },
        authorized: null,
      },
    };
  }

  private exchange(state: SiteState, token: string, now: number): SimResponse {
    const issued = state.security.exchange(token, now);
    if (!issued) return unauthorizedV1;
    return {
      status: 200,
      body: {
        token: issued.token,
        sub: issued.subject.subject,
        permissionGroups: issued.subject.roles.map((role) => (role === 'admin' ? ['*'] : ['*:*:read'])),
        iat: issued.claims.iat,
        exp: issued.claims.exp,
      },
    };
  }

  // ---- API v3 ---------------------------------------------------------------------------------

  private authorizeV3(
    state: SiteState,
    request: SimRequest,
    now: number,
    permission: string,
  ): SimResponse | undefined {
    const identity = state.security.identifyV3(request, now);
    if (identity === 'missing') return v3Status(401, 'Missing or bad access token or JWT');
    if (identity.kind === 'failed') return v3Status(401, 'Bad access token or JWT');
    if (!permits(identity.permissions, permission)) return v3Status(403, `Missing permission ${permission}`);
    return undefined;
  }

  private readV3(state: SiteState, request: SimRequest, now: number): SimResponse {
    const refused = this.authorizeV3(state, request, now, 'api:entries:read');
    if (refused) return refused;
    const limit = positiveInt(request.query.get('limit')) ?? 10;
    if (limit > V3_MAX_LIMIT) return v3Status(400, 'Parameter limit out of tolerance');
    const window: Window = {};
    let type: string | undefined;
    for (const [key, value] of request.query) {
      const filter = /^(\w+)(?:\$(eq|gte|gt|lte|lt))?$/.exec(key);
      if (!filter || ['limit', 'sort', 'fields', 'skip', 'token', 'now'].includes(key)) continue;
      if (filter[1] === 'type' && (filter[2] ?? 'eq') === 'eq') type = value;
      if (filter[1] === 'date' && filter[2] && filter[2] !== 'eq')
        window[filter[2] as keyof Window] = Number(value);
    }
    // Newest first whatever `sort` says: the only order clients here ask for (`sort$desc=date`).
    const entries = this.entries(state, window, now, limit, type).map((e) =>
      v3View(e, request.query.get('fields')),
    );
    return { status: 200, body: { status: 200, result: entries } };
  }

  private uploadV3(state: SiteState, request: SimRequest, now: number): SimResponse {
    const identity = state.security.identifyV3(request, now);
    if (identity === 'missing') return v3Status(401, 'Missing or bad access token or JWT');
    if (identity.kind === 'failed') return v3Status(401, 'Bad access token or JWT');
    const raw = request.json;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw) || Object.keys(raw).length === 0) {
      return v3Status(400, 'Bad or missing request body');
    }
    const doc = { ...(raw as Record<string, unknown>) };
    if (typeof doc.date === 'string') doc.date = Date.parse(doc.date);
    if (doc.utcOffset === undefined) doc.utcOffset = 0;
    doc.identifier ??= entryIdentifier(String(doc.device), Number(doc.date));
    if (typeof doc.identifier !== 'string' || doc.identifier.trim() === '') {
      return v3Status(400, 'Bad or missing identifier field');
    }
    if (typeof doc.date !== 'number' || doc.date <= MIN_TIMESTAMP)
      return v3Status(400, 'Bad or missing date field');
    if (typeof doc.utcOffset !== 'number' || Math.abs(doc.utcOffset) > 1440) {
      return v3Status(400, 'Bad or missing utcOffset field');
    }
    if (typeof doc.app !== 'string' || doc.app.trim() === '')
      return v3Status(400, 'Bad or missing app field');
    const date = doc.date;
    const existing = state.stored.find(
      (e) =>
        e.identifier === doc.identifier ||
        (e.identifier === undefined && e.date === date && e.type === doc.type),
    );
    const record = {
      api: 'v3' as const,
      date,
      sgv: doc.sgv,
      device: doc.device,
      identifier: doc.identifier,
      at: now,
    };
    if (existing) {
      if (!permits(identity.permissions, 'api:entries:update'))
        return v3Status(403, 'Missing permission api:entries:update');
      const changed = IMMUTABLE.find((field) => doc[field] !== undefined && doc[field] !== existing[field]);
      if (changed) return v3Status(400, `Field ${changed} cannot be modified by the client`);
      Object.assign(existing, doc, { srvModified: now });
      state.uploads.push({ ...record, outcome: 'deduplicated' });
      return {
        status: 200,
        body: { status: 200, lastModified: now, identifier: doc.identifier, isDeduplication: true },
      };
    }
    if (!permits(identity.permissions, 'api:entries:create'))
      return v3Status(403, 'Missing permission api:entries:create');
    state.stored.push({ ...doc, date, srvCreated: now, srvModified: now });
    state.uploads.push({ ...record, outcome: 'created' });
    return { status: 201, body: { status: 201, identifier: doc.identifier, lastModified: now } };
  }

  // ---- entries --------------------------------------------------------------------------------

  /** Generated and uploaded entries in the window, newest first, at most `limit`. */
  private entries(
    state: SiteState,
    window: Window,
    now: number,
    limit: number,
    type: string | undefined,
  ): EntryDoc[] {
    const all: EntryDoc[] = [];
    for (const uploader of state.spec.uploaders) all.push(...uploaderEntries(uploader, window, now, limit));
    all.push(...state.stored.filter((e) => inWindow(e.date, window)));
    return all
      .filter(
        (e) =>
          type === undefined || e.type === type || (type === 'sgv' && e.type === undefined && 'sgv' in e),
      )
      .sort((a, b) => b.date - a.date)
      .slice(0, limit);
  }
}

/** What v1 shows of an entry: no v3 bookkeeping fields. */
function v1View(entry: EntryDoc): EntryDoc {
  const { identifier: _i, app: _a, srvCreated: _c, srvModified: _m, ...rest } = entry;
  return rest;
}

/** What v3 shows: no `_id`; `fields=a,b` projects. */
function v3View(entry: EntryDoc, fields: string | null): Record<string, unknown> {
  const { _id, ...rest } = entry;
  const identified = {
    ...rest,
    identifier: rest.identifier ?? _id,
    srvModified: rest.srvModified ?? entry.date,
  };
  if (!fields || fields === '_all') return identified;
  const wanted = new Set(fields.split(','));
  return Object.fromEntries(Object.entries(identified).filter(([key]) => wanted.has(key)));
}

function allowed(identity: Identity, permission: string): boolean {
  return identity.kind !== 'failed' && permits(identity.permissions, permission);
}

function v3Status(status: number, message: string): SimResponse {
  return { status, body: { status, message } };
}

function positiveInt(text: string | null): number | undefined {
  if (text === null || !/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value > 0 ? value : undefined;
}

/** Express's own 404 page, which is what a wrong path on a Nightscout site gets. */
function notFound(request: SimRequest): SimResponse {
  const path = request.url.pathname.replace(/[<>&]/g, '');
  return {
    status: 404,
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
    body: `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot ${request.method} ${path}</pre>\n</body>\n</html>\n`,
  };
}
