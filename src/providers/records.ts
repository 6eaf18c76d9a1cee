// Records of a vendor answer, one at a time: one broken record must not cost the good ones, and a
// list far longer than any real answer is refused before a single item is looked at.
import type { ZodType } from 'zod';
import { CgmError } from '../model/errors';
import type { Logger } from '../model/logger';
import type { GlucoseReading } from '../model/reading';

/** Refused records named one by one per answer; the rest are counted in one more line. */
const NAMED_REFUSALS = 3;

/** An answer's list of records: an array of at most `max` items, else PROTOCOL. */
export function recordList(value: unknown, max: number, what: string): unknown[] {
  if (!Array.isArray(value)) throw new CgmError('PROTOCOL', `${what}: unexpected answer (expected a list)`);
  if (value.length > max) {
    throw new CgmError('PROTOCOL', `${what}: ${value.length} records, more than the ${max} a real answer has`);
  }
  return value;
}

/**
 * Each item checked by `schema` and turned into a reading by `toReading` (which applies the reading
 * rules of `makeReading`). A refused item is dropped with one `PROTOCOL` warning naming the field;
 * the others still count. Any other failure is thrown.
 */
export function readingsFrom<R>(
  items: readonly unknown[],
  schema: ZodType<R>,
  toReading: (record: R) => GlucoseReading,
  what: string,
  logger: Logger,
): GlucoseReading[] {
  const readings: GlucoseReading[] = [];
  let refused = 0;
  items.forEach((item, index) => {
    const problem = refusedBecause(item, schema, toReading, readings);
    if (problem === undefined) return;
    refused += 1;
    if (refused <= NAMED_REFUSALS) logger.warn(`PROTOCOL: ${what}: record ${index} refused: ${problem}`);
  });
  if (refused > NAMED_REFUSALS) {
    logger.warn(`PROTOCOL: ${what}: ${refused - NAMED_REFUSALS} more records refused`);
  }
  return readings;
}

function refusedBecause<R>(
  item: unknown,
  schema: ZodType<R>,
  toReading: (record: R) => GlucoseReading,
  into: GlucoseReading[],
): string | undefined {
  const parsed = schema.safeParse(item);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'record';
    return `${field} ${issue?.message ?? 'is invalid'}`;
  }
  try {
    into.push(toReading(parsed.data));
    return undefined;
  } catch (error) {
    if (error instanceof CgmError && error.code === 'PROTOCOL') return error.message;
    throw error;
  }
}
