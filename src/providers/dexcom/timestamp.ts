/** A Dexcom `Date(ms±hhmm)` value: the instant and, for information only, the uploader's UTC offset. */
export interface DexcomTimestamp {
  /** Epoch milliseconds, already UTC. */
  ms: number;
  /** The `±hhmm` suffix in minutes east of UTC, when present. It is NOT applied to `ms`. */
  offsetMinutes?: number;
}

// `Date(1745081013817-0400)`, `/Date(1426769941000)/`: slashes optional, offset optional.
const DEXCOM_DATE = /^\/?Date\((-?\d+)([+-])?(\d{2})?(\d{2})?\)\/?$/;

/**
 * Parses a Dexcom timestamp. The milliseconds are the UTC instant; adding the offset would shift
 * every reading by the uploader's time zone (a bug one public client shipped). `undefined` when the
 * text is not a Dexcom date.
 */
export function parseDexcomDate(text: string): DexcomTimestamp | undefined {
  const match = DEXCOM_DATE.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]);
  if (!Number.isSafeInteger(ms)) return undefined;
  const [, , sign, hh, mm] = match;
  if (sign === undefined) return hh === undefined ? { ms } : undefined;
  if (hh === undefined || mm === undefined) return undefined;
  const minutes = Number(hh) * 60 + Number(mm);
  return { ms, offsetMinutes: sign === '-' ? -minutes : minutes };
}

/** The form uploads send: `/Date(ms)/`, milliseconds floored to the second. */
export function formatDexcomDate(ms: number): string {
  return `/Date(${Math.floor(ms / 1000) * 1000})/`;
}

/** `Date(ms±hhmm)` with an offset in minutes, as the read endpoint writes DT. */
export function formatDexcomDateWithOffset(ms: number, offsetMinutes: number, slashes = false): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  const inner = `Date(${ms}${sign}${hhmm})`;
  return slashes ? `/${inner}/` : inner;
}
