import { z } from 'zod';
import { accountKey } from '../../follow/account-key';
import { FileStateStore } from '../../follow/file-store';
import { uploadPositions } from '../../follow/upload-positions';
import { CgmError } from '../../model/errors';
import { TRENDS, type Trend } from '../../model/trend';
import { DexcomClient } from '../../providers/dexcom/client';
import {
  DEFAULT_UPLOAD_SPACING_MS,
  DexcomPublisher,
  type UploadReading,
} from '../../providers/dexcom/publisher';
import type { DexcomConfig } from '../../config';
import { parseSourceConfig } from '../../source';
import { credentialsFromEnv, parseOptions, UsageError, type CliIo } from './io';
import { warningLogger } from './logger';

/** Where `upload` keeps its position when no --state is given: the bridge's file name, here. */
export const DEFAULT_UPLOAD_STATE = '.glucobridge-state.json';

export const UPLOAD_USAGE = `glucobridge upload --serial SN [--region us|ous|jp] [--server URL] [--take-over-receiver]
                   [--state FILE] [--spacing SECONDS] [--host-clock] [--json] < readings.json
  readings.json: a JSON array of {time, mgdl, trend?} (what \`glucobridge read --json\` prints)
  Only what is new is sent: the time of the last reading Dexcom accepted is kept per account and
  receiver in --state (default ./${DEFAULT_UPLOAD_STATE}, mode 0600), so a second run with the same
  readings uploads nothing and says how many it skipped.
  --spacing: readings closer than this to the last one uploaded are skipped (default ${DEFAULT_UPLOAD_SPACING_MS / 1000},
    i.e. 4 min 45 s as Dexcom receivers and xDrip keep: a 1-minute Libre becomes one reading per 5 minutes;
    0 sends every reading)
  --host-clock: the times were stamped by this machine's clock (not relayed from a cloud): they are
    moved by the difference between Dexcom's clock and this one. Relayed readings keep their instant.
  --json: print {uploaded, skipped, lastUploaded}
  credentials from GLUCOBRIDGE_USERNAME, GLUCOBRIDGE_PASSWORD (or GLUCOBRIDGE_ACCOUNT_ID)
`;

const OPTIONS = {
  serial: { type: 'string' },
  region: { type: 'string' },
  server: { type: 'string' },
  'take-over-receiver': { type: 'boolean' },
  state: { type: 'string' },
  spacing: { type: 'string' },
  'host-clock': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const readingsSchema = z.array(
  z.object({
    time: z.string().regex(ISO_TIME, 'time must be ISO 8601 with a zone, e.g. 2026-01-05T12:00:00Z'),
    // Judged by the upload rules (DexcomPublisher), which name the reading and the field.
    mgdl: z.number(),
    trend: z.enum(TRENDS as [Trend, ...Trend[]]).optional(),
  }),
);

/** `glucobridge upload`: sends readings to Dexcom Share as this account's publisher. */
export async function uploadCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(argv, OPTIONS, UPLOAD_USAGE);
  if (values.help) {
    io.stdout(UPLOAD_USAGE);
    return 0;
  }
  if (!values.serial) throw new UsageError(`--serial is required\n${UPLOAD_USAGE}`);
  const spacingMs = spacingOption(values.spacing);
  const hostClock = values['host-clock'] === true;
  const readings = parseReadings(await io.readStdin()).map((r) => (hostClock ? { ...r, hostClock } : r));
  const config = dexcomConfigFromCli({ ...values, takeOverReceiver: values['take-over-receiver'] }, io.env);
  const logger = warningLogger(io);
  const store = new FileStateStore(values.state ?? DEFAULT_UPLOAD_STATE, logger);
  const client = new DexcomClient(config, { logger });
  const publisher = new DexcomPublisher(client, {
    logger,
    spacingMs,
    positions: uploadPositions(store.account(accountKey('dexcom', config)), logger),
  });
  try {
    const result = await publisher.upload(readings);
    const lastUploaded = result.lastUploaded?.toISOString() ?? null;
    if (values.json) {
      io.stdout(`${JSON.stringify({ uploaded: result.uploaded, skipped: result.skipped, lastUploaded })}\n`);
    } else {
      const why = result.skipped > 0 ? ' (uploaded before, or too close to the reading before)' : '';
      io.stdout(
        `uploaded ${result.uploaded} reading(s) in ${result.batches} batch(es), ${result.skipped} skipped${why}` +
          `${lastUploaded ? `; newest ${lastUploaded}` : ''}\n`,
      );
    }
    return 0;
  } finally {
    // What Dexcom accepted before a failure is kept too.
    await store.flush();
    await client.close();
  }
}

function spacingOption(text: string | undefined): number {
  if (text === undefined) return DEFAULT_UPLOAD_SPACING_MS;
  if (!/^\d{1,5}$/.test(text.trim()) || Number(text) > 86_400) {
    throw new UsageError(`--spacing takes whole seconds from 0 to 86400 (default 285)\n${UPLOAD_USAGE}`);
  }
  return Number(text) * 1000;
}

function parseReadings(text: string): UploadReading[] {
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    throw new CgmError('CONFIG', 'standard input is not JSON', {
      hint: 'pipe a JSON array of {time, mgdl, trend?}, e.g. from `glucobridge read --json --minutes 60`',
    });
  }
  const parsed = readingsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CgmError('CONFIG', `readings: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`, {
      hint: 'each reading is {"time": "2026-01-05T12:00:00Z", "mgdl": 112, "trend": "flat"}',
    });
  }
  return parsed.data.map((r) => ({
    time: new Date(Date.parse(r.time)),
    mgdl: r.mgdl,
    ...(r.trend === undefined ? {} : { trend: r.trend }),
  }));
}

/** The Dexcom account of `upload` and `followers`: credentials from the environment, never argv. */
export function dexcomConfigFromCli(
  values: { region?: string; server?: string; serial?: string; takeOverReceiver?: boolean },
  env: NodeJS.ProcessEnv,
): DexcomConfig {
  const credentials = credentialsFromEnv(env);
  const parsed = parseSourceConfig({
    provider: 'dexcom',
    ...credentials,
    password: credentials.password ?? '',
    ...(values.region === undefined ? {} : { region: values.region as DexcomConfig['region'] }),
    ...(values.server === undefined ? {} : { server: values.server }),
    ...(values.serial === undefined ? {} : { serial: values.serial }),
    takeOverReceiver: values.takeOverReceiver ?? false,
  });
  if (parsed.provider !== 'dexcom') throw new Error('unreachable: provider is dexcom');
  return parsed;
}
