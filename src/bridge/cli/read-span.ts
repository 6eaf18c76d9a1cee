// How far back `glucobridge read` looks: `--minutes N` or `--since YYYY-MM-DD` (or an ISO instant).
import { UsageError } from './io';

const MINUTE = 60_000;
/** The CGM clouds keep a day at most (Dexcom 24 h, LibreLinkUp's graph 12 h, Nightscout as asked). */
export const CGM_MAX_MINUTES = 1440;
/** VitaDock keeps everything measured: scales and cuffs used weekly for years. Fifty years is no limit. */
export const VITADOCK_MAX_MINUTES = 50 * 366 * 24 * 60;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The span as minutes back from `now`, or undefined for "the latest". `--since` takes a day (UTC
 * midnight) or an ISO instant; a VitaDock account has no upper limit, the CGM clouds a day.
 */
export function readSpan(
  values: { minutes?: string | undefined; since?: string | undefined },
  vitadock: boolean,
  usage: string,
  now = Date.now(),
): number | undefined {
  if (values.minutes !== undefined && values.since !== undefined) {
    throw new UsageError(`give --minutes or --since, not both\n${usage}`);
  }
  const max = vitadock ? VITADOCK_MAX_MINUTES : CGM_MAX_MINUTES;
  if (values.minutes !== undefined) {
    const minutes = Number(values.minutes);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > max) {
      const range = vitadock ? 'a whole number of at least 1' : `a whole number from 1 to ${max}`;
      throw new UsageError(`--minutes must be ${range}\n${usage}`);
    }
    return minutes;
  }
  if (values.since === undefined) return undefined;
  const since = parseSince(values.since);
  if (since === undefined) {
    throw new UsageError(`--since must be a day (2024-05-31) or an instant (2024-05-31T08:00:00Z)\n${usage}`);
  }
  if (since >= now) throw new UsageError(`--since must be in the past\n${usage}`);
  const minutes = Math.ceil((now - since) / MINUTE);
  if (minutes > max) {
    throw new UsageError(
      vitadock
        ? `--since is too far back\n${usage}`
        : `--since reaches back further than the cloud keeps readings (${CGM_MAX_MINUTES / 60} h)\n${usage}`,
    );
  }
  return minutes;
}

/** A day as its UTC midnight, or an ISO instant with a zone; anything else is undefined. */
function parseSince(text: string): number | undefined {
  const trimmed = text.trim();
  const day = DATE.exec(trimmed);
  if (day) {
    const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const ms = Date.UTC(year, month - 1, date);
    const check = new Date(ms);
    // 2024-02-31 is not a day (Date.UTC would roll it into March).
    if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== date) {
      return undefined;
    }
    return ms;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(trimmed))
    return undefined;
  const ms = Date.parse(trimmed);
  return Number.isFinite(ms) ? ms : undefined;
}
