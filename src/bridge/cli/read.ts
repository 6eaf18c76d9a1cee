import { CgmError } from '../../model/errors';
import { unitLabel, valueIn, type GlucoseReading, type GlucoseUnit } from '../../model/reading';
import { DEFAULT_SENSOR_DAYS } from '../../model/sensor';
import type { ProviderId } from '../../model/reading';
import { createSource } from '../../source';
import type { SourceConfigInput } from '../../config';
import { credentialsFromEnv, parseOptions, UsageError, type CliIo } from './io';
import { warningLogger } from './logger';
import { peopleJson, readPeople, sensorLines, type PersonReadings } from './read-people';
import { readSpan } from './read-span';
import { cloudStatistics, statisticsTable } from './stats';
import { readVitaDockModule, storedVitaDockOptions, vitaDockConfigFromEnv } from './vitadock';

export const READ_USAGE = `glucobridge read --provider dexcom|librelinkup|nightscout|vitadock [--region R | --server URL]
                 [--minutes N | --since YYYY-MM-DD | --stats] [--patient NAME] [--units mgdl|mmol] [--json]
  the latest reading, or those of the last --minutes (at most 1440) or since a day (UTC) or instant
  --stats   time in range and the other consensus statistics of the last 24 h (from the cloud's history)
  credentials from GLUCOBRIDGE_USERNAME, GLUCOBRIDGE_PASSWORD (and GLUCOBRIDGE_ACCOUNT_ID for Dexcom)
  librelinkup: everyone the account follows, each row named, or --patient (id, name or a unique first
            name); [--accept-terms] accepts new terms of use; [--sensor-days N] (15 for Plus sensors)
  nightscout: --server https://your-site [--api v1|v3]; GLUCOBRIDGE_NIGHTSCOUT_TOKEN or
            GLUCOBRIDGE_NIGHTSCOUT_API_SECRET (neither for a site readable without one)
  vitadock: [--module cardiodocks|targetscales|thermodocks|glucodockinsulins|glucodockmeals|tracker|activitydocks]
            [--state FILE] [--name NAME]; --minutes and --since without limit (the whole record);
            key from GLUCOBRIDGE_VITADOCK_CONSUMER_KEY and GLUCOBRIDGE_VITADOCK_CONSUMER_SECRET, tokens
            from GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN/_ACCESS_SECRET or the file \`glucobridge vitadock authorize\` wrote
`;

const OPTIONS = {
  provider: { type: 'string' },
  region: { type: 'string' },
  server: { type: 'string' },
  api: { type: 'string' },
  minutes: { type: 'string' },
  since: { type: 'string' },
  patient: { type: 'string' },
  'accept-terms': { type: 'boolean' },
  'sensor-days': { type: 'string' },
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
  const vitadock = values.provider === 'vitadock';
  const span = readSpan(values, vitadock, READ_USAGE);
  if (values['accept-terms'] && values.provider !== 'librelinkup') {
    throw new UsageError('--accept-terms is for --provider librelinkup');
  }
  // VitaDock's other devices (blood pressure, scale, thermometer, …) print measurements, not glucose.
  if (values.module !== undefined && values.module !== 'glucodockglucoses') {
    if (!vitadock) throw new UsageError('--module is for --provider vitadock');
    return readVitaDockModule({ ...values, module: values.module, span }, io);
  }
  const units = parseUnits(values.units);
  const sensorDays = parseSensorDays(values['sensor-days']);
  const logger = warningLogger(io);
  const source = createSource(readConfig(values, io.env, sensorDays), {
    logger,
    ...(vitadock ? await storedVitaDockOptions(io.env, values.state, values.name) : {}),
  });
  try {
    if (values.stats) {
      if (values.minutes !== undefined || values.since !== undefined)
        throw new UsageError(`--stats takes the last 24 h; leave out --minutes and --since\n${READ_USAGE}`);
      if (!source.cadence.continuous)
        throw new UsageError(
          `--stats is for continuous sensors (Dexcom, LibreLinkUp, Nightscout)\n${READ_USAGE}`,
        );
      const statistics = await cloudStatistics(source, values.patient);
      if (statistics.percentInRange === null) throw noData(source.provider);
      io.stdout(
        values.json ? `${JSON.stringify(statistics, null, 2)}\n` : statisticsTable(statistics, units),
      );
      return 0;
    }
    const people = await readPeople(source, span, values.patient, sensorDays ?? DEFAULT_SENSOR_DAYS);
    if (people.every((p) => p.readings.length === 0)) throw noData(source.provider);
    io.stdout(
      values.json
        ? `${JSON.stringify(peopleJson(people), null, 2)}\n`
        : `${peopleTable(people, units)}${sensorLines(people)}`,
    );
    return 0;
  } finally {
    await source.close();
  }
}

