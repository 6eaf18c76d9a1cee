// Wire shapes of VitaDock Online (reference/vitadock.md §2–§3): camelCase records, epoch-ms dates,
// `null` where a device did not measure. Unknown extra keys are allowed; missing required ones are PROTOCOL.
import { z } from 'zod';
import type { VitaDockDataModule } from './constants';

/** `oauth_token=…&oauth_token_secret=…`, the body of every token endpoint. */
export const tokenPairSchema = z.object({
  oauth_token: z.string().min(1),
  oauth_token_secret: z.string().min(1),
});
export type TokenPair = z.output<typeof tokenPairSchema>;

/** Splits a form-style body the way Medisana's samples do (on `&` then the first `=`). */
export function formFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const part of text.trim().split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return fields;
}

/** `/count` answers a bare non-negative integer. */
export const countSchema = z
  .string()
  .trim()
  .regex(/^\d+$/, 'expected a bare integer')
  .transform((text) => Number(text));

const epochMs = z.number().int().nonnegative();
const optionalNumber = z.number().nullish();
const optionalInt = z.number().int().nullish();

/** Fields every stored measurement has (Medisana's `Versionable`). */
const versionable = {
  id: z.string().min(1),
  active: z.boolean(),
  version: z.number().int().nullish(),
  measurementDate: epochMs,
  updatedDate: epochMs,
  moduleSerialId: z.union([z.string(), z.number()]).nullish(),
};

/** The user's comments most modules carry besides. */
const comments = {
  activityStatus: optionalInt,
  mood: optionalInt,
  note: z.string().nullish(),
};

export const glucoseRecordSchema = z.object({
  ...versionable,
  ...comments,
  bloodGlucose: z.number().nonnegative(),
  bloodGlucoseTargetMin: optionalNumber,
  bloodGlucoseTargetMax: optionalNumber,
  mealStatus: optionalInt,
});

export const insulinRecordSchema = z.object({
  ...versionable,
  insulin: z.number().nonnegative(),
  insulinTypeIndex: optionalInt,
  insulinTypeName: z.string().nullish(),
  insulinTypeName2: z.string().nullish(),
  insulinTypeName3: z.string().nullish(),
});

export const mealRecordSchema = z.object({
  ...versionable,
  note: z.string().nullish(),
  carbohydrates: optionalNumber,
});

export const cardioRecordSchema = z.object({
  ...versionable,
  ...comments,
  systole: z.number().int().positive(),
  diastole: z.number().int().positive(),
  pulse: optionalInt,
  systoleTargetMin: optionalInt,
  systoleTargetMax: optionalInt,
  diastoleTargetMin: optionalInt,
  diastoleTargetMax: optionalInt,
  pulseTargetMin: optionalInt,
  pulseTargetMax: optionalInt,
  type: optionalInt,
  arrhythmic: optionalInt,
});

export const scaleRecordSchema = z.object({
  ...versionable,
  ...comments,
  bodyWeight: z.number().positive(),
  bodyFat: optionalNumber,
  bmi: optionalNumber,
  muscleMass: optionalNumber,
  boneMass: optionalNumber,
  bodyWater: optionalNumber,
  kcal: optionalNumber,
  targetWeight: optionalNumber,
  athletic: optionalInt,
  mealStatus: optionalInt,
});

export const thermoRecordSchema = z.object({
  ...versionable,
  ...comments,
  bodyTemperature: z.number().positive(),
  bodyTemperatureTargetMin: optionalNumber,
  bodyTemperatureTargetMax: optionalNumber,
});

const trackerActivityEntry = z.object({
  startTime: optionalInt,
  duration: optionalInt,
  steps: optionalNumber,
  runningSteps: optionalNumber,
  distance: optionalNumber,
  calories: optionalNumber,
});

export const trackerActivityRecordSchema = z.object({
  ...versionable,
  trackerActivityEntries: z.array(trackerActivityEntry).nullish(),
});

export const trackerStatsRecordSchema = z.object({
  ...versionable,
  calories: optionalNumber,
  steps: optionalNumber,
  runningSteps: optionalNumber,
  distance: optionalNumber,
  durationActivity: optionalNumber,
  durationSleep: optionalNumber,
  sleepQuality: optionalNumber,
});

export const activityDockRecordSchema = z.object({
  ...versionable,
  ...comments,
  steps: optionalNumber,
  caloriesOut: optionalNumber,
  activityCalories: optionalNumber,
  floors: optionalNumber,
  distances: z
    .array(z.object({ activity: z.string().nullish(), distance: optionalNumber }).loose())
    .nullish(),
});

export type GlucoseRecord = z.output<typeof glucoseRecordSchema>;
export type InsulinRecord = z.output<typeof insulinRecordSchema>;
export type MealRecord = z.output<typeof mealRecordSchema>;
export type CardioRecord = z.output<typeof cardioRecordSchema>;
export type ScaleRecord = z.output<typeof scaleRecordSchema>;
export type ThermoRecord = z.output<typeof thermoRecordSchema>;
export type TrackerActivityRecord = z.output<typeof trackerActivityRecordSchema>;
export type TrackerStatsRecord = z.output<typeof trackerStatsRecordSchema>;
export type ActivityDockRecord = z.output<typeof activityDockRecordSchema>;

/** The record type of each module. */
export interface RecordOf {
  glucodockglucoses: GlucoseRecord;
  glucodockinsulins: InsulinRecord;
  glucodockmeals: MealRecord;
  cardiodocks: CardioRecord;
  targetscales: ScaleRecord;
  thermodocks: ThermoRecord;
  activitydocks: ActivityDockRecord;
  'tracker/activity': TrackerActivityRecord;
  'tracker/stats': TrackerStatsRecord;
}

export const RECORD_SCHEMAS: { [M in VitaDockDataModule]: z.ZodType<RecordOf[M]> } = {
  glucodockglucoses: glucoseRecordSchema,
  glucodockinsulins: insulinRecordSchema,
  glucodockmeals: mealRecordSchema,
  cardiodocks: cardioRecordSchema,
  targetscales: scaleRecordSchema,
  thermodocks: thermoRecordSchema,
  activitydocks: activityDockRecordSchema,
  'tracker/activity': trackerActivityRecordSchema,
  'tracker/stats': trackerStatsRecordSchema,
};

/** What every record has, whatever its module. */
export type AnyRecord = RecordOf[VitaDockDataModule];
