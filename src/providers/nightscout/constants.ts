// Wire facts of Nightscout (cgm-remote-monitor): paths and limits from its `lib/server/swagger.yaml`
// (API v1), `lib/api3/doc/*.md` and `lib/api3/const.json` (API v3), and `lib/authorization/`.
import { DEXCOM_TREND_BY_CODE, type Trend } from '../../model/trend';
import type { Cadence } from '../provider';

const MINUTE = 60_000;

export const PATHS = {
  /** v1 entries, newest first; `count` (default 10) and `find[...]` filters. */
  entries: '/api/v1/entries.json',
  /** v1 upload: one object or an array; upserted on `sysTime` + `type`. */
  entriesUpload: '/api/v1/entries',
  /** v1 site status: `settings.units`, `settings.thresholds`, `settings.customTitle`. */
  status: '/api/v1/status.json',
  /** Access token → JWT exchange (answers `{token, sub, permissionGroups, iat, exp}`). */
  authorize: (token: string) => `/api/v2/authorization/request/${encodeURIComponent(token)}`,
  /** v3 entries collection: SEARCH with GET, CREATE with POST (one document). */
  entriesV3: '/api/v3/entries',
} as const;

/** The header API v1 takes the SHA-1 hex of the API secret (or of an access token) in. */
export const API_SECRET_HEADER = 'api-secret';

/** API v3 answers at most this many documents per search (`API3_MAX_LIMIT`). */
export const V3_MAX_LIMIT = 1000;

/** A v1 page is never asked for more than this many entries. */
export const V1_MAX_COUNT = 5000;

/** Pages read for one history span before giving up on a site that keeps answering full pages. */
export const MAX_PAGES = 10;

/** Entries per minute a history page allows for (two uploaders at one per minute, plus room). */
export const ENTRIES_PER_MINUTE = 3;

/** Renew the v3 JWT this long before its `exp` (the server signs them for 8 hours). */
export const JWT_RENEW_MARGIN_MS = 5 * MINUTE;

/** Without an `exp` in the exchange answer, a JWT is used for this long (the server's own lifetime is 8 h). */
export const JWT_FALLBACK_LIFETIME_MS = 60 * MINUTE;

/**
 * Two entries from different devices this close in time are one measurement uploaded twice (a phone
 * and a watch relaying one sensor stamp it a few seconds apart). Shorter than any sensor's spacing.
 */
export const DUPLICATE_WINDOW_MS = 30_000;

/** Nightscout's default cadence before spacing was observed: most uploaders send every 5 minutes. */
export const NIGHTSCOUT_CADENCE: Cadence = {
  readingIntervalMs: 5 * MINUTE,
  latestIntervalMs: 5 * MINUTE,
  lagMs: MINUTE,
  maxHistoryMinutes: 24 * 60,
  continuous: true,
};

/** Observed spacings are trusted within these bounds (1-minute Libre 3 … 15-minute spot uploads). */
export const MIN_OBSERVED_INTERVAL_MS = MINUTE;
export const MAX_OBSERVED_INTERVAL_MS = 15 * MINUTE;

/** The `direction` names uploaders write, and our trend for each. */
export const DIRECTIONS: Readonly<Record<string, Trend>> = {
  NONE: 'none',
  DoubleUp: 'doubleUp',
  SingleUp: 'singleUp',
  FortyFiveUp: 'fortyFiveUp',
  Flat: 'flat',
  FortyFiveDown: 'fortyFiveDown',
  SingleDown: 'singleDown',
  DoubleDown: 'doubleDown',
  'NOT COMPUTABLE': 'notComputable',
  'RATE OUT OF RANGE': 'rateOutOfRange',
};

/** Our trend as the `direction` name an upload carries. */
export const DIRECTION_OF: Readonly<Record<Trend, string>> = {
  none: 'NONE',
  doubleUp: 'DoubleUp',
  singleUp: 'SingleUp',
  fortyFiveUp: 'FortyFiveUp',
  flat: 'Flat',
  fortyFiveDown: 'FortyFiveDown',
  singleDown: 'SingleDown',
  doubleDown: 'DoubleDown',
  notComputable: 'NOT COMPUTABLE',
  rateOutOfRange: 'RATE OUT OF RANGE',
};

/**
 * The numeric `trend` (0 NONE, 1 DoubleUp … 4 Flat … 7 DoubleDown, 8 NOT COMPUTABLE, 9 RATE OUT OF
 * RANGE), the same codes Dexcom uses; some uploaders send only this.
 */
export const TREND_BY_CODE: readonly Trend[] = DEXCOM_TREND_BY_CODE;

/** Values below this are uploaders' error codes (Dexcom's 0–12 "sensor not active", …), not glucose. */
export const MIN_SGV = 13;
/** Above this an `sgv` is not a glucose value at all. */
export const MAX_SGV = 1000;
/** The sensor's LOW/HIGH placeholders (Dexcom's convention, followed by most uploaders). */
export const LOW_MGDL = 39;
export const HIGH_MGDL = 401;

/** The earliest instant a reading may have (2000-01-01, as Nightscout's own `MIN_TIMESTAMP`). */
export const MIN_INSTANT_MS = Date.UTC(2000, 0, 1);
/** How far ahead of the host clock a reading may be stamped. */
export const MAX_AHEAD_MS = 24 * 60 * MINUTE;

/** The `app` field of v3 uploads and the prefix of the `device` field of every upload. */
export const UPLOAD_APP = 'glucobridge';

/**
 * API v3 identifiers are UUID v5 of `device_date` in this namespace (the 16 ASCII bytes of
 * "NightscoutRocks!", `lib/api3/shared/operationTools.js`): sending the same one the server would
 * compute keeps dedupe exact and avoids its "identifier mismatch" warning.
 */
export const V3_IDENTIFIER_NAMESPACE = Buffer.from('NightscoutRocks!', 'ascii');

/** v1 upload batch size. */
export const UPLOAD_BATCH = 100;
