// The simulated Nightscout sites: who uploads to each, how often, and with which secrets.
import type { Trend } from '../model/trend';

/** One uploading app on a site (xDrip+, Juggluco, AAPS, a watch …). */
export interface NightscoutUploaderSpec {
  /** The entry's `device`. */
  device: string;
  /** The v3 `app`. */
  app: string;
  /** One reading every this often. */
  intervalMs: number;
  /** Delay from measurement to upload: entries appear on the site this long after their `date`. */
  lagMs: number;
  /** Seed of the glucose trace; two uploaders relaying one sensor share it. */
  seed: string;
  profile?: 'steady' | 'brittle';
  /** Added to the trace (a second app calibrating differently). */
  bias?: number;
  /** Stamp offsets from the grid, cycled reading by reading (a watch stamping a few seconds late). */
  offsetsMs?: readonly number[];
  /** Which trend fields it writes: both (default), only `direction`, or only the numeric `trend`. */
  trendFields?: 'both' | 'direction' | 'trend';
  /** Leaves out every n-th reading (a watch out of Bluetooth range). */
  skipEvery?: number;
  /** The uploader's UTC offset in minutes (written to `utcOffset`, and into a zoneless `dateString`). */
  utcOffsetMinutes?: number;
  /** Writes `dateString` as local wall time without a zone, as some uploaders do. */
  zonelessDateString?: boolean;
}

export type NightscoutRole = 'admin' | 'readable' | 'status-only' | 'denied';

/** An access token of the site's Admin tools: `<name>-<16 hex>` with its roles. */
export interface NightscoutTokenSpec {
  token: string;
  subject: string;
  roles: readonly NightscoutRole[];
}

export interface NightscoutSiteSpec {
  /** The path segment: the site answers under `/nightscout/<site>`. */
  site: string;
  /** `settings.customTitle`. */
  title: string;
  /** API_SECRET (≥ 12 characters). */
  apiSecret: string;
  tokens: readonly NightscoutTokenSpec[];
  /** AUTH_DEFAULT_ROLES=readable: anyone may read without a secret. */
  readable?: boolean;
  /** API3_SECURITY_ENABLE=false: API v3 answers without a JWT. */
  v3Insecure?: boolean;
  units?: 'mg/dl' | 'mmol';
  thresholds?: { bgHigh: number; bgTargetTop: number; bgTargetBottom: number; bgLow: number };
  uploaders: readonly NightscoutUploaderSpec[];
}

const MINUTE = 60_000;

/** Obviously fake demo sites and secrets. */
export const NIGHTSCOUT_DEMO_SITES: readonly NightscoutSiteSpec[] = [
  {
    site: 'mia',
    title: 'Mia',
    apiSecret: 'demo-secret-mia-0001',
    tokens: [
      { token: 'glucobridge-demo-mia-read', subject: 'glucobridge', roles: ['readable'] },
      { token: 'uploader-demo-mia-admin', subject: 'uploader', roles: ['admin'] },
    ],
    units: 'mmol',
    thresholds: { bgHigh: 250, bgTargetTop: 180, bgTargetBottom: 72, bgLow: 54 },
    uploaders: [
      {
        device: 'Juggluco',
        app: 'Juggluco',
        intervalMs: MINUTE,
        lagMs: 20_000,
        seed: 'nightscout-mia',
        trendFields: 'direction',
        utcOffsetMinutes: 120,
        zonelessDateString: true,
      },
    ],
  },
  {
    site: 'leo',
    title: 'Leo',
    apiSecret: 'demo-secret-leo-0002',
    tokens: [
      { token: 'glucobridge-demo-leo-read', subject: 'glucobridge', roles: ['readable'] },
      { token: 'uploader-demo-leo-admin', subject: 'uploader', roles: ['admin'] },
    ],
    readable: true,
    units: 'mg/dl',
    uploaders: [
      {
        device: 'xDrip-DexcomG6',
        app: 'xDrip+',
        intervalMs: 5 * MINUTE,
        lagMs: 30_000,
        seed: 'nightscout-leo',
        profile: 'brittle',
        utcOffsetMinutes: -300,
      },
    ],
  },
  {
    site: 'noah',
    title: 'Noah',
    apiSecret: 'demo-secret-noah-0003',
    tokens: [
      { token: 'glucobridge-demo-noah-read', subject: 'glucobridge', roles: ['readable'] },
      { token: 'uploader-demo-noah-admin', subject: 'uploader', roles: ['admin'] },
    ],
    units: 'mg/dl',
    uploaders: [
      {
        device: 'xDrip-DexcomG7',
        app: 'xDrip+',
        intervalMs: 5 * MINUTE,
        lagMs: 15_000,
        seed: 'nightscout-noah',
        trendFields: 'both',
      },
      {
        // The same sensor through a watch: uploaded later, stamped on the grid or 3 s late,
        // 2 mg/dL apart, only the numeric trend, and out of range every fourth reading.
        device: 'AAPS-Watch',
        app: 'AAPS',
        intervalMs: 5 * MINUTE,
        lagMs: 45_000,
        seed: 'nightscout-noah',
        bias: 2,
        offsetsMs: [0, 3_000],
        trendFields: 'trend',
        skipEvery: 4,
      },
    ],
  },
  {
    site: 'relay',
    title: 'Relay',
    apiSecret: 'demo-secret-relay-0004',
    tokens: [
      { token: 'glucobridge-demo-relay-read', subject: 'glucobridge', roles: ['readable'] },
      { token: 'uploader-demo-relay-admin', subject: 'uploader', roles: ['admin'] },
    ],
    units: 'mg/dl',
    uploaders: [],
  },
];

/** The direction name and numeric code of a trend, as uploaders write them. */
export const WIRE_TREND: Readonly<Record<Trend, { direction: string; code: number }>> = {
  none: { direction: 'NONE', code: 0 },
  doubleUp: { direction: 'DoubleUp', code: 1 },
  singleUp: { direction: 'SingleUp', code: 2 },
  fortyFiveUp: { direction: 'FortyFiveUp', code: 3 },
  flat: { direction: 'Flat', code: 4 },
  fortyFiveDown: { direction: 'FortyFiveDown', code: 5 },
  singleDown: { direction: 'SingleDown', code: 6 },
  doubleDown: { direction: 'DoubleDown', code: 7 },
  notComputable: { direction: 'NOT COMPUTABLE', code: 8 },
  rateOutOfRange: { direction: 'RATE OUT OF RANGE', code: 9 },
};
