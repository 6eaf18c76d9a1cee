import { z } from 'zod';
import { field } from './model/fields';
import { VITADOCK_DATA_MODULES } from './providers/vitadock/constants';

/** Dexcom Share regions: `us` share2, `ous` shareous1 (everywhere but the US and Japan), `jp` share.dexcom.jp. */
export const DEXCOM_REGIONS = ['us', 'ous', 'jp'] as const;
export type DexcomRegion = (typeof DEXCOM_REGIONS)[number];

const nonEmpty = (what: string) =>
  z
    .string({ error: `${what} is required` })
    .trim()
    .min(1, `${what} must not be empty`);

/**
 * Why `text` is not a usable URL with one of `schemes` (e.g. `['http:', 'https:']`), or `undefined`.
 * Parsed with WHATWG `URL` (a port past 65535, `[::1`, `%zz` fail there), then checked for what `URL`
 * lets through: control characters and spaces, port 0, a query or fragment where a prefix belongs.
 */
export function urlProblem(text: string, schemes: readonly string[], what = 'URL'): string | undefined {
  const example = `${schemes[0]?.replace(/:$/, '') ?? 'https'}://host[:port][/prefix]`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\u0000-\u001f\u007f\s]/.test(text)) return `${what} must not contain spaces or control characters`;
  let url: URL;
  try {
    // LibreLinkUp servers may hold `{region}`, filled in per request.
    url = new URL(text.split('{region}').join('global'));
  } catch {
    return `${what} is not a valid URL (write it as ${example})`;
  }
  if (!schemes.includes(url.protocol)) return `${what} must start with ${schemes.join('//, ')}//`;
  if (url.hostname === '') return `${what} has no host (write it as ${example})`;
  if (url.port === '0') return `${what} must have a port from 1 to 65535`;
  if (url.search !== '' || url.hash !== '') return `${what} must not have a query or fragment`;
  return undefined;
}

