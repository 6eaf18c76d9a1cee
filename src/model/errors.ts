/** The stable error codes every host can switch on. */
export type CgmErrorCode =
  | 'AUTH_INVALID'
  | 'ACCOUNT_LOCKED'
  | 'TERMS_REQUIRED'
  | 'SESSION_EXPIRED'
  | 'RATE_LIMITED'
  | 'REGION_REDIRECT'
  | 'NOT_FOUND'
  | 'NO_DATA'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'SERVER'
  | 'PROTOCOL'
  | 'CONFIG';

/** Short texts for a Node-RED node status (≤ 20 characters) and the default retry behaviour. */
const CODE_FACTS: Record<CgmErrorCode, { status: string; retryable: boolean }> = {
  AUTH_INVALID: { status: 'wrong credentials', retryable: false },
  ACCOUNT_LOCKED: { status: 'account locked', retryable: false },
  TERMS_REQUIRED: { status: 'accept terms first', retryable: false },
  SESSION_EXPIRED: { status: 'session expired', retryable: true },
  RATE_LIMITED: { status: 'rate limited', retryable: true },
  REGION_REDIRECT: { status: 'wrong region', retryable: true },
  NOT_FOUND: { status: 'not found', retryable: false },
  NO_DATA: { status: 'no data', retryable: true },
  NETWORK: { status: 'network error', retryable: true },
  TIMEOUT: { status: 'timed out', retryable: true },
  SERVER: { status: 'server error', retryable: true },
  PROTOCOL: { status: 'unexpected answer', retryable: true },
  CONFIG: { status: 'check config', retryable: false },
};

export interface CgmErrorOptions {
  /** The provider's own error code (e.g. Dexcom `AccountPasswordInvalid`), kept for diagnosis. */
  vendorCode?: string;
  /** Overrides the code's default. */
  retryable?: boolean;
  /** How long to wait before the next attempt, when the server or the rules say so. */
  retryAfterMs?: number;
  /** A one-line suggestion for a person (which region to try, what to fix). */
  hint?: string;
  /** Extra facts for the code (e.g. the redirect region, the terms step). */
  detail?: Record<string, string | number | boolean>;
  cause?: unknown;
}

/** The one error family of GlucoBridge. Messages never carry a secret. */
export class CgmError extends Error {
  readonly code: CgmErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly vendorCode: string | undefined;
  readonly hint: string | undefined;
  readonly detail: Readonly<Record<string, string | number | boolean>>;

  constructor(code: CgmErrorCode, message: string, options: CgmErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CgmError';
    this.code = code;
    this.retryable = options.retryable ?? CODE_FACTS[code].retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.vendorCode = options.vendorCode;
    this.hint = options.hint;
    this.detail = options.detail ?? {};
  }

  /** A short text for a node status line (≤ 20 characters). */
  get status(): string {
    return CODE_FACTS[this.code].status;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      ...(this.vendorCode === undefined ? {} : { vendorCode: this.vendorCode }),
      ...(this.hint === undefined ? {} : { hint: this.hint }),
    };
  }
}

export function isCgmError(value: unknown): value is CgmError {
  return value instanceof CgmError;
}

/** Whatever was thrown, as a CgmError (unknown failures become SERVER, message kept). */
export function toCgmError(value: unknown): CgmError {
  if (value instanceof CgmError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new CgmError('SERVER', message, { cause: value });
}

/**
 * Errors that stop automatic polling until the configuration changes: a refused password, a terms step,
 * a configuration mistake, a region the server cannot switch to. A lock (`ACCOUNT_LOCKED`) is not among
 * them: it is waited out (see the login policy).
 */
export function stopsPolling(error: CgmError): boolean {
  return (
    error.code === 'AUTH_INVALID' ||
    error.code === 'TERMS_REQUIRED' ||
    error.code === 'CONFIG' ||
    (error.code === 'REGION_REDIRECT' && !error.retryable)
  );
}
