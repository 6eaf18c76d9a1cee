import type { Redactor } from '../../http/redact';
import { field } from '../../model/fields';
import { genericHttpError, looksLikeHtml, retryAfter, type HttpResponse } from '../../http/transport';
import { CgmError } from '../../model/errors';
import { BodyStatus } from './constants';
import { llu5ErrorSchema, lockoutSchema, stepResponseSchema, versionTooOldSchema } from './schemas';

/** Where an answer came from: the login and its steps judge a `status: 2` differently from data calls. */
export interface AnswerContext {
  /** Names the call in messages, e.g. `LibreLinkUp graph`. */
  what: string;
  kind: 'login' | 'data';
  redactor: Redactor;
  /** The `version` header that was sent, named when the service calls it too old. */
  version: string;
  /** The call is about a patient the account is known to follow. */
  patientKnown?: boolean;
}

/**
 * The least wait after a login the service blocked (HTTP 429/430, a firewall page, body status 429
 * without a lock time): longer than its own lock (300 s after three failures in 60 s), so one blocked
 * login is never followed by another within minutes. Peers' users were banned for repeating these.
 */
export const BLOCKED_LOGIN_WAIT_MS = 5 * 60_000;

const STEP_NAMES: Record<string, string> = {
  tou: 'the new terms of use',
  pp: 'the new privacy policy',
  verifyEmail: "the account's e-mail address verification",
};

/**
 * The one place LibreLinkUp answers become errors. Returns `undefined` for an answer worth reading
 * (body `status: 0`, including a region redirect, which the client follows itself).
 * The service speaks mostly through the body's `status`, so that is judged before the HTTP status.
 */
export function libreError(response: HttpResponse, context: AnswerContext): CgmError | undefined {
  const { what } = context;
  const body = asRecord(response.json);
  const bodyStatus = typeof body?.status === 'number' ? body.status : undefined;
  const vendorMessage = clean(context.redactor, errorMessage(body));
  const ok = response.status >= 200 && response.status < 300;

  if (bodyStatus !== undefined && bodyStatus !== BodyStatus.OK) {
    return fromBodyStatus(bodyStatus, response, context, vendorMessage);
  }
  if (context.kind === 'login') {
    const blocked = blockedLogin(response, what);
    if (blocked) return blocked;
  }
  if (response.status === 401) {
    return new CgmError(
      'SESSION_EXPIRED',
      `${what}: the token was refused (${vendorMessage || 'HTTP 401'})`,
      {
        vendorCode: 'HTTP401',
      },
    );
  }
  if (response.status === 400 && body?.message === 'RequiredHeaderMissing') {
    return new CgmError('PROTOCOL', `${what}: the service wants a header this client did not send`, {
      vendorCode: 'RequiredHeaderMissing',
      retryable: false,
      hint: 'the LibreLinkUp service changed its rules; update GlucoBridge or try a newer version setting',
    });
  }
  const llu5 = llu5ErrorSchema.safeParse(response.json);
  if (!ok && llu5.success) {
    const reason = clean(context.redactor, llu5.data.errors[0]?.error ?? `code ${llu5.data.code}`);
    return new CgmError('CONFIG', `${what}: the server answered with a LibreLinkUp 5 error: ${reason}`, {
      vendorCode: `llu5:${llu5.data.code}`,
      hint: 'this server speaks the new encrypted LibreLinkUp 5 API, which GlucoBridge cannot read; check server and region',
    });
  }
  if (response.status === 403 && looksLikeHtml(response.text)) {
    return new CgmError('RATE_LIMITED', `${what}: blocked by the service's firewall (HTTP 403 page)`, {
      hint: 'too many requests from this address or account: poll less often and stop other apps using it',
    });
  }
  if (!ok) return genericHttpError(response, what);
  if (response.json === undefined) {
    const kind = looksLikeHtml(response.text) ? 'an HTML page' : 'a body that is not JSON';
    return new CgmError('PROTOCOL', `${what}: HTTP ${response.status} with ${kind}`);
  }
  return undefined;
}

