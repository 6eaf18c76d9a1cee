import {
  readingToJson,
  unitLabel,
  valueIn,
  type GlucoseReading,
  type GlucoseUnit,
} from '../../src/model/reading';
import type { SensorStatus } from '../../src/model/sensor';
import type { NodeMessage } from './types';

/** Whose reading it is, as far as the message needs: their sensor, when the cloud reports one. */
export interface ReadingOwner {
  sensorStatus(now?: number): SensorStatus | undefined;
}

/**
 * One reading onto a message: the value in the account's unit, the whole reading, the subject, and
 * `msg.sensor` ({serial, activated, ends, daysLeft, warmingUp}) when the cloud reports the person's sensor.
 */
export function putReading(
  msg: NodeMessage,
  reading: GlucoseReading,
  unit: GlucoseUnit,
  owner?: ReadingOwner,
): NodeMessage {
  msg.payload = valueIn(reading, unit);
  msg.reading = readingToJson(reading);
  msg.unit = unitLabel(unit);
  msg.topic = reading.subject;
  putSensor(msg, owner);
  return msg;
}

/** `msg.sensor` from the person's state (left out when the cloud reports no sensor). */
export function putSensor(msg: NodeMessage, owner: ReadingOwner | undefined): void {
  const sensor = owner?.sensorStatus();
  if (sensor) msg.sensor = sensor;
  else delete msg.sensor;
}

/** A history onto a message: the readings (oldest first) as the payload. */
export function putHistory(
  msg: NodeMessage,
  readings: GlucoseReading[],
  unit: GlucoseUnit,
  subject: string | undefined,
): NodeMessage {
  msg.payload = readings.map(readingToJson);
  msg.unit = unitLabel(unit);
  msg.topic = readings[readings.length - 1]?.subject ?? subject ?? '';
  return msg;
}

/** A positive whole number from a message or node property, else the fallback. */
export function positiveInt(value: unknown, fallback: number): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) && number >= 1 ? Math.floor(number) : fallback;
}

/** A non-empty trimmed string, else undefined. */
export function optionalText(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
