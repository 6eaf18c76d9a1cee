import type { ProviderId } from './reading';

/** Blood pressure in mmHg with the pulse in beats per minute (VitaDock CardioDock). */
export interface BloodPressureValues {
  kind: 'bloodPressure';
  systolic: number;
  diastolic: number;
  pulse: number | null;
  /** The monitor flagged an irregular heartbeat (VitaDock `arrhythmic` 1). */
  arrhythmia?: boolean;
}

/** Body weight in kg with what the scale measured besides (VitaDock TargetScale). */
export interface WeightValues {
  kind: 'weight';
  weightKg: number;
  bodyFatPercent: number | null;
  bodyWaterPercent: number | null;
  muscleMassPercent: number | null;
  boneMassKg: number | null;
  bmi: number | null;
}

/** Body temperature in °C (VitaDock ThermoDock). */
export interface TemperatureValues {
  kind: 'temperature';
  celsius: number;
}

/** An insulin dose in international units (VitaDock GlucoDock). */
export interface InsulinValues {
  kind: 'insulin';
  units: number;
  insulinType: string | null;
}

/** A meal note (VitaDock GlucoDock): carbohydrates in grams where given. */
export interface MealValues {
  kind: 'meal';
  carbohydratesGrams: number | null;
  note: string | null;
}

/** Daily activity (VitaDock tracker). */
export interface ActivityValues {
  kind: 'activity';
  steps: number | null;
  distanceMeters: number | null;
  kcal: number | null;
}

export type MeasurementValues =
  BloodPressureValues | WeightValues | TemperatureValues | InsulinValues | MealValues | ActivityValues;

/** A non-glucose measurement with its units fixed by its kind. */
export type Measurement = MeasurementValues & {
  provider: ProviderId;
  subject: string;
  /** The vendor module it came from, e.g. `cardiodocks`. */
  module: string;
  /** The vendor's record id. */
  id: string;
  time: Date;
};
