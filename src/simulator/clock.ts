/** The simulator's notion of now. Tests with sinon fake timers use the default (it follows Date.now). */
export interface SimClock {
  now(): number;
}

export const systemClock: SimClock = { now: () => Date.now() };

/**
 * A clock that runs `factor` times faster than real time from `origin`, for demos and benchmarks
 * that want a day of readings in minutes.
 */
export function compressedClock(factor: number, origin = Date.now()): SimClock {
  const startedAt = Date.now();
  return { now: () => origin + (Date.now() - startedAt) * factor };
}
