/** Everything fixed about the LibreLinkUp v4 `/llu` API: hosts, headers, body status codes. */

/** The entry point before the account's region is known; its login redirects to the right region. */
export const GLOBAL_REGION = 'global';

/** Known region hosts. Most follow `api-<code>.libreview.io`; Russia and China live elsewhere. */
export const REGION_HOSTS: Readonly<Record<string, string>> = {
  global: 'https://api.libreview.io',
  us: 'https://api-us.libreview.io',
  eu: 'https://api-eu.libreview.io',
  eu2: 'https://api-eu2.libreview.io',
  de: 'https://api-de.libreview.io',
  fr: 'https://api-fr.libreview.io',
  jp: 'https://api-jp.libreview.io',
  ap: 'https://api-ap.libreview.io',
  au: 'https://api-au.libreview.io',
  ae: 'https://api-ae.libreview.io',
  ca: 'https://api-ca.libreview.io',
  la: 'https://api-la.libreview.io',
  ru: 'https://api.libreview.ru',
  cn: 'https://api-cn.myfreestyle.cn',
};

/** A region code as it may appear in a host name; anything else from a server is refused. */
export const REGION_CODE = /^[a-z]{2,6}[0-9]?$/;

/** The app version sent in `version`; the service refuses data to anything older than 4.16.0. */
export const DEFAULT_VERSION = '4.16.0';
export const PRODUCT = 'llu.android';

/** Login redirects followed before giving up (the reference clients allow two). */
export const MAX_REDIRECT_HOPS = 2;
/** Terms steps accepted in one login before giving up (tou then pp is the usual pair). */
export const MAX_TERMS_STEPS = 4;

/** The body `status` values the service uses. */
export const BodyStatus = {
  OK: 0,
  BAD_CREDENTIALS: 2,
  STEP_REQUIRED: 4,
  LOCKED: 429,
  MAINTENANCE: 911,
  VERSION_TOO_OLD: 920,
} as const;

export const PATHS = {
  login: '/llu/auth/login',
  /** No `/llu` prefix here. */
  acceptStep: (type: string) => `/auth/continue/${encodeURIComponent(type)}`,
  connections: '/llu/connections',
  graph: (patientId: string) => `/llu/connections/${encodeURIComponent(patientId)}/graph`,
  logbook: (patientId: string) => `/llu/connections/${encodeURIComponent(patientId)}/logbook`,
  countryConfig: '/llu/config/country',
  /** No `/llu` prefix here either. */
  account: '/account',
  notificationSettings: (connectionId: string) =>
    `/llu/notifications/settings/${encodeURIComponent(connectionId)}`,
} as const;

/** Steps a client may accept for the user when told to; `verifyEmail` needs the person. */
export const ACCEPTABLE_STEPS: ReadonlySet<string> = new Set(['tou', 'pp']);

/**
 * The largest answer accepted: a graph (about 50 KB) or a logbook of two weeks is far below 2 MiB,
 * and the worst JSON of that size parses in well under a second.
 */
export const MAX_ANSWER_BYTES = 2 * 1024 * 1024;

/** Tokens are considered spent this long before their stated expiry (clock skew, slow requests). */
export const TOKEN_MARGIN_MS = 60_000;

/**
 * The base URL for a region. A custom server may hold `{region}` (replaced by the code, `global`
 * before one is known); without it, the server is used for every region.
 */
export function baseUrlFor(region: string, server?: string): string {
  if (server !== undefined) return server.split('{region}').join(region).replace(/\/+$/, '');
  return REGION_HOSTS[region] ?? `https://api-${region}.libreview.io`;
}

/** Whether a redirect to another region can be followed with this server setting. */
export function canSwitchRegion(server?: string): boolean {
  return server === undefined || server.includes('{region}');
}
