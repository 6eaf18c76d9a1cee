import type { CgmError } from '../model/errors';
import { homeAssistantTrend } from '../model/trend';
import type { Measurement } from '../model/measurement';
import type { SensorStatus } from '../model/sensor';
import { classify, deltaIn, deltaPerFiveMinutes } from '../follow/classify';
import { unitLabel, valueIn, type GlucoseReading } from '../model/reading';
import type { GlucoseStatistics } from '../stats/statistics';
import type { SubjectDescriptor } from './subject';
import { resolveTopics, retained, subjectTopic, type MqttMessage, type TopicOptions } from './topics';

/** The leaf topics under `<base>/<subject>/`. */
export const LEAF = {
  state: 'state',
  glucose: 'glucose',
  trend: 'trend',
  problem: 'problem',
} as const;

/** Where each measurement kind is published under `<base>/<subject>/`. */
export const MEASUREMENT_LEAF: Record<Measurement['kind'], string> = {
  weight: 'weight',
  bloodPressure: 'blood_pressure',
  temperature: 'temperature',
  insulin: 'insulin',
  meal: 'meal',
  activity: 'activity',
};

/** The retained JSON on `<base>/<subject>/state`. */
export interface StatePayload {
  mgdl: number;
  mmol: number;
  value: number;
  unit: 'mg/dL' | 'mmol/L';
  /** Our (Dexcom's) trend name, e.g. `flat`. */
  trend: GlucoseReading['trend'];
  /**
   * The same trend in Home Assistant's words (its Dexcom integration and our trend entity):
   * `rising_quickly`, `rising`, `rising_slightly`, `steady`, `falling_slightly`, `falling`,
   * `falling_quickly`, `sensor_unavailable`; null when the sensor gives no trend.
   */
  homeAssistantTrend: string | null;
  arrow: string;
  time: string;
  delta: number | null;
  low: boolean;
  urgentLow: boolean;
  high: boolean;
  stale: boolean;
  provider: GlucoseReading['provider'];
  /** The sensor's LOW/HIGH placeholder (Dexcom 39/401, Libre isLow/isHigh), null for a real value. */
  limit: 'low' | 'high' | null;
  /**
   * The person's current sensor, when the cloud reports one (LibreLinkUp): serial, start and expected
   * end (ISO instants), days left, warming up. Absent otherwise.
   */
  sensor?: SensorStatus;
  /** Time in range and the other consensus metrics of the last 24 h, when the host computes them. */
  statistics?: GlucoseStatistics;
}

export interface ReadingStatus {
  /** No newer reading for longer than the subject's `staleMinutes`. */
  stale: boolean;
  /** The person's sensor as of now, when the cloud reports one. */
  sensor?: SensorStatus | undefined;
  /** The person's statistics (see `GlucoseStatistics`), added to the state JSON as `statistics`. */
  statistics?: GlucoseStatistics | undefined;
}

export function statePayload(
  subject: SubjectDescriptor,
  reading: GlucoseReading,
  previous: GlucoseReading | undefined,
  status: ReadingStatus,
): StatePayload {
  const flags = classify(reading, subject.thresholds);
  return {
    mgdl: reading.mgdl,
    mmol: reading.mmol,
    value: valueIn(reading, subject.units),
    unit: unitLabel(subject.units),
    trend: reading.trend,
    homeAssistantTrend: homeAssistantTrend(reading.trend),
    arrow: reading.arrow,
    time: reading.time.toISOString(),
    delta: deltaIn(deltaPerFiveMinutes(reading, previous), subject.units),
    low: flags.low,
    urgentLow: flags.urgentLow,
    high: flags.high,
    stale: status.stale,
    provider: reading.provider,
    limit: reading.limit ?? null,
    ...(status.sensor ? { sensor: { ...status.sensor } } : {}),
    ...(status.statistics ? { statistics: status.statistics } : {}),
  };
}

/** What the plain trend topic carries when the sensor gives no trend (not computable, none). */
export const UNKNOWN_TREND = 'unknown';

/**
 * A new reading: the JSON state, then the plain glucose value and the trend in Home Assistant's words
 * (the vocabulary of the trend entity), all retained.
 */
export function stateMessages(
  subject: SubjectDescriptor,
  reading: GlucoseReading,
  previous: GlucoseReading | undefined,
  status: ReadingStatus,
  options: TopicOptions = {},
): MqttMessage[] {
  const topics = resolveTopics(options);
  const payload = statePayload(subject, reading, previous, status);
  return [
    retained(subjectTopic(topics, subject.key, LEAF.state), JSON.stringify(payload)),
    retained(subjectTopic(topics, subject.key, LEAF.glucose), String(payload.value)),
    retained(subjectTopic(topics, subject.key, LEAF.trend), payload.homeAssistantTrend ?? UNKNOWN_TREND),
  ];
}

/** The retained JSON on `<base>/<subject>/problem`. Only the code and its fixed texts: no vendor text. */
export interface ProblemPayload {
  problem: boolean;
  code: CgmError['code'] | null;
  status: string | null;
  retryable: boolean | null;
  hint: string | null;
}

/** The account's current error (AUTH_INVALID, ACCOUNT_LOCKED, …) or `null` once it works again. */
export function problemMessages(
  subject: SubjectDescriptor,
  error: CgmError | null,
  options: TopicOptions = {},
): MqttMessage[] {
  const topics = resolveTopics(options);
  const payload: ProblemPayload = error
    ? {
        problem: true,
        code: error.code,
        status: error.status,
        retryable: error.retryable,
        hint: error.hint ?? null,
      }
    : { problem: false, code: null, status: null, retryable: null, hint: null };
  return [retained(subjectTopic(topics, subject.key, LEAF.problem), JSON.stringify(payload))];
}

/** The JSON of a measurement: its values (units fixed by the kind) and the ISO time. */
export function measurementPayload(m: Measurement): Record<string, string | number | null> {
  const time = m.time.toISOString();
  switch (m.kind) {
    case 'weight':
      return {
        weightKg: m.weightKg,
        bodyFatPercent: m.bodyFatPercent,
        bodyWaterPercent: m.bodyWaterPercent,
        muscleMassPercent: m.muscleMassPercent,
        boneMassKg: m.boneMassKg,
        bmi: m.bmi,
        time,
      };
    case 'bloodPressure':
      return { systolic: m.systolic, diastolic: m.diastolic, pulse: m.pulse, time };
    case 'temperature':
      return { celsius: m.celsius, time };
    case 'insulin':
      return { units: m.units, insulinType: m.insulinType, time };
    case 'meal':
      return { carbohydratesGrams: m.carbohydratesGrams, note: m.note, time };
    case 'activity':
      return { steps: m.steps, distanceMeters: m.distanceMeters, kcal: m.kcal, time };
  }
}

/** A measurement on `<base>/<subject>/<kind>`, retained (the latest one stays visible). */
export function measurementMessages(
  subject: SubjectDescriptor,
  m: Measurement,
  options: TopicOptions = {},
): MqttMessage[] {
  const topics = resolveTopics(options);
  const topic = subjectTopic(topics, subject.key, MEASUREMENT_LEAF[m.kind]);
  return [retained(topic, JSON.stringify(measurementPayload(m)))];
}
