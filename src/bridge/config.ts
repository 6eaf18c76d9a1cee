import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import {
  DEFAULT_THRESHOLDS,
  describeIssues,
  displayOverridesSchema,
  nightscoutDestinationSchema,
  resolveThresholds,
  sourceConfigSchema,
  staleMinutesSchema,
  thresholdsSettingSchema,
  unitsSchema,
  type NightscoutDestination,
  type SourceConfig,
  type Thresholds,
  type ThresholdsSetting,
} from '../config';
import { describeDestinationProblem, destinationProblem } from '../follow/destinations';
import { jsonShapeProblem, type JsonLimits } from '../http/json-limits';
import { mqttSettingsSchema } from '../mqtt/settings';
import { subjectSlug } from '../mqtt/subject';
import { CgmError } from '../model/errors';
import type { GlucoseUnit } from '../model/reading';
import { resolveHttpSettings, type HttpSettings } from './http/settings';

const accountExtras = z
  .object({
    name: z
      .string({ error: 'every account needs a "name" (it names the device in Home Assistant)' })
      .trim()
      .min(1),
  })
  .extend(displayOverridesSchema.shape);

export const bridgeConfigSchema = z.object({
  mqtt: mqttSettingsSchema.default({ baseTopic: 'glucobridge', discoveryPrefix: 'homeassistant' }),
  units: unitsSchema.default('mgdl'),
  staleMinutes: staleMinutesSchema.default(15),
  /** Limits in mg/dL, or `"cloud"` for each person's own limits from their cloud. */
  thresholds: thresholdsSettingSchema.default(DEFAULT_THRESHOLDS),
  accounts: z.array(z.unknown()).min(1, 'accounts must list at least one account'),
  /** Logins started per second at most, across all accounts (a start with many accounts); default 20. */
  loginsPerSecond: z
    .number({ error: 'loginsPerSecond must be a number (logins per second, e.g. 20)' })
    .positive('loginsPerSecond must be above 0')
    .max(1000, 'loginsPerSecond must be at most 1000')
    .default(20),
  /** Where session tokens are kept; default beside the configuration file. */
  stateFile: z
    .string()
    .trim()
    .min(1, 'stateFile must name a file')
    // eslint-disable-next-line no-control-regex -- a path with a control character is a mistake
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'stateFile must not contain control characters')
    .optional(),
  /** The status page, `/healthz` and `/metrics` (off unless given; see `http/settings.ts`). */
  http: z.record(z.string(), z.unknown()).optional(),
});

/** A configuration file is a few KB; these bound what a broken or hostile one may cost to read. */
export const CONFIG_MAX_BYTES = 1024 * 1024;
export const CONFIG_JSON_LIMITS: JsonLimits = { maxDepth: 32, maxContainers: 10_000 };

export interface AccountConfig {
  source: SourceConfig;
  name: string;
  units: GlucoseUnit;
  /** The configured limits: every person's, or with `cloudThresholds` the fallback where their cloud has none. */
  thresholds: Thresholds;
  /** `thresholds: "cloud"` (on the account or for all): each person's limits come from their cloud. */
  cloudThresholds: boolean;
  staleMinutes: number;
  /** Every reading of this account's person is also uploaded to this Nightscout site. */
  nightscout?: NightscoutDestination;
}

export interface BridgeConfig {
  mqtt: z.output<typeof mqttSettingsSchema>;
  units: GlucoseUnit;
  staleMinutes: number;
  thresholds: ThresholdsSetting;
  accounts: AccountConfig[];
  /** Logins started per second at most, across all accounts. */
  loginsPerSecond: number;
  stateFile?: string;
  /** The status page's address and credentials; undefined: no status page. */
  http?: HttpSettings;
}

/**
 * Replaces every `{"env": "NAME"}` with that variable's value, naming the field when it is unset.
 * Nesting deeper than `CONFIG_JSON_LIMITS.maxDepth` is a CONFIG error (no configuration is that deep,
 * and walking it would overflow the stack).
 */
export function resolveEnvSecrets(value: unknown, env: NodeJS.ProcessEnv, path = '', depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= CONFIG_JSON_LIMITS.maxDepth) {
    throw configError(`${path || '(config)'}: nested deeper than ${CONFIG_JSON_LIMITS.maxDepth} levels`);
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => resolveEnvSecrets(item, env, `${path}[${i}]`, depth + 1));
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1 && entries[0]?.[0] === 'env') {
    const name = entries[0][1];
    if (typeof name !== 'string' || name === '') throw configError(`${path}: "env" must name a variable`);
    const resolved = env[name];
    if (resolved === undefined || resolved === '') {
      throw configError(`${path}: the environment variable ${name} is not set`);
    }
    return resolved;
  }
  return Object.fromEntries(
    entries.map(([key, inner]) => [
      key,
      resolveEnvSecrets(inner, env, path ? `${path}.${key}` : key, depth + 1),
    ]),
  );
}