function fromBodyStatus(
  status: number,
  response: HttpResponse,
  context: AnswerContext,
  vendorMessage: string,
): CgmError {
  const { what } = context;
  const vendorCode = vendorMessage ? `${status}:${vendorMessage}` : String(status);
  switch (status) {
    case BodyStatus.BAD_CREDENTIALS:
      if (context.kind === 'login') {
        return new CgmError('AUTH_INVALID', `${what}: e-mail or password rejected`, {
          vendorCode,
          hint:
            'use the LibreLinkUp (follower) account, not the patient’s LibreLink one; check the e-mail and password ' +
            '(Russian and Chinese accounts also need region ru or cn)',
        });
      }
      if (vendorMessage === 'notAuthenticated') {
        return new CgmError('SESSION_EXPIRED', `${what}: the session is no longer valid`, { vendorCode });
      }
      return new CgmError(
        'SERVER',
        `${what}: the service could not answer (${vendorMessage || 'status 2'})`,
        {
          vendorCode,
        },
      );
    case BodyStatus.STEP_REQUIRED:
      return stepError(response, context, vendorMessage, vendorCode);
    case BodyStatus.LOCKED: {
      const lock = lockoutSchema.safeParse(response.json);
      const lockout = lock.success ? lock.data.data.data?.lockout : undefined;
      if (lockout !== undefined) {
        const detail = lock.success ? lock.data.data.data : undefined;
        return new CgmError(
          'ACCOUNT_LOCKED',
          `${what}: logins are locked for ${lockout} s after failed attempts`,
          {
            vendorCode: '429',
            retryAfterMs: lockout * 1000,
            detail: {
              lockoutSeconds: lockout,
              ...(detail?.failures === undefined ? {} : { failures: detail.failures }),
              ...(detail?.interval === undefined ? {} : { intervalSeconds: detail.interval }),
            },
            hint: 'wait for the lock to pass and check the password; stop other apps logging in to this account',
          },
        );
      }
      if (context.kind === 'login')
        return blockedLoginError(response, what, 'too many requests (status 429)');
      const retryAfterMs = retryAfter(response.headers['retry-after']);
      return new CgmError('RATE_LIMITED', `${what}: too many requests`, {
        vendorCode: '429',
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    case BodyStatus.MAINTENANCE:
      return new CgmError(
        'SERVER',
        `${what}: the service is under maintenance or does not serve this account`,
        {
          vendorCode: '911',
          hint: 'try again later; accounts in Russia or China need region ru or cn',
        },
      );
    case BodyStatus.VERSION_TOO_OLD: {
      const parsed = versionTooOldSchema.safeParse(response.json);
      const minimum = parsed.success ? parsed.data.data?.minimumVersion : undefined;
      return new CgmError(
        'CONFIG',
        `${what}: the service refuses app version ${context.version}` +
          (minimum ? ` (minimum ${minimum})` : ' as too old'),
        {
          vendorCode: '920',
          detail: minimum ? { minimumVersion: minimum } : {},
          hint: `version too old: set version to ${minimum ?? 'a newer app version'} or newer`,
        },
      );
    }
    default:
      return new CgmError('SERVER', `${what}: the service answered status ${status}`, { vendorCode });
  }
}

/** A login the service blocked without a stated lock: HTTP 429/430 or a firewall's HTML 403. */
function blockedLogin(response: HttpResponse, what: string): CgmError | undefined {
  if (response.status === 429 || response.status === 430) {
    return blockedLoginError(response, what, `HTTP ${response.status}`);
  }
  if (response.status === 403 && looksLikeHtml(response.text)) {
    return blockedLoginError(
      response,
      what,
      'a firewall page (HTTP 403): this address or account is blocked',
    );
  }
  return undefined;
}

/**
 * `RATE_LIMITED` that the login policy waits out: at least `BLOCKED_LOGIN_WAIT_MS`, longer when the
 * service's Retry-After says so. The message says why; the hint what the person can do.
 */
function blockedLoginError(response: HttpResponse, what: string, why: string): CgmError {
  const stated = retryAfter(response.headers['retry-after']);
  return new CgmError('RATE_LIMITED', `${what}: LibreLinkUp refused the login for now (${why})`, {
    vendorCode: response.status === 200 ? '429' : `HTTP${response.status}`,
    retryAfterMs: Math.max(stated ?? 0, BLOCKED_LOGIN_WAIT_MS),
    detail: { blocked: true },
    hint:
      'LibreLinkUp blocks logins that come too often: stop other apps and integrations that log in with ' +
      'this account (one follower account per integration); GlucoBridge sends the next login only after ' +
      'the wait. If it lasts, sign in to the LibreLinkUp app: new terms may be waiting',
  });
}

function stepError(
  response: HttpResponse,
  context: AnswerContext,
  vendorMessage: string,
  vendorCode: string,
): CgmError {
  const step = stepResponseSchema.safeParse(response.json);
  if (step.success) {
    const type = step.data.data.step.type;
    const named = STEP_NAMES[type] ?? `the "${clean(context.redactor, type)}" step`;
    const hint =
      type === 'verifyEmail'
        ? 'open the LibreLinkUp app with this account and verify its e-mail address, then try again'
        : `sign in to the LibreLinkUp app with this account and accept ${named}, or switch on ${field('acceptTerms')}`;
    return new CgmError('TERMS_REQUIRED', `${context.what}: the account must first complete ${named}`, {
      vendorCode: `4:${type}`,
      detail: { step: type },
      hint,
    });
  }
  if (context.kind === 'data' && vendorMessage) {
    if (context.patientKnown) {
      return new CgmError('NO_DATA', `${context.what}: the service has no data for this patient now`, {
        vendorCode,
        hint: "the patient's phone may not have uploaded; it usually recovers by itself",
      });
    }
    // couldNotLoadPatient (and MissingCachedUser): an id this account does not follow, or a wrong region.
    return new CgmError('NOT_FOUND', `${context.what}: the service could not load this patient`, {
      vendorCode,
      hint: `check the ${field('patient')}; the account may also belong to another ${field('region')}`,
    });
  }
  return new CgmError('PROTOCOL', `${context.what}: status 4 without a step the client knows`, {
    vendorCode,
  });
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** `error.message` or a top-level `message`, whichever the answer has. */
function errorMessage(body: Record<string, unknown> | undefined): string {
  const nested = asRecord(body?.error)?.message;
  if (typeof nested === 'string') return nested;
  return typeof body?.message === 'string' ? body.message : '';
}

function clean(redactor: Redactor, text: string): string {
  return redactor.clean(text).slice(0, 120);
}
