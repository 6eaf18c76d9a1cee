// VitaDock records → GlucoBridge values. Units are not documented by Medisana; those used here are
// the ones its generators, exports and clients imply (reference/vitadock.md §3).
import { CgmError } from '../../model/errors';
import type { Measurement, MeasurementValues } from '../../model/measurement';
import { METER_RANGE } from '../../model/plausible';
import { makeReading, type GlucoseReading } from '../../model/reading';
import { GLUCOSE_MODULE, VITADOCK_DATA_MODULES, type VitaDockDataModule } from './constants';
import type { AnyRecord, GlucoseRecord, RecordOf } from './schemas';

/** The modules read as Measurements (everything but glucose). */
export type MeasurementModule = Exclude<VitaDockDataModule, typeof GLUCOSE_MODULE>;

/** Short names people may write for a module. */
const ALIASES: Record<string, VitaDockDataModule> = {
  tracker: 'tracker/activity',
  glucose: 'glucodockglucoses',
  insulin: 'glucodockinsulins',
  meals: 'glucodockmeals',
  bloodpressure: 'cardiodocks',
  weight: 'targetscales',
  temperature: 'thermodocks',
};

/** A module name from configuration or the command line; anything else is CONFIG. */
export function resolveModule(name: string): VitaDockDataModule {
  const key = name
    .trim()
    .toLowerCase()
    .replace(/^\/+|\/+$/g, '');
  const found = (VITADOCK_DATA_MODULES as readonly string[]).includes(key)
    ? (key as VitaDockDataModule)
    : ALIASES[key];
  if (!found) {
    throw new CgmError('CONFIG', `unknown VitaDock module "${name}"`, {
      hint: `use one of ${VITADOCK_DATA_MODULES.join(', ')}`,
    });
  }
  return found;
}

export function isMeasurementModule(module: VitaDockDataModule): module is MeasurementModule {
  return module !== GLUCOSE_MODULE;
}

/**
 * A glucose record as a reading: the meter gives mg/dL and no trend. Throws PROTOCOL naming the field
 * when the reading rules refuse it (a meter reads about 20–600 mg/dL; beyond 39–401 it is LOW/HIGH).
 */
export function glucoseReading(record: GlucoseRecord, subject: string): GlucoseReading {
  return makeReading(
    {
      provider: 'vitadock',
      subject,
      time: new Date(record.measurementDate),
      mgdl: record.bloodGlucose,
      trend: 'none',
    },
    { range: METER_RANGE, fields: { time: 'measurementDate', mgdl: 'bloodGlucose' } },
  );
}

const orNull = (value: number | null | undefined): number | null => value ?? null;
const sum = (values: (number | null | undefined)[]): number | null =>
  values.some((v) => typeof v === 'number') ? values.reduce<number>((total, v) => total + (v ?? 0), 0) : null;
/** Kilometres (the tracker's unit) → whole metres. */
const metres = (km: number | null): number | null => (km === null ? null : Math.round(km * 1000));

type Mapper<M extends MeasurementModule> = (record: RecordOf[M]) => MeasurementValues;

const MAPPERS: { [M in MeasurementModule]: Mapper<M> } = {
  cardiodocks: (r) => ({
    kind: 'bloodPressure',
    systolic: r.systole,
    diastolic: r.diastole,
    pulse: orNull(r.pulse),
    ...(typeof r.arrhythmic === 'number' ? { arrhythmia: r.arrhythmic === 1 } : {}),
  }),
  targetscales: (r) => ({
    kind: 'weight',
    weightKg: r.bodyWeight,
    bodyFatPercent: orNull(r.bodyFat),
    bodyWaterPercent: orNull(r.bodyWater),
    muscleMassPercent: orNull(r.muscleMass),
    boneMassKg: orNull(r.boneMass),
    bmi: orNull(r.bmi),
  }),
  thermodocks: (r) => ({ kind: 'temperature', celsius: r.bodyTemperature }),
  glucodockinsulins: (r) => {
    const names = [r.insulinTypeName, r.insulinTypeName2, r.insulinTypeName3];
    const name = typeof r.insulinTypeIndex === 'number' ? names[r.insulinTypeIndex] : undefined;
    return { kind: 'insulin', units: r.insulin, insulinType: name ? name : null };
  },
  glucodockmeals: (r) => ({
    kind: 'meal',
    carbohydratesGrams: orNull(r.carbohydrates),
    note: r.note ? r.note : null,
  }),
  'tracker/activity': (r) => {
    const entries = r.trackerActivityEntries ?? [];
    return {
      kind: 'activity',
      steps: sum(entries.map((e) => e.steps)),
      distanceMeters: metres(sum(entries.map((e) => e.distance))),
      kcal: sum(entries.map((e) => e.calories)),
    };
  },
  'tracker/stats': (r) => ({
    kind: 'activity',
    steps: orNull(r.steps),
    distanceMeters: metres(orNull(r.distance)),
    kcal: orNull(r.calories),
  }),
  activitydocks: (r) => ({
    kind: 'activity',
    steps: orNull(r.steps),
    distanceMeters: metres(
      sum((r.distances ?? []).filter((d) => d.activity === 'total').map((d) => d.distance)),
    ),
    kcal: orNull(r.caloriesOut),
  }),
};

/** One record of a non-glucose module as a Measurement. */
export function toMeasurement<M extends MeasurementModule>(
  module: M,
  record: RecordOf[M],
  subject: string,
): Measurement {
  const values = (MAPPERS[module] as Mapper<M>)(record);
  return {
    ...values,
    provider: 'vitadock',
    subject,
    module,
    id: record.id,
    time: new Date(record.measurementDate),
  };
}

/** The unit of each numeric field, by kind, for people and MQTT. */
export const MEASUREMENT_UNITS: Record<MeasurementValues['kind'], Record<string, string>> = {
  bloodPressure: { systolic: 'mmHg', diastolic: 'mmHg', pulse: 'bpm' },
  weight: {
    weightKg: 'kg',
    bodyFatPercent: '%',
    bodyWaterPercent: '%',
    muscleMassPercent: '%',
    boneMassKg: 'kg',
    bmi: 'kg/m²',
  },
  temperature: { celsius: '°C' },
  insulin: { units: 'IU' },
  meal: { carbohydratesGrams: 'g' },
  activity: { steps: 'steps', distanceMeters: 'm', kcal: 'kcal' },
};

/** The JSON form the CLI and Node-RED print: the typed fields plus their units. */
export function measurementToJson(measurement: Measurement): Record<string, unknown> {
  const { time, ...rest } = measurement;
  return { ...rest, time: time.toISOString(), units: MEASUREMENT_UNITS[measurement.kind] };
}

/** Records the server marks deleted (`active:false`) are not data. */
export function activeOnly<R extends AnyRecord>(records: R[]): R[] {
  return records.filter((r) => r.active);
}