const serverUrl = z
  .string()
  .trim()
  .superRefine((text, ctx) => {
    const problem = urlProblem(text, ['http:', 'https:'], 'server');
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((url) => url.replace(/\/+$/, ''));

const common = {
  /** What people call this account; also the stable subject name in MQTT topics. */
  name: z.string().trim().min(1).optional(),
  /** A custom server instead of the vendor's (regional proxy, the simulator). */
  server: serverUrl.optional(),
  /** Per-request timeout in milliseconds. */
  timeoutMs: z.number().int().min(1_000).max(120_000).optional(),
};

/** An optional text where an empty one means "not set" (forms save cleared fields as ""). */
const optionalText = () =>
  z
    .string()
    .trim()
    .transform((text) => (text === '' ? undefined : text))
    .optional();

const DEXCOM_ACCOUNT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export const dexcomConfigSchema = z
  .object({
    provider: z.literal('dexcom'),
    ...common,
    region: z.enum(DEXCOM_REGIONS, { error: 'region must be us, ous (outside the US) or jp' }).default('us'),
    username: optionalText(),
    password: nonEmpty('password'),
    /** The account id (a UUID): skips the first login step, so the password is sent once less. */
    accountId: optionalText().refine(
      (id) => id === undefined || (DEXCOM_ACCOUNT_ID.test(id) && id !== ZERO_UUID),
      'accountId must be the account UUID (like 1234abcd-12ab-34cd-56ef-1234567890ab), not all zeros',
    ),
    /** Receiver serial for uploads (publisher side). */
    serial: z.string().trim().optional(),
    /** Allow uploads to take the receiver assignment over from another device. */
    takeOverReceiver: z.boolean().default(false),
  })
  .refine((config) => config.username !== undefined || config.accountId !== undefined, {
    message: `a Dexcom login needs one of them: give the ${field('username')} or the ${field('accountId')}`,
    path: ['username'],
  });

export const libreLinkUpConfigSchema = z.object({
  provider: z.literal('librelinkup'),
  ...common,
  /** A region code (`eu`, `us`, `de`, …) to start at; the login redirect corrects it. */
  region: z.string().trim().toLowerCase().optional(),
  username: nonEmpty('username (the LibreLinkUp e-mail address)'),
  password: nonEmpty('password'),
  /** The patient to follow: a patientId or a name; default the first connection. */
  patient: z.string().trim().optional(),
  /** Accept the terms of use / privacy policy steps automatically (off unless chosen). */
  acceptTerms: z.boolean().default(false),
  /**
   * The app version sent in the `version` header: a floor. When the service asks for a higher one
   * (status 920) that one is adopted and kept in the state store.
   */
  version: optionalText(),
  /**
   * The life of the patients' sensors in days, for "ends" and "days left": 14 for a Libre 2 or 3 (the
   * default), 15 for the Plus sensors. The API does not say which kind a sensor is.
   */
  sensorDays: z
    .number({ error: 'sensorDays must be a number of days (14, or 15 for Plus sensors)' })
    .int('sensorDays must be a whole number of days')
    .min(1, 'sensorDays must be at least 1')
    .max(30, 'sensorDays must be at most 30')
    .optional(),
});

/** Nightscout API versions: v1 (API secret or token, the common path) and v3 (token → JWT). */
export const NIGHTSCOUT_APIS = ['v1', 'v3'] as const;
export type NightscoutApi = (typeof NIGHTSCOUT_APIS)[number];

/** A Nightscout site and how to authenticate to it; readable sites need neither secret. */
const nightscoutSite = {
  server: z.string({ error: 'server (the Nightscout site, https://…) is required' }).pipe(serverUrl),
  /** An access token from the site's Admin tools (`name-0123456789abcdef`). */
  token: z.string().trim().min(1).optional(),
  /** The site's API_SECRET (API v1 only; v3 does not accept it). */
  apiSecret: z.string().trim().min(1).optional(),
  api: z.enum(NIGHTSCOUT_APIS, { error: 'api must be v1 or v3' }).default('v1'),
  timeoutMs: common.timeoutMs,
};

export const nightscoutConfigSchema = z.object({
  provider: z.literal('nightscout'),
  name: common.name,
  ...nightscoutSite,
});

/** A Nightscout site readings are uploaded to (the destination of an account). */
export const nightscoutDestinationSchema = z.object({
  ...nightscoutSite,
  /** Readings kept while the site is down; the oldest are dropped beyond it. */
  queueLimit: z.number().int().min(10).max(100_000).optional(),
});

/** Every VitaDock data module GlucoBridge reads (the provider's own list). */
export const VITADOCK_MODULES = VITADOCK_DATA_MODULES;
export type VitaDockModule = (typeof VITADOCK_MODULES)[number];

export const vitaDockConfigSchema = z.object({
  provider: z.literal('vitadock'),
  ...common,
  consumerKey: nonEmpty('consumerKey'),
  consumerSecret: nonEmpty('consumerSecret'),
  accessToken: z.string().trim().optional(),
  accessSecret: z.string().trim().optional(),
  /** The module `latest`/`history` read as glucose; other modules are read with `measurements`. */
  module: z.enum(VITADOCK_MODULES).default('glucodockglucoses'),
  /** A stable device id for `/auth/devices` (distributed apps). */
  deviceId: z.string().trim().optional(),
});

export const sourceConfigSchema = z.discriminatedUnion('provider', [
  dexcomConfigSchema,
  libreLinkUpConfigSchema,
  nightscoutConfigSchema,
  vitaDockConfigSchema,
]);

export type SourceConfigInput = z.input<typeof sourceConfigSchema>;
export type SourceConfig = z.output<typeof sourceConfigSchema>;
export type DexcomConfig = z.output<typeof dexcomConfigSchema>;
export type LibreLinkUpConfig = z.output<typeof libreLinkUpConfigSchema>;
export type VitaDockConfig = z.output<typeof vitaDockConfigSchema>;
export type NightscoutConfig = z.output<typeof nightscoutConfigSchema>;
export type NightscoutDestinationInput = z.input<typeof nightscoutDestinationSchema>;
export type NightscoutDestination = z.output<typeof nightscoutDestinationSchema>;

/** Thresholds are mg/dL whatever the display unit, so one number never means two things. */
const mgdlThreshold = (what: string) =>
  z
    .number({ error: `${what} must be a number of mg/dL` })
    .min(40, `${what} is in mg/dL (3.9 mmol/L is 70 mg/dL)`)
    .max(400, `${what} must be at most 400 mg/dL`);

export const DEFAULT_THRESHOLDS = { urgentLow: 55, low: 70, high: 180 } as const;

/** Glucose alarm levels in mg/dL: urgent low, low and high. */
export const thresholdsSchema = z
  .object({
    urgentLow: mgdlThreshold('thresholds.urgentLow').default(DEFAULT_THRESHOLDS.urgentLow),
    low: mgdlThreshold('thresholds.low').default(DEFAULT_THRESHOLDS.low),
    high: mgdlThreshold('thresholds.high').default(DEFAULT_THRESHOLDS.high),
  })
  .refine((t) => t.urgentLow < t.low && t.low < t.high, {
    message: 'thresholds must rise: urgentLow < low < high',
  });

export type Thresholds = z.output<typeof thresholdsSchema>;

/**
 * Thresholds as configured: the limits themselves, or `"cloud"`: each person's own limits from their
 * cloud (LibreLinkUp's target range and alarms, a Nightscout site's thresholds), the configured ones
 * (or the defaults) where the cloud has none. Dexcom and VitaDock accounts carry none.
 */
export const thresholdsSettingSchema = z.union([z.literal('cloud'), thresholdsSchema]);
export type ThresholdsSetting = z.output<typeof thresholdsSettingSchema>;

/** The limits to use and whether each person's cloud may replace them. */
export interface ResolvedThresholds {
  thresholds: Thresholds;
  cloud: boolean;
}

/**
 * An account's thresholds from its own setting and the global one: limits given on the account win;
 * `"cloud"` on either takes the cloud's, with the global limits (or the defaults) as the fallback.
 */
export function resolveThresholds(
  own: ThresholdsSetting | undefined,
  global: ThresholdsSetting,
): ResolvedThresholds {
  const fallback = global === 'cloud' ? { ...DEFAULT_THRESHOLDS } : global;
  if (own === undefined) return { thresholds: fallback, cloud: global === 'cloud' };
  if (own === 'cloud') return { thresholds: fallback, cloud: true };
  return { thresholds: own, cloud: false };
}

/** The display unit, as a form writes it and as people type it by hand (`mg/dL`, `mmol/L`). */
export const unitsSchema = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    const v = value.trim().toLowerCase().replace(/[\s/]/g, '');
    if (v === 'mgdl') return 'mgdl';
    if (v === 'mmol' || v === 'mmoll') return 'mmol';
    return value;
  },
  z.enum(['mgdl', 'mmol'], { error: 'units must be mgdl or mmol' }),
);

/** After how many minutes without a new reading the data counts as stale. */
export const staleMinutesSchema = z
  .number()
  .int()
  .min(5)
  .max(24 * 60);

/** What a host shows, settable for all accounts and again per account (a child and an adult). */
export const displayOverridesSchema = z.object({
  units: unitsSchema.optional(),
  thresholds: thresholdsSettingSchema.optional(),
  staleMinutes: staleMinutesSchema.optional(),
});

/** Formats zod issues as one line per field, naming the field and what to write. */
export function describeIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      return `${field || '(config)'}: ${issue.message}`;
    })
    .join('\n');
}
