import type { HttpResponse } from '../../http/transport';
import { CgmError } from '../../model/errors';
import type { Redactor } from '../../http/redact';
import { versionTooOldSchema } from './schemas';

// The `version` header the service checks (reference/librelinkup.md §2.1): Abbott raised the minimum
// three times since 2023, and since then a data call with an older version gets HTTP 403 with
// `{"status":920,"data":{"minimumVersion":"4.16.0"}}`. GDH adopts the version from that answer; so do we.

/** The key of the adopted app version in the state store's `versions`. */
export const VERSION_KEY = 'librelinkup';

/** An app version as the service writes it: two to four dot-separated whole numbers (`4.16.0`). */
const APP_VERSION = /^\d{1,4}(?:\.\d{1,4}){1,3}$/;

export const NEWER_APP_HINT =
  'the LibreLinkUp cloud now needs a newer app than this GlucoBridge release speaks: update GlucoBridge ' +
  '(or set version to the version of the current LibreLinkUp app)';

/** The parts of a version, or undefined when it is not one. */
export function parseAppVersion(text: unknown): number[] | undefined {
  if (typeof text !== 'string' || !APP_VERSION.test(text.trim())) return undefined;
  return text.trim().split('.').map(Number);
}

/** Negative when `a` is older than `b`; a text that is no version counts as the oldest. */
export function compareAppVersions(a: string, b: string): number {
  const left = parseAppVersion(a) ?? [];
  const right = parseAppVersion(b) ?? [];
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * The version to send at start: the configured one (or the default) is a floor; a version adopted in
 * an earlier run replaces it only when it is a valid, higher one.
 */
export function startingVersion(floor: string, adopted: string | undefined): string {
  if (adopted === undefined || !parseAppVersion(adopted)) return floor;
  return compareAppVersions(adopted, floor) > 0 ? adopted.trim() : floor;
}

/** What to do with a `status: 920` answer: send the call again with `version`, or fail with `error`. */
export type VersionVerdict = { adopt: string } | { error: CgmError };

/**
 * Judges a 920 answer to a call sent with `sent`. A valid `minimumVersion` above it is adopted (the
 * caller repeats the call once); anything else is refused: a version not above the one sent (the
 * service refuses what it asks for: a newer app is needed), one that is unreadable, or a second 920 in
 * the same call after adopting (`adoptedInThisCall`). Never lower, never a loop.
 */
export function judgeVersionAnswer(
  response: HttpResponse,
  sent: string,
  adoptedInThisCall: boolean,
  what: string,
  redactor: Redactor,
): VersionVerdict {
  const parsed = versionTooOldSchema.safeParse(response.json);
  const asked = parsed.success ? parsed.data.data?.minimumVersion : undefined;
  const askedText = typeof asked === 'string' ? redactor.clean(asked).slice(0, 40) : undefined;
  const detail: Record<string, string> = askedText === undefined ? {} : { minimumVersion: askedText };
  if (adoptedInThisCall) {
    return {
      error: new CgmError(
        'CONFIG',
        `${what}: the service still refuses app version ${sent} after adopting it`,
        {
          vendorCode: '920',
          detail,
          hint: NEWER_APP_HINT,
        },
      ),
    };
  }
  if (asked === undefined || !parseAppVersion(asked)) {
    return {
      error: new CgmError(
        'CONFIG',
        `${what}: the service refuses app version ${sent} and names no usable minimum` +
          (askedText ? ` ("${askedText}")` : ''),
        { vendorCode: '920', detail, hint: NEWER_APP_HINT },
      ),
    };
  }
  if (compareAppVersions(asked, sent) <= 0) {
    return {
      error: new CgmError(
        'CONFIG',
        `${what}: the service refuses app version ${sent} although it asks for ${asked.trim()}`,
        { vendorCode: '920', detail, hint: NEWER_APP_HINT },
      ),
    };
  }
  return { adopt: asked.trim() };
}