/** Validates a bridge configuration (already parsed JSON) and fills the defaults. */
export function parseBridgeConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  const resolved = resolveEnvSecrets(raw, env);
  const top = bridgeConfigSchema.safeParse(resolved);
  if (!top.success) throw configError(describeIssues(top.error));
  const config = top.data;
  // Two names with one slug would publish to the same topics: a person's glucose under another's name.
  const slugs = new Map<string, { name: string; where: string }>();
  const accounts = config.accounts.map((account, index): AccountConfig => {
    const where = `accounts[${index}]`;
    const extras = accountExtras.safeParse(account);
    if (!extras.success) throw configError(describeIssues(extras.error, where));
    const { name, units, thresholds, staleMinutes } = extras.data;
    const slug = slugOf(name, `${where}.name`);
    const taken = slugs.get(slug);
    if (taken) {
      const same = taken.name === name ? `"${name}" is used twice` : `"${taken.name}" and "${name}"`;
      throw configError(
        `${where}.name: ${same} (${taken.where}.name and ${where}.name) both make the topic segment ` +
          `"${slug}"; names must differ in their letters or digits`,
      );
    }
    slugs.set(slug, { name, where });
    const {
      units: _u,
      thresholds: _t,
      staleMinutes: _s,
      nightscout: destination,
      ...rest
    } = account as Record<string, unknown>;
    const source = sourceConfigSchema.safeParse(rest);
    if (!source.success) throw configError(describeIssues(source.error, where));
    const nightscout = parseDestination(destination, source.data, where);
    const limits = resolveThresholds(thresholds, config.thresholds);
    return {
      source: source.data,
      name,
      units: units ?? config.units,
      thresholds: limits.thresholds,
      cloudThresholds: limits.cloud,
      staleMinutes: staleMinutes ?? config.staleMinutes,
      ...(nightscout ? { nightscout } : {}),
    };
  });
  const mqtt = { ...config.mqtt };
  if (env.GLUCOBRIDGE_MQTT_URL) {
    const checked = mqttSettingsSchema.shape.url.safeParse(env.GLUCOBRIDGE_MQTT_URL);
    if (!checked.success) throw configError(`GLUCOBRIDGE_MQTT_URL: ${describeIssues(checked.error)}`);
    mqtt.url = env.GLUCOBRIDGE_MQTT_URL;
  }
  if (env.GLUCOBRIDGE_MQTT_USERNAME) mqtt.username = env.GLUCOBRIDGE_MQTT_USERNAME;
  if (env.GLUCOBRIDGE_MQTT_PASSWORD) mqtt.password = env.GLUCOBRIDGE_MQTT_PASSWORD;
  const { http: httpInput, ...rest } = config;
  const http = httpInput === undefined ? undefined : httpSettings(httpInput, env);
  return {
    ...rest,
    mqtt,
    accounts,
    ...(config.stateFile === undefined ? {} : { stateFile: config.stateFile }),
    ...(http === undefined ? {} : { http }),
  };
}

/**
 * The status page's settings from the configuration's `http` section (or `{}` to take the defaults),
 * with `listen` replaced when given (`--http HOST:PORT`) and the secrets of the environment
 * (`GLUCOBRIDGE_HTTP_PASSWORD`, `GLUCOBRIDGE_HTTP_TOKEN`) over the file's.
 */
export function httpSettings(
  input: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  listen?: string,
): HttpSettings {
  const merged: Record<string, unknown> = { ...input };
  if (listen !== undefined) merged.listen = listen;
  if (env.GLUCOBRIDGE_HTTP_PASSWORD) merged.password = env.GLUCOBRIDGE_HTTP_PASSWORD;
  if (env.GLUCOBRIDGE_HTTP_TOKEN) merged.token = env.GLUCOBRIDGE_HTTP_TOKEN;
  return resolveHttpSettings(merged);
}

/** Reads and validates a configuration file; every failure is a CONFIG error that says what to fix. */
export function loadBridgeConfig(file: string, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  let text: string;
  try {
    // Bounded before it is read: a configuration is a few KB.
    if (statSync(file).size > CONFIG_MAX_BYTES) {
      throw configError(`${file}: larger than ${CONFIG_MAX_BYTES} bytes; this is not a configuration`);
    }
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof CgmError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : 'cannot be read';
    throw configError(`${file}: ${reason}`);
  }
  // Bounded before it is parsed: nesting and size cost stack and memory in everything that walks it.
  const shape = jsonShapeProblem(text, CONFIG_JSON_LIMITS);
  if (shape) throw configError(`${file}: the configuration ${shape}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // Not the parser's own message: it quotes the text, which may hold a password.
    const at = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    const line = at === undefined ? undefined : text.slice(0, Number(at)).split('\n').length;
    throw configError(`${file}: is not valid JSON${line === undefined ? '' : ` (look at line ${line})`}`);
  }
  return parseBridgeConfig(raw, env);
}

/** An account's `nightscout` block (a destination), checked against the account it belongs to. */
function parseDestination(
  raw: unknown,
  source: SourceConfig,
  where: string,
): NightscoutDestination | undefined {
  if (raw === undefined) return undefined;
  const parsed = nightscoutDestinationSchema.safeParse(raw);
  if (!parsed.success) throw configError(describeIssues(parsed.error, `${where}.nightscout`));
  const problem = destinationProblem(parsed.data, source);
  if (problem) throw configError(describeDestinationProblem(problem, where));
  return parsed.data;
}

/** The topic segment of an account name; a name that cannot make one is CONFIG naming the field. */
function slugOf(name: string, field: string): string {
  try {
    return subjectSlug(name);
  } catch (error) {
    if (error instanceof CgmError) throw configError(`${field}: ${error.message}`);
    throw error;
  }
}

function configError(message: string): CgmError {
  return new CgmError('CONFIG', message, {
    hint: 'see the README, section "Configuration": every field, the environment variables and the state file',
  });
}
