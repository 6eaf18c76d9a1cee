import type { DexcomRegion } from '../../config';
import { field } from '../../model/fields';
import type { Redactor } from '../../http/redact';
import { genericHttpError, type HttpResponse } from '../../http/transport';
import { CgmError } from '../../model/errors';
import { DEXCOM_REGION_INFO, LOCKOUT_MS } from './constants';
import { errorBodySchema } from './schemas';

export interface DexcomErrorContext {
  /** The endpoint asked, for the message. */
  what: string;
  /** Login calls: every credential-ish code means the credentials, and nothing is retried. */
  login: boolean;
  region: DexcomRegion;
  /** A custom server was configured (a 404 then means its URL is wrong). */
  server?: string;
  redactor: Redactor;
}

const ANY_UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const SESSION_CODES = new Set(['SessionNotValid', 'SessionIdNotFound']);
const RECEIVER_CODES = new Set(['MonitoredReceiverNotAssigned', 'MonitoredReceiverSerialNumberDoesNotMatch']);

/** The vendor codes hosts and the publisher switch on (kept in `vendorCode`). */
export const DEXCOM_CODES = {
  monitoringSessionNotActive: 'MonitoringSessionNotActive',
  duplicateEgv: 'DuplicateEgvPosted',
} as const;

/**
 * What to check after a refused login. With a custom server the region may never have been chosen (it
 * then only picks Dexcom's application id), so the hint lists the regions rather than naming one.
 */
export function authHint(region: DexcomRegion, server?: string): string {
  const regions = 'us = United States, ous = everywhere else, jp = Japan';
  const which =
    server === undefined
      ? `"${region}" is for accounts from ${DEXCOM_REGION_INFO[region].label} (${regions})`
      : `${regions}; with a custom ${field('server')} the region still picks Dexcom's application`;
  return (
    `check the ${field('username')} and ${field('password')}, and the ${field('region')}: ${which}; ` +
    `or log in with the ${field('accountId')}`
  );
}

const LOCK_HINT =
  'Dexcom locked the account after too many failed logins: stop every app using it, ' +
  'fix the password, and wait at least 15 minutes.';

const RECEIVER_HINT =
  `register the ${field('serial')} (receiver or transmitter) with the official Dexcom app on this account ` +
  `(and check the ${field('region')}), or allow ${field('takeOverReceiver')}.`;

/**
 * The one place a Dexcom answer becomes a CgmError. Business errors are switched on `Code` (HTTP 500
 * is their normal status; SubCode is XML or JSON and never parsed); bodies without a code fall back
 * to the HTTP status (429 → RATE_LIMITED, 5xx/HTML/empty → SERVER). The vendor's message is
 * redacted before it reaches the error.
 */
export function dexcomError(response: HttpResponse, context: DexcomErrorContext): CgmError {
  const parsed = errorBodySchema.safeParse(response.json);
  if (!parsed.success) return statusError(response, context);
  const code = parsed.data.Code;
  // Any UUID in a vendor message is an account or session id: masked even when never registered.
  const vendorMessage = context.redactor
    .clean((parsed.data.Message ?? '').slice(0, 240))
    .replace(ANY_UUID, '***')
    .trim();
  const message = `Dexcom ${context.what}: ${code}${vendorMessage ? ` (${vendorMessage})` : ''}`;
  const base = { vendorCode: code };

  if (SESSION_CODES.has(code)) return new CgmError('SESSION_EXPIRED', message, base);
  if (code.startsWith('SSO_AuthenticateMaxAttempts')) {
    return new CgmError('ACCOUNT_LOCKED', message, { ...base, retryAfterMs: LOCKOUT_MS, hint: LOCK_HINT });
  }
  const authFailure =
    code === 'AccountPasswordInvalid' ||
    code.startsWith('SSO_Authenticate') ||
    (code === 'SSO_InternalError' && /cannot authenticate by/i.test(parsed.data.Message ?? '')) ||
    (context.login && code === 'InvalidArgument');
  if (authFailure)
    return new CgmError('AUTH_INVALID', message, { ...base, hint: authHint(context.region, context.server) });
  if (RECEIVER_CODES.has(code)) return new CgmError('CONFIG', message, { ...base, hint: RECEIVER_HINT });
  if (code === DEXCOM_CODES.monitoringSessionNotActive) {
    return new CgmError('CONFIG', message, {
      ...base,
      hint: 'the remote monitoring session is not active: start it (upload does so by itself)',
    });
  }
  if (code === 'InvalidArgument') return new CgmError('CONFIG', message, base);
  // Already stored: the publisher counts it as success; sending it again would change nothing.
  if (code === DEXCOM_CODES.duplicateEgv)
    return new CgmError('SERVER', message, { ...base, retryable: false });
  // Unknown codes: a server-side problem. On a login it is never retried (it might be a refusal).
  return new CgmError('SERVER', message, { ...base, retryable: !context.login });
}

function statusError(response: HttpResponse, context: DexcomErrorContext): CgmError {
  const what = `Dexcom ${context.what}`;
  if (response.status === 401 && !context.login) {
    return new CgmError('SESSION_EXPIRED', `${what}: HTTP 401`);
  }
  if (response.status === 404 && context.server) {
    return new CgmError('CONFIG', `${what}: HTTP 404 from the configured server`, {
      hint: 'check the server URL: give the origin (and prefix) before /ShareWebServices',
    });
  }
  const generic = genericHttpError(response, what);
  if (response.status >= 400 && response.status < 500 && generic.code === 'SERVER') {
    // A 4xx without a code (e.g. 400 for a malformed request) will not get better by repeating it.
    // At a login (an HTML page from a proxy or firewall, a wrong server) it gets the login hint.
    return new CgmError('SERVER', generic.message, {
      retryable: false,
      ...(context.login ? { hint: authHint(context.region, context.server) } : {}),
    });
  }
  if (context.login && generic.code === 'SERVER') {
    return new CgmError('SERVER', generic.message, {
      retryable: generic.retryable,
      hint: 'Dexcom Share did not answer the login properly; it is tried again later',
    });
  }
  return generic;
}
