import { CgmError } from '../../model/errors';
import type { Logger } from '../../model/logger';
import { LIBRE_RANGE } from '../../model/plausible';
import { makeReading, sortAndDedupe, type GlucoseReading } from '../../model/reading';
import { libreTrend } from '../../model/trend';
import { chooseSubject, type Subject } from '../../model/subject';
import { readingsFrom } from '../records';
import { measurementSchema, type Connection, type Measurement } from './schemas';
import { parseFactoryTimestamp } from './timestamp';

/**
 * A LibreLinkUp record as a reading: the time from FactoryTimestamp (UTC), the value from mg/dL,
 * isLow/isHigh as the sensor's LO/HI. Throws PROTOCOL naming the field when the rules refuse it.
 */
export function toReading(record: Measurement, patientId: string): GlucoseReading {
  const limit = record.isLow ? 'low' : record.isHigh ? 'high' : undefined;
  const time = parseFactoryTimestamp(record.FactoryTimestamp);
  if (!time) {
    throw new CgmError(
      'PROTOCOL',
      `FactoryTimestamp "${record.FactoryTimestamp.slice(0, 40)}" is unreadable`,
      {
        detail: { field: 'FactoryTimestamp' },
      },
    );
  }
  return makeReading(
    {
      provider: 'librelinkup',
      subject: patientId,
      time,
      mgdl: record.ValueInMgPerDl,
      trend: libreTrend(record.TrendArrow),
      ...(limit ? { limit } : {}),
    },
    { range: LIBRE_RANGE, fields: { time: 'FactoryTimestamp', mgdl: 'ValueInMgPerDl' } },
  );
}

/** Records of an answer as readings, oldest first; a refused one is dropped with one log line. */
export function readingsOf(
  records: readonly unknown[],
  patientId: string,
  what: string,
  logger: Logger,
): GlucoseReading[] {
  const toOne = (record: Measurement) => toReading(record, patientId);
  return sortAndDedupe(readingsFrom(records, measurementSchema, toOne, what, logger));
}

/**
 * The graph lags the current value by 15–20 minutes, so the current measurement is appended;
 * it comes last so that, at an equal instant, its trend wins.
 */
export function mergeHistory(
  graph: readonly unknown[],
  current: unknown,
  patientId: string,
  sinceMs: number,
  logger: Logger,
): GlucoseReading[] {
  const records = current ? [...graph, current] : [...graph];
  return readingsOf(records, patientId, 'LibreLinkUp graph', logger).filter(
    (r) => r.time.getTime() >= sinceMs,
  );
}

export function patientName(connection: Connection): string {
  return `${connection.firstName} ${connection.lastName}`.trim() || 'unnamed patient';
}

export function toSubject(connection: Connection): Subject {
  return { id: connection.patientId, name: patientName(connection) };
}

/** The connection of the person `wanted` names, by the one selection rule; NOT_FOUND otherwise. */
export function findPatient(connections: readonly Connection[], wanted: string): Connection {
  const subject = chooseSubject(connections.map(toSubject), wanted);
  return connections.find((c) => c.patientId === subject.id)!;
}

export function noPatients(): CgmError {
  return new CgmError('NOT_FOUND', 'LibreLinkUp: this account follows nobody yet', {
    hint: 'accept the invitation from the patient in the LibreLinkUp app first',
  });
}
