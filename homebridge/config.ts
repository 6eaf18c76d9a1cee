import { z } from 'zod';
import {
  DEFAULT_THRESHOLDS,
  describeIssues,
  displayOverridesSchema,
  nightscoutDestinationSchema,
  resolveThresholds,
  sourceConfigSchema,
  staleMinutesSchema,
  thresholdsSchema,
  thresholdsSettingSchema,
  unitsSchema,
  type NightscoutDestination,
  type SourceConfig,
  type ResolvedThresholds,
  type Thresholds,
  type ThresholdsSetting,
} from '../src/config';
import { accountKey } from '../src/follow/account-key';
import { describeDestinationProblem, destinationProblem } from '../src/follow/destinations';
import { mqttSettingsSchema, type MqttSettings as BaseMqttSettings } from '../src/mqtt/settings';
import type { GlucoseUnit, ProviderId } from '../src/model/reading';

export { accountKey, thresholdsSchema, type Thresholds };

/** The platform block of Homebridge's config.json; accounts are checked one by one (see parseAccounts). */
export const platformConfigSchema = z.object({
  name: z.string().trim().min(1).default('GlucoBridge'),
  accounts: z.array(z.unknown(), { error: 'accounts must be a list' }).default([]),
  units: unitsSchema.default('mgdl'),
  /** Limits in mg/dL, or `"cloud"` for each person's own limits from their cloud. */
  thresholds: thresholdsSettingSchema.default(DEFAULT_THRESHOLDS),
  /** The form's way of saying `thresholds: "cloud"` (the thresholds fieldset stays the fallback). */
  cloudThresholds: z.boolean().optional(),
  staleMinutes: staleMinutesSchema.default(15),
  /** Also publish to MQTT (Home Assistant discovery): the stand-alone bridge's block; no url, no MQTT. */
  /** Checked on its own (see parseMqtt): a typo there must not keep glucose out of Apple Home. */
  mqtt: z.unknown().optional(),
});

export type MqttSettings = BaseMqttSettings & { url: string };

export interface PlatformSettings {
  name: string;
  units: GlucoseUnit;
  thresholds: Thresholds;
  /** Each person's limits from their cloud, `thresholds` where it has none. */
  cloudThresholds: boolean;
  staleMinutes: number;
  mqtt: MqttSettings | undefined;
  /** Why the mqtt block was not used, when it was filled in wrongly. */
  mqttError: string | undefined;
}

/** One entry of `accounts`: valid (config set) or not (error set); `key` is stable either way. */
export interface AccountEntry {
  index: number;
  /** A name safe to log: the configured name or "<provider> account <n>", never the login. */
  label: string;
  /** A hash of provider and login: ties cached accessories and stored sessions to the account. */
  key: string;
  provider: ProviderId | undefined;
  units: GlucoseUnit;
  thresholds: Thresholds;
  cloudThresholds: boolean;
  staleMinutes: number;
  config?: SourceConfig;
  /** Every reading of the account's person is also uploaded to this Nightscout site. */
  nightscout?: NightscoutDestination;
  error?: string;
}

export type PlatformConfigResult =
  { ok: true; settings: PlatformSettings; accounts: AccountEntry[] } | { ok: false; error: string };

/** Checks the whole platform block; a bad account does not spoil the others. */
export function parsePlatformConfig(raw: unknown): PlatformConfigResult {
  const result = platformConfigSchema.safeParse(raw ?? {});
  if (!result.success) return { ok: false, error: describeIssues(result.error) };
  const { accounts, mqtt, thresholds, cloudThresholds, ...rest } = result.data;
  const limits = resolveThresholds(cloudThresholds === true ? 'cloud' : undefined, thresholds);
  const settings: PlatformSettings = {
    ...rest,
    thresholds: limits.thresholds,
    cloudThresholds: limits.cloud,
    ...parseMqtt(mqtt),
  };
  return {
    ok: true,
    settings,
    accounts: accounts.map((entry, index) => parseAccount(entry, index, settings)),
  };
}

