import { CgmError } from '../../model/errors';
import { makeReading, sortAndDedupe, type GlucoseReading } from '../../model/reading';
import { libreTrend } from '../../model/trend';
import { chooseSubject, type Subject } from '../../model/subject';
import type { Connection, Measurement } from './schemas';
import { requireFactoryTimestamp } from './timestamp';

/** A LibreLinkUp record as a reading: the time from FactoryTimestamp (UTC), the value from mg/dL. */
export function toReading(record: Measurement, patientId: string): GlucoseReading {
  const limit = record.isLow ? 'low' : record.isHigh ? 'high' : undefined;
  return makeReading({
    provider: 'librelinkup',
    subject: patientId,
    time: requireFactoryTimestamp(record.FactoryTimestamp, 'LibreLinkUp record'),
    mgdl: record.ValueInMgPerDl,
    trend: libreTrend(record.TrendArrow),
    ...(limit ? { limit } : {}),
  });
}

/**
 * The graph lags the current value by 15–20 minutes, so the current measurement is appended;
 * it comes last so that, at an equal instant, its trend wins.
 */
export function mergeHistory(
  graph: readonly Measurement[],
  current: Measurement | null | undefined,
  patientId: string,
  sinceMs: number,
): GlucoseReading[] {
  const records = current ? [...graph, current] : [...graph];
  return sortAndDedupe(records.map((r) => toReading(r, patientId))).filter(
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