/** Why an account may have nothing to show, per cloud (each names only its own app). */
const NO_DATA_HINTS: Record<ProviderId, string> = {
  dexcom: 'Share must be on in the Dexcom app, with at least one follower',
  librelinkup:
    "the patient's phone must be uploading (the LibreLink app near the sensor); LibreLinkUp keeps the last 12 hours",
  nightscout: 'an uploader (xDrip+, AAPS, Loop, …) must be sending to the site',
  vitadock: 'nothing was measured in that span: widen --minutes, or give --since YYYY-MM-DD',
};

/** The table, with a column naming the person when the cloud names them (LibreLinkUp). */
function peopleTable(people: PersonReadings[], units: GlucoseUnit): string {
  const rows = people.flatMap((p) => p.readings.map((reading) => ({ reading, name: p.name })));
  const named = rows.some((r) => r.name !== undefined);
  return table(
    rows.map((r) => r.reading),
    units,
    Date.now(),
    named ? rows.map((r) => r.name ?? '') : undefined,
  );
}

function noData(provider: ProviderId): CgmError {
  return new CgmError('NO_DATA', 'the account has no readings in that span', {
    hint: NO_DATA_HINTS[provider],
  });
}

function readConfig(
  values: {
    provider?: string;
    region?: string;
    server?: string;
    patient?: string;
    api?: string;
    name?: string;
    'accept-terms'?: boolean;
  },
  env: NodeJS.ProcessEnv,
  sensorDays: number | undefined,
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
        ...(values['accept-terms'] ? { acceptTerms: true } : {}),
        ...(sensorDays === undefined ? {} : { sensorDays }),
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
      return vitaDockConfigFromEnv(env, {
        ...(values.server === undefined ? {} : { server: values.server }),
        ...(values.name === undefined ? {} : { name: values.name }),
      });
    default:
      throw new UsageError(`--provider must be dexcom, librelinkup, nightscout or vitadock\n${READ_USAGE}`);
  }
}

function parseUnits(text: string | undefined): GlucoseUnit {
  if (text === undefined || text === 'mgdl') return 'mgdl';
  if (text === 'mmol') return 'mmol';
  throw new UsageError(`--units must be mgdl or mmol\n${READ_USAGE}`);
}

function parseSensorDays(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > 30) {
    throw new UsageError(
      `--sensor-days must be a whole number from 1 to 30 (15 for Plus sensors)\n${READ_USAGE}`,
    );
  }
  return days;
}

/**
 * A table for people: time (UTC), the value in their unit, the arrow, how old it is; with `names`
 * (one per reading) a first column saying whose reading each row is.
 */
export function table(
  readings: GlucoseReading[],
  units: GlucoseUnit,
  now = Date.now(),
  names?: string[],
): string {
  const rows = readings.map((r, i) => {
    const value = units === 'mmol' ? valueIn(r, units).toFixed(1) : String(valueIn(r, units));
    const shown = r.limit ? `${r.limit.toUpperCase()} (${value})` : value;
    return [
      ...(names ? [names[i] ?? ''] : []),
      r.time
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z'),
      `${shown} ${unitLabel(units)}`,
      r.arrow,
      age(now - r.time.getTime()),
    ];
  });
  const header = [...(names ? ['person'] : []), 'time (UTC)', 'glucose', 'trend', 'age'];
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
