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
    throw new CgmError(
      'PROTOCOL',
      `${what}: ${value.length} records, more than the ${max} a real answer has`,
    );
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
  return dropRefused(items, (item) => toReading(parseRecord(schema, item)), what, logger);
}

/** One record by its schema; a mismatch is a PROTOCOL error naming the first field at fault. */
export function parseRecord<R>(schema: ZodType<R>, item: unknown): R {
  const parsed = schema.safeParse(item);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'record';
  throw new CgmError('PROTOCOL', `${field} ${issue?.message ?? 'is invalid'}`, { detail: { field } });
}

/**
 * `convert` applied to each item; an item it refuses (a PROTOCOL CgmError) is dropped with one
 * warning line (`PROTOCOL: <what>: record <i> refused: <why>`), the others kept in order.
 */
export function dropRefused<T, U>(
  items: readonly T[],
  convert: (item: T) => U,
  what: string,
  logger: Logger,
): U[] {
  const kept: U[] = [];
  let refused = 0;
  items.forEach((item, index) => {
    try {
      kept.push(convert(item));
    } catch (error) {
      if (!(error instanceof CgmError) || error.code !== 'PROTOCOL') throw error;
      refused += 1;
      if (refused <= NAMED_REFUSALS) {
        logger.warn(`PROTOCOL: ${what}: record ${index} refused: ${error.message}`);
      }
    }
  });
  if (refused > NAMED_REFUSALS) {
    logger.warn(`PROTOCOL: ${what}: ${refused - NAMED_REFUSALS} more records refused`);
  }
  return kept;
}
