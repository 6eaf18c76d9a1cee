import { z } from 'zod';
import { DEFAULT_WARMUP_MINUTES, type SensorInfo } from '../../model/sensor';
import type { CloudTargets, SubjectDetails } from '../provider';
import { patientName } from './readings';
import type { Connection } from './schemas';

// What a connection says about a patient besides glucose (reference/librelinkup.md §4, §5.7): the
// sensor (`sn`, `a` in epoch seconds, `w` minutes, `pt`), the target range (`targetLow`/`targetHigh`,
// mg/dL) and the follower's alarm rules (`l`, `h`, `f` with `th` in mg/dL). All of it is optional and
// checked here on its own: a strange sensor object must never cost a reading.

const sensorSchema = z
  .object({
    sn: z.string().trim().min(1).max(64),
    a: z.number().int().positive(),
    w: z
      .number()
      .int()
      .min(0)
      .max(24 * 60)
      .optional(),
    pt: z.number().int().optional(),
  })
  .loose();

const activeSensorsSchema = z.array(z.object({ sensor: z.unknown().optional() }).loose());

/** An instant before this (2014, before any Libre 2) or more than a day ahead is no sensor start. */
const EARLIEST_START_MS = Date.UTC(2014, 0, 1);

function toSensor(value: unknown, now: number): SensorInfo | undefined {
  const parsed = sensorSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const activatedMs = parsed.data.a * 1000;
  if (activatedMs < EARLIEST_START_MS || activatedMs > now + 24 * 3600_000) return undefined;
  return {
    serial: parsed.data.sn,
    activated: new Date(activatedMs),
    warmupMinutes: parsed.data.w ?? DEFAULT_WARMUP_MINUTES,
    ...(parsed.data.pt === undefined ? {} : { productType: parsed.data.pt }),
  };
}

/**
 * The patient's current sensor: of the connection's and the graph's `activeSensors`, the one started
 * last (the two may disagree, and `activeSensors` may list old sensors).
 */
export function currentSensor(
  connectionSensor: unknown,
  activeSensors: unknown,
  now: number,
): SensorInfo | undefined {
  const candidates = [toSensor(connectionSensor, now)];
  const active = activeSensorsSchema.safeParse(activeSensors ?? []);
  if (active.success) for (const entry of active.data) candidates.push(toSensor(entry.sensor, now));
  return candidates
    .filter((s): s is SensorInfo => s !== undefined)
    .reduce<SensorInfo | undefined>(
      (best, s) => (!best || s.activated.getTime() > best.activated.getTime() ? s : best),
      undefined,
    );
}

const plausible = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value >= 40 && value <= 400
    ? Math.round(value)
    : undefined;

/**
 * The patient's limits: low and high from the target range, else from the follower's low and high
 * alarms (when switched on); urgent low from the fixed low alarm (`f`, 55 mg/dL in every capture).
 */
export function cloudTargets(connection: Connection): CloudTargets | undefined {
  const rules = connection.alarmRules ?? undefined;
  const alarm = (rule: { th?: number | undefined; on?: boolean | undefined } | undefined) =>
    rule && rule.on !== false ? plausible(rule.th) : undefined;
  const targets: CloudTargets = {};
  const low = plausible(connection.targetLow) ?? alarm(rules?.l);
  const high = plausible(connection.targetHigh) ?? alarm(rules?.h);
  const urgentLow = plausible(rules?.f?.th);
  if (urgentLow !== undefined) targets.urgentLow = urgentLow;
  if (low !== undefined) targets.low = low;
  if (high !== undefined) targets.high = high;
  return Object.keys(targets).length > 0 ? targets : undefined;
}

/** Everything a connection (and the graph's `activeSensors`) says about its patient. */
export function connectionDetails(
  connection: Connection,
  activeSensors: unknown,
  now: number,
): SubjectDetails {
  const details: SubjectDetails = { name: patientName(connection) };
  const sensor = currentSensor(connection.sensor, activeSensors, now);
  if (sensor) details.sensor = sensor;
  const targets = cloudTargets(connection);
  if (targets) details.targets = targets;
  return details;
}