/** The bridge's mqtt block; without a url there is no MQTT (Homebridge starts no broker of its own). */
function parseMqtt(raw: unknown): Pick<PlatformSettings, 'mqtt' | 'mqttError'> {
  const fields = isRecord(raw) ? withoutBlanks(raw) : raw;
  if (fields === undefined || (isRecord(fields) && fields.url === undefined)) {
    return { mqtt: undefined, mqttError: undefined };
  }
  const result = mqttSettingsSchema.safeParse(fields);
  if (!result.success) return { mqtt: undefined, mqttError: describeIssues(result.error, 'mqtt') };
  const { url } = result.data;
  return url
    ? { mqtt: { ...result.data, url }, mqttError: undefined }
    : { mqtt: undefined, mqttError: undefined };
}

function parseAccount(raw: unknown, index: number, defaults: PlatformSettings): AccountEntry {
  const fields = isRecord(raw) ? withoutBlanks(raw) : {};
  const provider = knownProvider(fields.provider);
  const name = typeof fields.name === 'string' ? fields.name.trim() : undefined;
  const label = name || `${provider ?? 'unknown'} account ${index + 1}`;
  const base = {
    index,
    label,
    key: accountKey(provider, fields),
    provider,
    units: defaults.units,
    thresholds: defaults.thresholds,
    cloudThresholds: defaults.cloudThresholds,
    staleMinutes: defaults.staleMinutes,
  };
  const overrides = displayOverridesSchema.safeParse(fields);
  const source = sourceConfigSchema.safeParse(fields);
  if (!overrides.success || !source.success) {
    const errors = [overrides.error, source.error].flatMap((e) =>
      e ? [describeIssues(e, `accounts[${index}]`)] : [],
    );
    return { ...base, error: errors.join('\n') };
  }
  const own = overrides.data;
  const destination = parseDestination(fields.nightscout, source.data, `accounts[${index}]`);
  if (typeof destination === 'string') return { ...base, error: destination };
  const limits = accountThresholds(own.thresholds, fields.cloudThresholds, defaults);
  return {
    ...base,
    provider: source.data.provider,
    units: own.units ?? defaults.units,
    thresholds: limits.thresholds,
    cloudThresholds: limits.cloud,
    staleMinutes: own.staleMinutes ?? defaults.staleMinutes,
    config: source.data,
    ...(destination ? { nightscout: destination } : {}),
  };
}

/**
 * The account's optional `nightscout` block (upload every reading to a site): the destination, nothing
 * when the form left it empty, or why it is not valid.
 */
function parseDestination(
  raw: unknown,
  source: SourceConfig,
  where: string,
): NightscoutDestination | string | undefined {
  const fields = isRecord(raw) ? withoutBlanks(raw) : raw;
  // The form saves an untouched block as {} or with only the API chosen.
  if (fields === undefined || (isRecord(fields) && fields.server === undefined)) return undefined;
  const parsed = nightscoutDestinationSchema.safeParse(fields);
  if (!parsed.success) return describeIssues(parsed.error, `${where}.nightscout`);
  const problem = destinationProblem(parsed.data, source);
  return problem ? describeDestinationProblem(problem, where) : parsed.data;
}

/**
 * An account's limits: its own thresholds (or `"cloud"`), its form checkbox `cloudThresholds`, else the
 * platform's. Limits given on the account are its fallback when the cloud has none.
 */
function accountThresholds(
  own: ThresholdsSetting | undefined,
  cloudFlag: unknown,
  defaults: PlatformSettings,
): ResolvedThresholds {
  const global: ThresholdsSetting = defaults.thresholds;
  const values = resolveThresholds(own, global);
  const cloud =
    own === 'cloud' || cloudFlag === true
      ? true
      : cloudFlag === false || own !== undefined
        ? false
        : defaults.cloudThresholds;
  return { thresholds: values.thresholds, cloud };
}

/** Forms save cleared fields as empty strings; to the core that is "not set", not an empty value. */
function withoutBlanks(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, value]) => !(typeof value === 'string' && value.trim() === '')),
  );
}

function knownProvider(value: unknown): ProviderId | undefined {
  return value === 'dexcom' || value === 'librelinkup' || value === 'nightscout' || value === 'vitadock'
    ? value
    : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
