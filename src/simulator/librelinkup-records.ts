import { mgdlToMmol } from '../model/reading';
import type { Trend } from '../model/trend';
import type { LibreAccountSpec, LibrePatientSpec } from './librelinkup-accounts';
import { dexcomLimit } from '../model/reading';
import { gridTimes, rawGlucose, tracePoint, type TracePoint } from './trace';

// The JSON the simulated LibreLinkUp cloud answers with, shaped like the captured answers.

const MINUTE = 60_000;
const GRAPH_STEP = 5 * MINUTE;
const GRAPH_SPAN = 12 * 60 * MINUTE;
/** The newest graph point trails the current value by about this much, as in the captures. */
const GRAPH_LAG = 15 * MINUTE;
const SENSOR_LIFE = 14 * 24 * 60 * MINUTE;
const LOGBOOK_SPAN = 14 * 24 * 60 * MINUTE;

const TARGET_LOW = 70;
const TARGET_HIGH = 180;
const ALARM_LOW = 70;
const ALARM_HIGH = 250;
const URGENT_LOW = 55;

type Json = Record<string, unknown>;

function hash(text: string): number {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** Phones do not upload on the minute: each patient's readings sit at their own second. */
function secondOffset(patient: LibrePatientSpec): number {
  return (hash(patient.patientId) % 60) * 1000;
}

/** `M/D/YYYY h:mm:ss AM|PM`, shifted by `offsetMinutes` (0 for FactoryTimestamp, UTC). */
export function formatLibreTimestamp(ms: number, offsetMinutes = 0): string {
  const d = new Date(ms + offsetMinutes * MINUTE);
  const hours = d.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ` +
    `${hours % 12 || 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${hours < 12 ? 'AM' : 'PM'}`
  );
}

/** Our trend as LibreLinkUp's five arrows; 0 when the sensor gives none (its LO/HI). */
export function libreArrow(trend: Trend): number {
  switch (trend) {
    case 'doubleDown':
    case 'singleDown':
      return 1;
    case 'fortyFiveDown':
      return 2;
    case 'flat':
      return 3;
    case 'fortyFiveUp':
      return 4;
    case 'singleUp':
    case 'doubleUp':
      return 5;
    default:
      return 0;
  }
}

/** The app's traffic light: 1 green, 2 yellow above target, 3 orange high alarm, 4 red low alarm. */
function color(mgdl: number): number {
  if (mgdl < ALARM_LOW) return 4;
  if (mgdl > ALARM_HIGH) return 3;
  if (mgdl > TARGET_HIGH) return 2;
  return 1;
}

function record(
  point: TracePoint,
  patient: LibrePatientSpec,
  uom: 0 | 1,
  type: number,
  withTrend: boolean,
): Json {
  const out: Json = {
    FactoryTimestamp: formatLibreTimestamp(point.time),
    Timestamp: formatLibreTimestamp(point.time, patient.utcOffsetMinutes),
    type,
    ValueInMgPerDl: point.mgdl,
  };
  if (withTrend) {
    out.TrendArrow = libreArrow(point.trend);
    out.TrendMessage = null;
  }
  return {
    ...out,
    MeasurementColor: color(point.mgdl),
    GlucoseUnits: uom,
    Value: uom === 1 ? point.mgdl : mgdlToMmol(point.mgdl),
    isHigh: point.limit === 'high',
    isLow: point.limit === 'low',
  };
}

/**
 * The patient's trace; a patient with `highHourUtc` also has one big daily rise there (a missed
 * bolus) that passes the sensor's HI, so the demo shows highs as well as the trace's night lows.
 */
export function librePoint(patient: LibrePatientSpec, time: number): TracePoint {
  if (patient.highHourUtc === undefined) return tracePoint(patient.seed, time, patient.profile);
  const value = (t: number) =>
    rawGlucose(patient.seed, t, patient.profile) + spike(patient.highHourUtc ?? 0, t);
  const raw = value(time);
  const mgdl = Math.min(401, Math.max(39, Math.round(raw)));
  const limit = dexcomLimit(mgdl);
  if (limit) return { time, mgdl, trend: 'notComputable', limit };
  return { time, mgdl, trend: slopeTrend((raw - value(time - 15 * MINUTE)) / 15) };
}

function spike(hourUtc: number, time: number): number {
  const hours = ((((time / 3600_000 - hourUtc) % 24) + 36) % 24) - 12;
  return 260 * Math.exp(-((hours / 1.3) ** 2));
}

function slopeTrend(perMinute: number): Trend {
  if (perMinute <= -2) return 'singleDown';
  if (perMinute <= -1) return 'fortyFiveDown';
  if (perMinute < 1) return 'flat';
  if (perMinute < 2) return 'fortyFiveUp';
  return 'singleUp';
}

/** The newest value: one a minute, at the patient's own second. */
export function currentPoint(patient: LibrePatientSpec, now: number): TracePoint {
  const offset = secondOffset(patient);
  const time = Math.floor((now - offset) / MINUTE) * MINUTE + offset;
  return librePoint(patient, time);
}

export function currentRecord(patient: LibrePatientSpec, uom: 0 | 1, now: number): Json {
  return record(currentPoint(patient, now), patient, uom, 1, true);
}

/** About 12 h of 5-minute points, oldest first, without trend, ending ~15 minutes ago. */
export function graphRecords(patient: LibrePatientSpec, uom: 0 | 1, now: number): Json[] {
  const offset = secondOffset(patient);
  return gridTimes(now - GRAPH_SPAN - offset, now - GRAPH_LAG - offset, GRAPH_STEP)
    .reverse()
    .map((t) => record(librePoint(patient, t + offset), patient, uom, 0, false));
}

/** Alarm events of the last 14 days, newest first: entering low (1), urgent low (0) or high (2). */
export function logbookRecords(patient: LibrePatientSpec, uom: 0 | 1, now: number): Json[] {
  const offset = secondOffset(patient);
  const times = gridTimes(now - LOGBOOK_SPAN - offset, now - offset, GRAPH_STEP).reverse();
  const events: Json[] = [];
  let previous: number | undefined;
  for (const t of times) {
    const point = librePoint(patient, t + offset);
    const alarm = alarmOf(point.mgdl);
    if (alarm !== undefined && alarm !== previous) {
      events.push({ ...record(point, patient, uom, 3, true), alarmType: alarm });
    }
    previous = alarm;
  }
  return events.reverse();
}

function alarmOf(mgdl: number): number | undefined {
  if (mgdl < URGENT_LOW) return 0;
  if (mgdl < ALARM_LOW) return 1;
  if (mgdl > ALARM_HIGH) return 2;
  return undefined;
}

function alarmRules(): Json {
  return {
    c: true,
    h: { on: true, th: ALARM_HIGH, thmm: mgdlToMmol(ALARM_HIGH), d: 1440, f: 0.1 },
    f: { th: URGENT_LOW, thmm: 3, d: 30, tl: 10, tlmm: 0.6 },
    l: { on: true, th: ALARM_LOW, thmm: mgdlToMmol(ALARM_LOW), d: 1440, tl: 10, tlmm: 0.6 },
    nd: { i: 20, r: 5, l: 6 },
    p: 5,
    r: 5,
    std: {},
  };
}

/** When the patient's current sensor was started: a new one every 14 days, at the patient's own time. */
export function sensorStart(patient: LibrePatientSpec, now: number): number {
  const start = now - ((now + hash(patient.seed)) % SENSOR_LIFE);
  return Math.floor(start / 1000) * 1000;
}

/** The serial of the sensor started at `start`: a Libre 3 (`0E…`), new with every sensor. */
export function sensorSerial(patient: LibrePatientSpec, start: number): string {
  return `0E${(hash(`${patient.seed}:${start}`) % 1e8).toString().padStart(8, '0')}`;
}

function sensor(patient: LibrePatientSpec, now: number): Json {
  const activated = sensorStart(patient, now);
  return {
    deviceId: '',
    sn: sensorSerial(patient, activated),
    a: Math.floor(activated / 1000),
    w: 60,
    pt: 4,
    s: true,
    lj: false,
  };
}

function device(patient: LibrePatientSpec, now: number): Json {
  return {
    did: `d0de0000-${patient.patientId.slice(9)}`,
    dtid: 40068,
    v: '3.6.5',
    ll: ALARM_LOW,
    hl: ALARM_HIGH,
    u: Math.floor(currentPoint(patient, now).time / 1000),
    fixedLowAlarmValues: { mgdl: 60, mmoll: 3.3 },
    alarms: true,
    fixedLowThreshold: 0,
  };
}

export function connectionRecord(patient: LibrePatientSpec, account: LibreAccountSpec, now: number): Json {
  const current = currentRecord(patient, account.uom, now);
  return {
    id: patient.connectionId,
    patientId: patient.patientId,
    country: patient.country,
    status: 2,
    firstName: patient.firstName,
    lastName: patient.lastName,
    targetLow: TARGET_LOW,
    targetHigh: TARGET_HIGH,
    uom: account.uom,
    sensor: sensor(patient, now),
    alarmRules: alarmRules(),
    glucoseMeasurement: current,
    glucoseItem: current,
    glucoseAlarm: null,
    patientDevice: device(patient, now),
    created: 1_700_000_000,
  };
}

export function graphData(patient: LibrePatientSpec, account: LibreAccountSpec, now: number): Json {
  return {
    connection: connectionRecord(patient, account, now),
    activeSensors: [{ sensor: sensor(patient, now), device: device(patient, now) }],
    graphData: graphRecords(patient, account.uom, now),
  };
}

export function notificationSettings(patient: LibrePatientSpec, now: number): Json {
  return {
    connectionId: patient.connectionId,
    alarmRules: alarmRules(),
    std: {},
    patientDevice: device(patient, now),
  };
}

/** The `user` of a successful login. */
export function userRecord(account: LibreAccountSpec, now: number): Json {
  const seconds = Math.floor(now / 1000);
  return {
    id: account.userId,
    firstName: account.firstName,
    lastName: account.lastName,
    email: account.email,
    country: account.country,
    uiLanguage: 'en-US',
    communicationLanguage: 'en-US',
    accountType: 'pat',
    uom: String(account.uom),
    dateFormat: '2',
    timeFormat: '2',
    emailDay: [1],
    system: { messages: { firstUsePhoenix: 1_650_000_000, lluOnboarding: 1_650_000_100 } },
    details: {},
    twoFactor: { primaryMethod: '', primaryValue: '', secondaryMethod: '', secondaryValue: '' },
    created: 1_650_000_000,
    lastLogin: seconds,
    programs: {},
    dateOfBirth: 0,
    practices: {},
    devices: {},
    consents: { llu: { policyAccept: 1_650_000_000, touAccept: 1_650_000_000 } },
  };
}
