/**
 * A person's current sensor as a cloud reports it (LibreLinkUp's connection `sensor`: `sn`, `a`, `w`,
 * `pt`; reference/librelinkup.md §5.7), and what hosts show of it.
 */
export interface SensorInfo {
  /** The serial (`sn`), usually 10 characters. */
  serial: string;
  /** When it was started (`a`, epoch seconds in the answer). */
  activated: Date;
  /** Minutes after the start before it gives readings (`w`, 60 for every Libre sensor seen). */
  warmupMinutes: number;
  /** The vendor's product type (`pt`); its meaning is not settled (4 in every capture, a Libre 3). */
  productType?: number;
}

/** What hosts show: the state JSON's `sensor`, the Node-RED message's `sensor`, `read --json`. */
export interface SensorStatus {
  serial: string;
  /** ISO instant (UTC) of the start. */
  activated: string;
  /** ISO instant (UTC) of the expected end: the start plus the sensor's life. */
  ends: string;
  /** Days until the expected end, one decimal, never below 0. */
  daysLeft: number;
  /** Within the warm-up after the start (no readings yet). */
  warmingUp: boolean;
}

/**
 * The life of a Libre 2 or 3 sensor. The Plus sensors last 15 days, but the API does not say which
 * kind a sensor is, so an account sets `sensorDays` for them.
 */
export const DEFAULT_SENSOR_DAYS = 14;
/** Every Libre sensor seen warms up for 60 minutes. */
export const DEFAULT_WARMUP_MINUTES = 60;

const DAY_MS = 24 * 3600_000;

/** The sensor as hosts show it at `now` (epoch ms), for a life of `days`. */
export function sensorStatus(info: SensorInfo, days: number, now: number): SensorStatus {
  const activated = info.activated.getTime();
  const ends = activated + days * DAY_MS;
  const left = Math.max(0, ends - now) / DAY_MS;
  return {
    serial: info.serial,
    activated: info.activated.toISOString(),
    ends: new Date(ends).toISOString(),
    daysLeft: Math.floor(left * 10) / 10,
    warmingUp: now >= activated && now < activated + info.warmupMinutes * 60_000,
  };
}

/** Whether two reports are of the same sensor start (a new sensor, or a corrected start, differs). */
export function sameSensor(a: SensorInfo | undefined, b: SensorInfo | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.serial === b.serial &&
    a.activated.getTime() === b.activated.getTime() &&
    a.warmupMinutes === b.warmupMinutes
  );
}
