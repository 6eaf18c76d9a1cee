// Shared subjects and readings for the MQTT tests.
import sinon from 'sinon';
import type { Logger } from '../../src/model/logger';
import { makeReading, type GlucoseReading } from '../../src/model/reading';
import type { Trend } from '../../src/model/trend';
import type { SubjectDescriptor } from '../../src/mqtt/subject';

export const ANNA: SubjectDescriptor = {
  key: 'anna',
  name: 'Anna',
  provider: 'dexcom',
  units: 'mgdl',
  thresholds: { urgentLow: 55, low: 70, high: 180 },
  staleMinutes: 15,
};

export const BOB: SubjectDescriptor = {
  key: 'bob',
  name: 'Bob',
  provider: 'librelinkup',
  units: 'mmol',
  thresholds: { urgentLow: 54, low: 72, high: 198 },
  staleMinutes: 10,
};

export const CARLA: SubjectDescriptor = {
  key: 'carla',
  name: 'Carla',
  provider: 'vitadock',
  units: 'mgdl',
  thresholds: { urgentLow: 55, low: 70, high: 180 },
  staleMinutes: 60,
  measurementKinds: ['weight', 'bloodPressure', 'temperature'],
};

export const T0 = Date.UTC(2026, 2, 14, 8, 0, 0);

export function reading(
  subject: string,
  minute: number,
  mgdl: number,
  trend: Trend = 'flat',
  limit?: 'low' | 'high',
): GlucoseReading {
  return makeReading({
    provider: 'dexcom',
    subject,
    time: new Date(T0 + minute * 60_000),
    mgdl,
    trend,
    ...(limit ? { limit } : {}),
  });
}

export interface SpyLogger extends Logger {
  lines(): string[];
  debug: sinon.SinonSpy<[string], void>;
  info: sinon.SinonSpy<[string], void>;
  warn: sinon.SinonSpy<[string], void>;
  error: sinon.SinonSpy<[string], void>;
}

export function spyLogger(): SpyLogger {
  const logger = {
    debug: sinon.spy((_m: string) => undefined),
    info: sinon.spy((_m: string) => undefined),
    warn: sinon.spy((_m: string) => undefined),
    error: sinon.spy((_m: string) => undefined),
    lines: () =>
      [logger.debug, logger.info, logger.warn, logger.error].flatMap((spy) => spy.args.map((a) => a[0])),
  };
  return logger;
}
