import { CgmError } from '../../model/errors';
import {
  readingToJson,
  unitLabel,
  valueIn,
  type GlucoseReading,
  type GlucoseUnit,
} from '../../model/reading';
import { createSource } from '../../source';
import type { SourceConfigInput } from '../../config';
import { credentialsFromEnv, parseOptions, UsageError, type CliIo } from './io';
import { warningLogger } from './logger';
import { cloudStatistics, statisticsTable } from './stats';
import { readVitaDockModule, storedVitaDockOptions } from './vitadock';

export const READ_USAGE = `glucobridge read --provider dexcom|librelinkup|nightscout|vitadock [--region R | --server URL]
                 [--minutes N | --stats] [--patient ID] [--units mgdl|mmol] [--json]
  --stats   time in range and the other consensus statistics of the last 24 h (from the cloud's history)
  credentials from GLUCOBRIDGE_USERNAME, GLUCOBRIDGE_PASSWORD (and GLUCOBRIDGE_ACCOUNT_ID for Dexcom)
  nightscout: --server https://your-site [--api v1|v3]; GLUCOBRIDGE_NIGHTSCOUT_TOKEN or
            GLUCOBRIDGE_NIGHTSCOUT_API_SECRET (neither for a site readable without one)
  vitadock: [--module cardiodocks|targetscales|thermodocks|glucodockinsulins|glucodockmeals|tracker|activitydocks]
            [--state FILE] [--name NAME]; key from GLUCOBRIDGE_VITADOCK_CONSUMER_KEY/_CONSUMER_SECRET, tokens
            from GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN/_ACCESS_SECRET or the file \`glucobridge vitadock authorize\` wrote
`;

const OPTIONS = {
  provider: { type: 'string' },
  region: { type: 'string' },
  server: { type: 'string' },
  api: { type: 'string' },
  minutes: { type: 'string' },
  patient: { type: 'string' },
  units: { type: 'string' },
  json: { type: 'boolean' },
  stats: { type: 'boolean' },
  module: { type: 'string' },
  state: { type: 'string' },
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `glucobridge read`: the latest reading, or the history of a span, of one account. */
export async function readCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(argv, OPTIONS, READ_USAGE);
  if (values.help) {
    io.stdout(READ_USAGE);
    return 0;
  }
  // VitaDock's other devices (blood pressure, scale, thermometer, …) print measurements, not glucose.
  if (values.module !== undefined && values.module !== 'glucodockglucoses') {
    if (values.provider !== 'vitadock') throw new UsageError('--module is for --provider vitadock');
    return readVitaDockModule({ ...values, module: values.module }, io);
  }
  const units = parseUnits(values.units);
  const minutes = values.minutes === undefined ? undefined : parseMinutes(values.minutes);
  const logger = warningLogger(io);
  const source = createSource(readConfig(values, io.env), {
    logger,
    ...(values.provider === 'vitadock' ? await storedVitaDockOptions(io.env, values.state, values.name) : {}),
  });
  try {
    if (values.stats) {
      if (minutes !== undefined)
        throw new UsageError(`--stats takes the last 24 h; leave out --minutes\n${READ_USAGE}`);
      if (!source.cadence.continuous)
        throw new UsageError(
          `--stats is for continuous sensors (Dexcom, LibreLinkUp, Nightscout)\n${READ_USAGE}`,
        );
      const statistics = await cloudStatistics(source, values.patient);
      if (statistics.percentInRange === null) throw noData();
      io.stdout(
        values.json ? `${JSON.stringify(statistics, null, 2)}\n` : statisticsTable(statistics, units),
      );
      return 0;
    }
    const readings =
      minutes === undefined
        ? [await source.latest(values.patient)].filter((r): r is GlucoseReading => r !== null)
        : await source.history(
            values.patient === undefined ? { minutes } : { minutes, subject: values.patient },
          );
    if (readings.length === 0) throw noData();
    io.stdout(
      values.json ? `${JSON.stringify(readings.map(readingToJson), null, 2)}\n` : table(readings, units),
    );
    return 0;
  } finally {
    await source.close();
  }
}

