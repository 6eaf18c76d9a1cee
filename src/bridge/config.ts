import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  DEFAULT_THRESHOLDS,
  describeIssues,
  displayOverridesSchema,
  sourceConfigSchema,
  staleMinutesSchema,
  thresholdsSchema,
  unitsSchema,
  type SourceConfig,
  type Thresholds,
} from '../config';
import { mqttSettingsSchema } from '../mqtt/settings';
import { CgmError } from '../model/errors';
import type { GlucoseUnit } from '../model/reading';

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
  thresholds: thresholdsSchema.default(DEFAULT_THRESHOLDS),
  accounts: z.array(z.unknown()).min(1, 'accounts must list at least one account'),
  /** Where session tokens are kept; default beside the configuration file. */
  stateFile: z.string().optional(),
});

export interface AccountConfig {
  source: SourceConfig;
  name: string;
  units: GlucoseUnit;
  thresholds: Thresholds;
  staleMinutes: number;
}

export interface BridgeConfig {
  mqtt: z.output<typeof mqttSettingsSchema>;
  units: GlucoseUnit;
  staleMinutes: number;
  thresholds: Thresholds;
  accounts: AccountConfig[];
  stateFile?: string;
}

/** Replaces every `{"env": "NAME"}` with that variable's value, naming the field when it is unset. */
export function resolveEnvSecrets(value: unknown, env: NodeJS.ProcessEnv, path = ''): unknown {
  if (Array.isArray(value)) return value.map((item, i) => resolveEnvSecrets(item, env, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
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
    entries.map(([key, inner]) => [key, resolveEnvSecrets(inner, env, path ? `${path}.${key}` : key)]),
  );
}

/** Validates a bridge configuration (already parsed JSON) and fills the defaults. */
export function parseBridgeConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  const resolved = resolveEnvSecrets(raw, env);
  const top = bridgeConfigSchema.safeParse(resolved);
  if (!top.success) throw configError(describeIssues(top.error));
  const config = top.data;
  const names = new Set<string>();
  const accounts = config.accounts.map((account, index): AccountConfig => {
    const where = `accounts[${index}]`;
    const extras = accountExtras.safeParse(account);
    if (!extras.success) throw configError(describeIssues(extras.error, where));
    const { name, units, thresholds, staleMinutes } = extras.data;
    if (names.has(name.toLowerCase()))
      throw configError(`${where}.name: "${name}" is used twice; names must differ`);
    names.add(name.toLowerCase());
    const { units: _u, thresholds: _t, staleMinutes: _s, ...rest } = account as Record<string, unknown>;
    const source = sourceConfigSchema.safeParse(rest);
    if (!source.success) throw configError(describeIssues(source.error, where));
    return {
      source: source.data,
      name,
      units: units ?? config.units,
      thresholds: thresholds ?? config.thresholds,
      staleMinutes: staleMinutes ?? config.staleMinutes,
    };
  });
  const mqtt = { ...config.mqtt };
  if (env.GLUCOBRIDGE_MQTT_URL) mqtt.url = env.GLUCOBRIDGE_MQTT_URL;
  if (env.GLUCOBRIDGE_MQTT_USERNAME) mqtt.username = env.GLUCOBRIDGE_MQTT_USERNAME;
  if (env.GLUCOBRIDGE_MQTT_PASSWORD) mqtt.password = env.GLUCOBRIDGE_MQTT_PASSWORD;
  return {
    ...config,
    mqtt,
    accounts,
    ...(config.stateFile === undefined ? {} : { stateFile: config.stateFile }),
  };
}

/** Reads and validates a configuration file; every failure is a CONFIG error that says what to fix. */
export function loadBridgeConfig(file: string, env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot be read';
    throw configError(`${file}: ${reason}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw configError(
      `${file} is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return parseBridgeConfig(raw, env);
}

function configError(message: string): CgmError {
  return new CgmError('CONFIG', message, {
    hint: 'see the README, section "Configuration": every field, the environment variables and the state file',
  });
}
