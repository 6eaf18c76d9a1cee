// Realistic VitaDock records for every module: glucose from the shared trace, the other devices on
// daily schedules, all deterministic per seed so every request and test agrees on them.
import { createHash } from 'node:crypto';
import type { VitaDockDataModule } from '../providers/vitadock/constants';
import { gridTimes, tracePoint } from './trace';

/** A stored record: the wire object as the server would send it. */
export type SimRecord = Record<string, unknown> & {
  id: string;
  active: boolean;
  version: number;
  measurementDate: number;
  updatedDate: number;
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function unit(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) / 2 ** 32;
}

/** A value in [min, max] fixed by the seed, rounded to `decimals`. */
function pick(seed: string, min: number, max: number, decimals = 0): number {
  const factor = 10 ** decimals;
  return Math.round((min + unit(seed) * (max - min)) * factor) / factor;
}

/** A GUID-shaped id that is the same for the same module and instant. */
function recordId(seed: string): string {
  const hex = createHash('sha1').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const common = (seed: string) => ({
  activityStatus: pick(`${seed}:activity`, 0, 3),
  mood: pick(`${seed}:mood`, 0, 2),
  note: '',
});

interface Schedule {
  /** Times of day (hours, UTC) the device is used, or a fixed step for the glucose meter. */
  hours?: number[];
  stepMs?: number;
  /** Used every this many days (default 1), at `hours`. */
  everyDays?: number;
  build: (seed: string, time: number) => Record<string, unknown>;
}

function schedules(seed: string, glucoseStepMs: number): Record<VitaDockDataModule, Schedule> {
  return {
    glucodockglucoses: {
      stepMs: glucoseStepMs,
      build: (s, t) => ({
        bloodGlucose: tracePoint(seed, t).mgdl,
        bloodGlucoseTargetMin: 80,
        bloodGlucoseTargetMax: 140,
        mealStatus: pick(`${s}:meal`, 0, 1),
        ...common(s),
      }),
    },
    glucodockinsulins: {
      hours: [7.25, 12.25, 18.75, 22],
      build: (s, t) => {
        const basal = new Date(t).getUTCHours() === 22;
        return {
          insulin: basal ? 18 : pick(`${s}:iu`, 3, 10),
          insulinTypeIndex: basal ? 1 : 0,
          insulinTypeName: 'rapid-acting',
          insulinTypeName2: 'long-acting',
          insulinTypeName3: null,
        };
      },
    },
    glucodockmeals: {
      hours: [7.5, 12.5, 19],
      build: (s) => ({ carbohydrates: pick(`${s}:carbs`, 30, 90), note: null }),
    },
    cardiodocks: {
      hours: [8, 20],
      build: (s) => ({
        systole: pick(`${s}:sys`, 112, 142),
        diastole: pick(`${s}:dia`, 70, 92),
        pulse: pick(`${s}:pulse`, 58, 84),
        systoleTargetMin: 0,
        systoleTargetMax: 300,
        diastoleTargetMin: 0,
        diastoleTargetMax: 300,
        pulseTargetMin: 40,
        pulseTargetMax: 255,
        type: 0,
        arrhythmic: unit(`${s}:arr`) < 0.05 ? 1 : 0,
        ...common(s),
      }),
    },
    targetscales: {
      hours: [7.1],
      build: (s) => ({
        bodyWeight: pick(`${s}:kg`, 71, 73.5, 1),
        bodyFat: pick(`${s}:fat`, 18, 21, 1),
        bmi: pick(`${s}:bmi`, 22.6, 23.4, 1),
        muscleMass: null,
        boneMass: null,
        bodyWater: pick(`${s}:water`, 54, 57, 1),
        kcal: pick(`${s}:kcal`, 1650, 1750),
        targetWeight: 70,
        athletic: 0,
        mealStatus: 0,
        ...common(s),
      }),
    },
    thermodocks: {
      hours: [9],
      build: (s) => ({
        bodyTemperature: pick(`${s}:c`, 36.4, 37.3, 1),
        bodyTemperatureTargetMin: 35.9,
        bodyTemperatureTargetMax: 37.8,
        ...common(s),
      }),
    },
    activitydocks: {
      hours: [23.9],
      build: (s) => {
        const steps = pick(`${s}:steps`, 4000, 12000);
        return {
          steps,
          caloriesOut: pick(`${s}:out`, 1900, 2600),
          activityCalories: pick(`${s}:act`, 300, 900),
          floors: pick(`${s}:floors`, 2, 15),
          distances: [{ activity: 'total', distance: Math.round(steps * 0.7) / 1000 }],
          ...common(s),
        };
      },
    },
    'tracker/activity': {
      hours: [23.8],
      build: (s) => ({
        trackerActivityEntries: [8, 12, 17].map((hour) => {
          const steps = pick(`${s}:${hour}:steps`, 800, 3000);
          return {
            startTime: hour * 60,
            duration: 45,
            steps,
            runningSteps: pick(`${s}:${hour}:run`, 0, 400),
            distance: Math.round(steps * 0.7) / 1000,
            calories: pick(`${s}:${hour}:kcal`, 40, 160),
          };
        }),
      }),
    },
    'tracker/stats': {
      hours: [23.95],
      build: (s) => {
        const steps = pick(`${s}:steps`, 4000, 12000);
        return {
          steps,
          runningSteps: pick(`${s}:run`, 0, 1500),
          distance: Math.round(steps * 0.7) / 1000,
          calories: pick(`${s}:kcal`, 1900, 2600),
          durationActivity: pick(`${s}:dur`, 30, 180),
          durationSleep: pick(`${s}:sleep`, 360, 520),
          sleepQuality: pick(`${s}:q`, 60, 95),
        };
      },
    },
  };
}

/** Instants of a schedule within (from, to]. */
function timesOf(schedule: Schedule, from: number, to: number): number[] {
  if (schedule.stepMs) return gridTimes(from, to, schedule.stepMs);
  const period = (schedule.everyDays ?? 1) * DAY;
  return (schedule.hours ?? []).flatMap((hour) => {
    const offset = Math.round(hour * HOUR);
    return gridTimes(from - offset, to - offset, period).map((t) => t + offset);
  });
}

/** What a simulated user measures: every module daily (the demo), or only some, less often. */
export interface UsagePattern {
  /** Only these modules have records (default all). */
  modules?: readonly VitaDockDataModule[];
  /** Each non-glucose device is used every this many days (default 1; 7 for weekly weigh-ins). */
  everyDays?: number;
}

/**
 * The records of one VitaDock user. Generation follows the clock: records appear as their
 * measurement time passes, like a meter that uploads at once.
 */
export class VitaDockDataStore {
  private readonly records = new Map<VitaDockDataModule, Map<string, SimRecord>>();
  private readonly schedules: Record<VitaDockDataModule, Schedule>;
  private generatedUntil: number;

  constructor(
    private readonly seed: string,
    now: number,
    historyDays: number,
    glucoseStepMs: number,
    pattern: UsagePattern = {},
  ) {
    const all = schedules(seed, glucoseStepMs);
    const modules = pattern.modules ?? (Object.keys(all) as VitaDockDataModule[]);
    this.schedules = Object.fromEntries(
      modules.map((module) => [module, { ...all[module], everyDays: pattern.everyDays ?? 1 }]),
    ) as Record<VitaDockDataModule, Schedule>;
    this.generatedUntil = now - historyDays * DAY;
  }

  /** Adds the records measured up to `now`. */
  advance(now: number): void {
    if (now <= this.generatedUntil) return;
    for (const [module, schedule] of Object.entries(this.schedules) as [VitaDockDataModule, Schedule][]) {
      for (const time of timesOf(schedule, this.generatedUntil, now)) {
        const s = `${this.seed}:${module}:${time}`;
        this.put(module, {
          ...schedule.build(s, time),
          moduleSerialId: '[Simulated Item]',
          id: recordId(s),
          active: true,
          version: 1,
          measurementDate: time,
          updatedDate: time,
        });
      }
    }
    this.generatedUntil = now;
  }

  all(module: VitaDockDataModule): SimRecord[] {
    return [...(this.records.get(module)?.values() ?? [])];
  }

  get(module: VitaDockDataModule, id: string): SimRecord | undefined {
    return this.records.get(module)?.get(id);
  }

  put(module: VitaDockDataModule, record: SimRecord): void {
    let byId = this.records.get(module);
    if (!byId) {
      byId = new Map();
      this.records.set(module, byId);
    }
    byId.set(record.id, record);
  }

  /** Stores a record a client sent (new id unless it names one), as the server does on POST. */
  store(module: VitaDockDataModule, fields: Record<string, unknown>, now: number): string {
    const existing = typeof fields.id === 'string' ? this.get(module, fields.id) : undefined;
    const id = existing?.id ?? recordId(`${this.seed}:${module}:stored:${now}:${Math.random()}`);
    const measured = postedDate(fields.measurementDate) ?? now;
    this.put(module, {
      ...existing,
      ...numericStrings(fields),
      id,
      active: true,
      version: (existing?.version ?? 0) + 1,
      measurementDate: measured,
      updatedDate: now,
    });
    return id;
  }

  /** Marks a record deleted: it stays visible to `/sync` as `active:false`. */
  remove(module: VitaDockDataModule, id: string, now: number): boolean {
    const record = this.get(module, id);
    if (!record || !record.active) return false;
    this.put(module, { ...record, active: false, version: record.version + 1, updatedDate: now });
    return true;
  }
}

/** POSTs may send enums as strings ("0"); the server stores numbers. */
function numericStrings(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] =
      typeof value === 'string' && key !== 'note' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return out;
}

/** A POSTed measurementDate: epoch ms, or the wiki's `MM/dd/yy hh:mm:ss AM` (read as UTC). */
function postedDate(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{2})\/(\d{2})\/(\d{2}) (\d{1,2}):(\d{2}):(\d{2}) ([AP]M)$/.exec(value.trim());
  if (!m) return undefined;
  const [, month, day, year, hour, minute, second, half] = m.map((part) => part ?? '');
  const h = (Number(hour) % 12) + (half === 'PM' ? 12 : 0);
  return Date.UTC(2000 + Number(year), Number(month) - 1, Number(day), h, Number(minute), Number(second));
}
