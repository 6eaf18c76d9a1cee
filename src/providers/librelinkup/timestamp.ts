import { CgmError } from '../../model/errors';

// `FactoryTimestamp` is UTC written the en-US way: `M/D/YYYY h:mm:ss AM|PM`, month, day and hour not
// padded, 12-hour clock where `12:xx AM` is just after midnight. Parsed by hand: `new Date(string)`
// would read it in the host's time zone.
const US_FORMAT = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2})\s*([AaPp][Mm])$/;

// Newer answers may carry ISO 8601; without a zone it is UTC, like FactoryTimestamp.
const ISO_FORMAT =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3})\d*)?(Z|[+-]\d{2}:?\d{2})?$/;

/** The UTC instant of a LibreLinkUp timestamp, or `undefined` when it is not one. */
export function parseFactoryTimestamp(text: string): Date | undefined {
  const trimmed = text.trim();
  const us = US_FORMAT.exec(trimmed);
  if (us) {
    const [, month, day, year, hour12, minute, second, meridiem] = us.map(String);
    const h = Number(hour12);
    if (h < 1 || h > 12) return undefined;
    const hour = (h % 12) + ((meridiem ?? '').toUpperCase() === 'PM' ? 12 : 0);
    return utc(Number(year), Number(month), Number(day), hour, Number(minute), Number(second), 0);
  }
  const iso = ISO_FORMAT.exec(trimmed);
  if (iso) {
    const [, year, month, day, hour, minute, second, millis, zone] = iso;
    const date = utc(
      Number(year),
      Number(month),
      Number(day),
      Number(hour),
      Number(minute),
      Number(second),
      Number((millis ?? '0').padEnd(3, '0')),
    );
    if (!date || !zone || zone === 'Z') return date;
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
    return new Date(date.getTime() - sign * offsetMinutes * 60_000);
  }
  return undefined;
}

/** Like `parseFactoryTimestamp`, but a bad timestamp is a PROTOCOL error naming where it was. */
export function requireFactoryTimestamp(text: string, what: string): Date {
  const date = parseFactoryTimestamp(text);
  if (!date) throw new CgmError('PROTOCOL', `${what}: unreadable FactoryTimestamp "${text.slice(0, 40)}"`);
  return date;
}

function utc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
): Date | undefined {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
  // Date.UTC rolls 2/30 over into March; a real timestamp never needs that.
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) return undefined;
  return date;
}
