// What GlucoBridge sends to a Nightscout site for one reading. Fields: v1 `Entry` of
// `lib/server/swagger.yaml`; v3 `DocumentBase` + `Entry` of `lib/api3/swagger.yaml` (`date`, `app`,
// `utcOffset` required by `validateCommon`, `identifier` for dedupe).
import type { GlucoseReading } from '../../model/reading';
import {
  DIRECTION_OF,
  HIGH_MGDL,
  LOW_MGDL,
  MAX_AHEAD_MS,
  MIN_INSTANT_MS,
  TREND_BY_CODE,
  UPLOAD_APP,
} from './constants';
import { entryIdentifier } from './identifier';

/** A v1 entry as POSTed to `/api/v1/entries` (in a batch). */
export interface V1EntryDocument {
  type: 'sgv';
  sgv: number;
  date: number;
  dateString: string;
  direction: string;
  trend: number;
  device: string;
}

/** A v3 entry as POSTed, one per request, to `/api/v3/entries`. */
export interface V3EntryDocument extends Omit<V1EntryDocument, 'dateString'> {
  identifier: string;
  app: string;
  /** Minutes east of UTC at the reading's instant on this host. */
  utcOffset: number;
}

/** The `device` of uploads from a source: never empty (Loop's follower broke on empty ones). */
export function uploadDevice(reading: GlucoseReading): string {
  return `${UPLOAD_APP}-${reading.provider}`;
}

export function v1Document(reading: GlucoseReading, device: string): V1EntryDocument {
  const date = reading.time.getTime();
  return {
    type: 'sgv',
    sgv: reading.mgdl,
    date,
    dateString: reading.time.toISOString(),
    direction: DIRECTION_OF[reading.trend],
    trend: Math.max(0, TREND_BY_CODE.indexOf(reading.trend)),
    device,
  };
}

export function v3Document(reading: GlucoseReading, device: string): V3EntryDocument {
  const { dateString: _dateString, ...entry } = v1Document(reading, device);
  return {
    ...entry,
    identifier: entryIdentifier(device, entry.date),
    app: UPLOAD_APP,
    utcOffset: -reading.time.getTimezoneOffset(),
  };
}

/**
 * Why a reading must not be uploaded, or `undefined` when it may: the same rules as readings that
 * enter from a cloud (an instant from 2000 to a day ahead of the host clock, whole mg/dL 39–401).
 */
export function uploadProblem(reading: GlucoseReading, now: number): string | undefined {
  const time = reading.time instanceof Date ? reading.time.getTime() : NaN;
  if (!Number.isFinite(time) || time < MIN_INSTANT_MS) return 'its time is before 2000 or invalid';
  if (time > now + MAX_AHEAD_MS) return 'its time is more than a day ahead';
  if (!Number.isInteger(reading.mgdl) || reading.mgdl < LOW_MGDL || reading.mgdl > HIGH_MGDL) {
    return `mgdl ${String(reading.mgdl)} is outside 39–401`;
  }
  return undefined;
}
