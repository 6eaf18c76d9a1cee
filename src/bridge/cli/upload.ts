import { z } from 'zod';
import { CgmError } from '../../model/errors';
import { TRENDS, type Trend } from '../../model/trend';
import { DexcomClient } from '../../providers/dexcom/client';
import { DexcomPublisher, type UploadReading } from '../../providers/dexcom/publisher';
import type { DexcomConfig } from '../../config';
import { parseSourceConfig } from '../../source';
import { credentialsFromEnv, parseOptions, UsageError, type CliIo } from './io';

export const UPLOAD_USAGE = `glucobridge upload --serial SN [--region us|ous|jp | --server URL] [--take-over-receiver] < readings.json
  readings.json: a JSON array of {time, mgdl, trend?} (what \`glucobridge read --json\` prints)
  credentials from GLUCOBRIDGE_USERNAME, GLUCOBRIDGE_PASSWORD (or GLUCOBRIDGE_ACCOUNT_ID)
`;

const OPTIONS = {
  serial: { type: 'string' },
  region: { type: 'string' },
  server: { type: 'string' },
  'take-over-receiver': { type: 'boolean' },
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
  if (values.region !== undefined && values.server !== undefined) {
    throw new UsageError('give --region or --server, not both');
  }
  const readings = parseReadings(await io.readStdin());
  const config = dexcomConfigFromCli({ ...values, takeOverReceiver: values['take-over-receiver'] }, io.env);
  const client = new DexcomClient(config);
  try {
    const result = await new DexcomPublisher(client).upload(readings);
    const newest = result.lastUploaded ? `; newest ${result.lastUploaded.toISOString()}` : '';
    io.stdout(
      `uploaded ${result.sent} reading(s) in ${result.batches} batch(es), ${result.skipped} skipped${newest}\n`,
    );
    return 0;
  } finally {
    await client.close();
  }
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
