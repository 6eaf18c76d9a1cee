// How the simulated Dexcom Share writes its answers: business errors as HTTP 500 with
// {Code, Message, SubCode, TypeName}, readings in the current (or the 2015) wire format.
import { randomUUID } from 'node:crypto';
import { dexcomTrendCode } from '../model/trend';
import { dexcomTrendName } from '../providers/dexcom/constants';
import { formatDexcomDateWithOffset } from '../providers/dexcom/timestamp';
import type { TracePoint } from './trace';
import type { SimResponse } from './types';

/** OnlineException Type/Category pairs seen with each code. */
const KINDS: Record<string, [number, string, number, string]> = {
  AccountPasswordInvalid: [13, 'InvalidPassword', 4, 'Validation'],
  SessionIdNotFound: [5, 'ObjectNotFound', 2, 'Database'],
  SessionNotValid: [6, 'SessionNotValid', 5, 'Logical'],
  InvalidArgument: [10, 'InvalidArgument', 4, 'Validation'],
  MonitoredReceiverNotAssigned: [14, 'InvalidState', 5, 'Logical'],
  MonitoredReceiverSerialNumberDoesNotMatch: [14, 'InvalidState', 5, 'Logical'],
  MonitoringSessionNotActive: [14, 'InvalidState', 5, 'Logical'],
  DuplicateEgvPosted: [14, 'InvalidState', 5, 'Logical'],
};
const SSO_KIND: [number, string, number, string] = [15, 'SingleSignOn', 1, 'System'];

export type SubCodeFormat = 'xml' | 'json';

/** A business error as Dexcom sends it. */
export function dexcomFault(code: string, message: string, now: number, format: SubCodeFormat): SimResponse {
  const [type, typeString, category, categoryString] =
    KINDS[code] ?? (code.startsWith('SSO_') ? SSO_KIND : [1, 'Unknown', 1, 'System']);
  const thrown = new Date(now).toISOString().replace('Z', '');
  const details = {
    DateThrownLocal: thrown,
    DateThrown: `${thrown}Z`,
    ErrorCode: code,
    Type: type,
    Category: category,
    Severity: 2,
    TypeString: typeString,
    CategoryString: categoryString,
    SeverityString: 'Severe',
    HostName: '',
    HostIP: '',
    Id: `{${randomUUID()}}`,
    Message: message,
    FullText: `com.dexcom.udp.common.data.exception.OnlineException: ${message}`,
  };
  const subCode =
    format === 'json'
      ? JSON.stringify({ OnlineException: details })
      : `<OnlineException ${Object.entries(details)
          .map(([key, value]) => `${key}="${String(value).replace(/"/g, '&quot;')}"`)
          .join(' ')} />`;
  return {
    status: 500,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, no-store' },
    body: { Code: code, Message: message, SubCode: subCode, TypeName: 'FaultException' },
  };
}

/** A JSON value as the whole answer (ids come back as a quoted string). */
export function dexcomJson(value: unknown): SimResponse {
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) };
}

/** "Just a status": 200 with an empty body. */
export const EMPTY_OK: SimResponse = { status: 200, body: '' };

export type WireFormat = 'modern' | 'legacy';

export interface WireReading {
  time: number;
  mgdl: number;
  trend: TracePoint['trend'];
}

/**
 * One record of ReadPublisherLatestGlucoseValues. Modern (2023+): `Date(ms)` without slashes,
 * DT with the uploader's offset, Trend as a name. Legacy (2015): `/Date(ms)/`, Trend as a number.
 */
export function wireRecord(reading: WireReading, offsetMinutes: number, format: WireFormat): unknown {
  if (format === 'legacy') {
    return {
      DT: formatDexcomDateWithOffset(reading.time, offsetMinutes, true),
      ST: `/Date(${reading.time})/`,
      Trend: dexcomTrendCode(reading.trend),
      Value: reading.mgdl,
      WT: `/Date(${reading.time})/`,
    };
  }
  return {
    WT: `Date(${reading.time})`,
    ST: `Date(${reading.time})`,
    DT: formatDexcomDateWithOffset(reading.time, offsetMinutes),
    Value: reading.mgdl,
    Trend: dexcomTrendName(reading.trend),
  };
}