function noData(): CgmError {
  return new CgmError('NO_DATA', 'the account has no readings in that span', {
    hint: 'Dexcom: Share must be on with at least one follower; LibreLinkUp: the sensor must be uploading; Nightscout: an uploader must be sending',
  });
}

function readConfig(
  values: { provider?: string; region?: string; server?: string; patient?: string; api?: string },
  env: NodeJS.ProcessEnv,
): SourceConfigInput {
  const credentials = credentialsFromEnv(env);
  const common = {
    ...(values.server === undefined ? {} : { server: values.server }),
    ...(values.region === undefined ? {} : { region: values.region }),
  };
  switch (values.provider) {
    case 'dexcom':
      return {
        provider: 'dexcom',
        ...common,
        ...credentials,
        password: credentials.password ?? '',
      } as SourceConfigInput;
    case 'librelinkup':
      return {
        provider: 'librelinkup',
        ...common,
        username: credentials.username ?? '',
        password: credentials.password ?? '',
        ...(values.patient === undefined ? {} : { patient: values.patient }),
      };
    case 'nightscout':
      if (values.server === undefined)
        throw new UsageError(`--server is required for nightscout\n${READ_USAGE}`);
      if (values.api !== undefined && values.api !== 'v1' && values.api !== 'v3') {
        throw new UsageError(`--api must be v1 or v3\n${READ_USAGE}`);
      }
      return {
        provider: 'nightscout',
        server: values.server,
        ...(values.api === undefined ? {} : { api: values.api }),
        ...(env.GLUCOBRIDGE_NIGHTSCOUT_TOKEN ? { token: env.GLUCOBRIDGE_NIGHTSCOUT_TOKEN } : {}),
        ...(env.GLUCOBRIDGE_NIGHTSCOUT_API_SECRET
          ? { apiSecret: env.GLUCOBRIDGE_NIGHTSCOUT_API_SECRET }
          : {}),
      };
    case 'vitadock':
      return {
        provider: 'vitadock',
        ...(values.server === undefined ? {} : { server: values.server }),
        consumerKey: env.GLUCOBRIDGE_VITADOCK_CONSUMER_KEY ?? '',
        consumerSecret: env.GLUCOBRIDGE_VITADOCK_CONSUMER_SECRET ?? '',
        ...(env.GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN
          ? { accessToken: env.GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN }
          : {}),
        ...(env.GLUCOBRIDGE_VITADOCK_ACCESS_SECRET
          ? { accessSecret: env.GLUCOBRIDGE_VITADOCK_ACCESS_SECRET }
          : {}),
      };
    default:
      throw new UsageError(`--provider must be dexcom, librelinkup, nightscout or vitadock\n${READ_USAGE}`);
  }
}

function parseUnits(text: string | undefined): GlucoseUnit {
  if (text === undefined || text === 'mgdl') return 'mgdl';
  if (text === 'mmol') return 'mmol';
  throw new UsageError(`--units must be mgdl or mmol\n${READ_USAGE}`);
}

function parseMinutes(text: string): number {
  const minutes = Number(text);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    throw new UsageError(`--minutes must be a whole number from 1 to 1440\n${READ_USAGE}`);
  }
  return minutes;
}

/** A table for people: time (UTC), the value in their unit, the arrow, how old it is. */
export function table(readings: GlucoseReading[], units: GlucoseUnit, now = Date.now()): string {
  const rows = readings.map((r) => {
    const value = units === 'mmol' ? valueIn(r, units).toFixed(1) : String(valueIn(r, units));
    const shown = r.limit ? `${r.limit.toUpperCase()} (${value})` : value;
    return [
      r.time
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z'),
      `${shown} ${unitLabel(units)}`,
      r.arrow,
      age(now - r.time.getTime()),
    ];
  });
  const header = ['time (UTC)', 'glucose', 'trend', 'age'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

function age(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}
