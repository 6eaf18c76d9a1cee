import { z } from 'zod';
import { CgmError } from '../../src/model/errors';
import { makeReading, PROVIDER_IDS, type GlucoseReading } from '../../src/model/reading';
import { TRENDS, type Trend } from '../../src/model/trend';
import { payloadProblem } from './payload';
import type { NodeMessage } from './types';

/** A reading as cgm-read-glucose sends it (`msg.reading`, or an item of a history payload). */
const readingJsonSchema = z.object({
  provider: z.enum(PROVIDER_IDS, { error: 'provider must name the source (dexcom, librelinkup, …)' }),
  subject: z.string().optional(),
  time: z.union([z.string(), z.number()]),
  mgdl: z.number({ error: 'mgdl must be a number' }),
  trend: z.enum(TRENDS as [Trend, ...Trend[]]).default('none'),
  limit: z.enum(['low', 'high']).optional(),
});

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * The readings of an input message: a history array in `msg.payload`, one reading object in
 * `msg.payload`, or (for a message of cgm-read-glucose in latest or follow mode, whose payload is the
 * value) `msg.reading`. Each goes through the same checks as a reading from a cloud. A message that is
 * not one of these is CONFIG naming what to send (`what` is the localised sentence); a payload too deep
 * or too big is taken out of the message first (Node-RED copies failed messages for Catch nodes).
 */
export function messageReadings(msg: NodeMessage, what: string): GlucoseReading[] {
  const input = msg.payload !== null && typeof msg.payload === 'object' ? msg.payload : msg.reading;
  const hostile = payloadProblem(input);
  if (hostile) {
    msg.payload = null;
    delete msg.reading;
    throw new CgmError('CONFIG', `${what} (${hostile})`);
  }
  if (input === undefined || input === null) throw new CgmError('CONFIG', what);
  const list = Array.isArray(input) ? (input as unknown[]) : [input];
  const now = Date.now();
  return list.map((item, index) => {
    const where = Array.isArray(input) ? `payload[${index}]` : input === msg.reading ? 'reading' : 'payload';
    const parsed = readingJsonSchema.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.map(String).join('.') ?? '';
      throw new CgmError(
        'CONFIG',
        `${what} (msg.${where}${field ? `.${field}` : ''}: ${issue?.message ?? 'invalid'})`,
      );
    }
    const json = parsed.data;
    const time = instant(json.time);
    if (time === undefined) {
      throw new CgmError(
        'CONFIG',
        `${what} (msg.${where}.time must be an ISO instant or epoch milliseconds)`,
      );
    }
    try {
      return makeReading(
        {
          provider: json.provider,
          subject: json.subject ?? '',
          time,
          mgdl: json.mgdl,
          trend: json.trend,
          ...(json.limit ? { limit: json.limit } : {}),
        },
        { now },
      );
    } catch (error) {
      throw new CgmError(
        'CONFIG',
        `${what} (msg.${where}: ${error instanceof CgmError ? error.message : 'not a reading'})`,
      );
    }
  });
}

/** An instant from our own JSON (ISO with a zone) or epoch ms; never a guess at another format. */
function instant(value: string | number): Date | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? new Date(value) : undefined;
  if (!ISO_INSTANT.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}
