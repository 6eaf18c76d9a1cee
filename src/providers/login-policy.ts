import { CgmError } from '../model/errors';

const MINUTE = 60_000;

/** The first pause after a login failed for a server reason; it doubles per failure. */
export const LOGIN_BACKOFF_BASE_MS = MINUTE;
/** The longest pause between logins that fail for a server reason (5xx, timeout, network). */
export const LOGIN_BACKOFF_MAX_MS = 60 * MINUTE;
/** A lock with no stated duration is waited out this long (Dexcom's lock lasts about 10–15 minutes). */
export const DEFAULT_LOCK_MS = 15 * MINUTE;
/** A lock reported again after waiting doubles the wait, up to this. */
export const MAX_LOCK_MS = 24 * 60 * MINUTE;

/**
 * What a provider client asks before it sends a password, and tells after. Every client sends a
 * password only through `admit` → request → `succeeded`/`failed`, so the rules below hold whichever
 * call (a poll, a host's login, a re-login after an expired session) triggered the login.
 */
export interface LoginGate {
  /** Throws the CgmError that forbids a login now (with `retryAfterMs` when it will pass). */
  admit(): void;
  succeeded(): void;
  /** Records a failed login; returns the error to throw (with the wait until the next attempt). */
  failed(error: CgmError): CgmError;
  /**
   * Waits for this login's turn among the host's accounts (after `admit`, before the password goes);
   * resolves with the release to call when the login flow ended. Rejects with the signal's reason when
   * the client closes meanwhile.
   */
  turn?(signal?: AbortSignal): Promise<() => void>;
}

/** A host's queue of logins (the bridge's `TurnLimiter`): few at once, at a bounded rate. */
export interface LoginTurns {
  turn(signal?: AbortSignal): Promise<() => void>;
}

/** What a policy remembers, and what a host may persist across restarts (no secret in it). */
export interface LoginMemory {
  /** The refusal of the current credentials (AUTH_INVALID), kept until they change. */
  refused?: { code: CgmError['code']; message: string; hint?: string; at: number };
  /** No login before this instant (epoch ms): the cloud locked the account. */
  lockedUntil?: number;
  /** How many locks in a row, for doubling the wait. */
  locks?: number;
}

export interface LoginPolicyOptions {
  /** Restored from an earlier run (the follower checks that it belongs to the same credentials). */
  memory?: LoginMemory;
  /** Called whenever what is worth persisting changes (a refusal, a lock, a success after them). */
  onChange?: (memory: LoginMemory) => void;
  /** Shared by every account of a host, so a start with many accounts is no login storm. */
  turns?: LoginTurns;
  now?: () => number;
  random?: () => number;
}

/**
 * The rules every account keeps, in one place (DESIGN "Rules every provider keeps"):
 * - a refused password (`AUTH_INVALID`) is never sent again: every later login fails at once with the
 *   same error until the credentials change (a new policy; the follower remembers it across restarts);
 * - a lock (`ACCOUNT_LOCKED`) is waited out: its stated time or `DEFAULT_LOCK_MS`, doubled each time it is
 *   still locked, up to `MAX_LOCK_MS`;
 * - `TERMS_REQUIRED`, `CONFIG` and a non-retryable redirect wait for the configuration to change;
 * - any other failure (5xx, timeout, network, rate limit, unreadable answer) backs off exponentially with
 *   jitter from `LOGIN_BACKOFF_BASE_MS` to `LOGIN_BACKOFF_MAX_MS`, and a server's Retry-After wins.
 * Documented logins per day: 1 for a refused password (ever), about 7 for a lock that never lifts,
 * about 30 for a login server that always fails.
 */
export class LoginPolicy implements LoginGate {
  private memory: LoginMemory;
  private readonly now: () => number;
  private readonly random: () => number;
  /** A failure that waits for the configuration (not persisted: a restart may try once more). */
  private halted: CgmError | undefined;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastFailure: CgmError | undefined;
  /** The refusal as it happened in this run (the same object every later attempt throws). */
  private refusedError: CgmError | undefined;

  constructor(private readonly options: LoginPolicyOptions = {}) {
    this.memory = { ...options.memory };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** The error that currently forbids logins, if any (without throwing). */
  get blocked(): CgmError | undefined {
    try {
      this.admit();
      return undefined;
    } catch (error) {
      return error as CgmError;
    }
  }

  /** The refusal of these credentials, if they were refused. */
  get refusal(): CgmError | undefined {
    const refused = this.memory.refused;
    if (!refused) return undefined;
    if (this.refusedError) return this.refusedError;
    const when = new Date(refused.at).toISOString().replace(/\.\d+Z$/, 'Z');
    return new CgmError(
      refused.code,
      `${refused.message} (refused at ${when}; not sent again until it changes)`,
      {
        retryable: false,
        hint: refused.hint ?? 'correct the password (or username, region, server) in the configuration',
        detail: { refusedAt: new Date(refused.at).toISOString() },
      },
    );
  }

  admit(): void {
    const refusal = this.refusal;
    if (refusal) throw refusal;
    if (this.halted) throw this.halted;
    const now = this.now();
    const lockedUntil = this.memory.lockedUntil ?? 0;
    if (now < lockedUntil) {
      throw new CgmError(
        'ACCOUNT_LOCKED',
        `the account is locked; no login for ${minutes(lockedUntil - now)}`,
        {
          retryAfterMs: lockedUntil - now,
          hint: 'wait for the lock to pass, and stop other apps that log in with this account',
          detail: { login: true },
        },
      );
    }
    if (now < this.nextAttemptAt && this.lastFailure) {
      const waitMs = this.nextAttemptAt - now;
      throw new CgmError(
        this.lastFailure.code,
        `${this.lastFailure.message}; next login in ${minutes(waitMs)}`,
        {
          retryAfterMs: waitMs,
          ...(this.lastFailure.hint ? { hint: this.lastFailure.hint } : {}),
          ...(this.lastFailure.vendorCode ? { vendorCode: this.lastFailure.vendorCode } : {}),
          detail: { ...this.lastFailure.detail, login: true },
        },
      );
    }
  }

  turn(signal?: AbortSignal): Promise<() => void> {
    return this.options.turns ? this.options.turns.turn(signal) : Promise.resolve(() => undefined);
  }

  succeeded(): void {
    this.failures = 0;
    this.nextAttemptAt = 0;
    this.lastFailure = undefined;
    if (this.memory.lockedUntil !== undefined || this.memory.locks !== undefined) {
      this.memory = { ...(this.memory.refused ? { refused: this.memory.refused } : {}) };
      this.options.onChange?.(this.snapshot());
    }
  }

  failed(error: CgmError): CgmError {
    const now = this.now();
    switch (error.code) {
      case 'AUTH_INVALID':
        this.refusedError = error;
        this.memory = {
          refused: {
            code: error.code,
            message: error.message,
            ...(error.hint ? { hint: error.hint } : {}),
            at: now,
          },
        };
        this.options.onChange?.(this.snapshot());
        return error;
      case 'ACCOUNT_LOCKED': {
        const locks = (this.memory.locks ?? 0) + 1;
        const stated = Math.max(error.retryAfterMs ?? DEFAULT_LOCK_MS, MINUTE);
        const waitMs = Math.min(MAX_LOCK_MS, stated * 2 ** (locks - 1));
        this.memory = { ...this.memory, lockedUntil: now + waitMs, locks };
        this.options.onChange?.(this.snapshot());
        return withWait(error, waitMs);
      }
      case 'TERMS_REQUIRED':
      case 'CONFIG':
        this.halted = error;
        return error;
      default: {
        if (error.code === 'REGION_REDIRECT' && !error.retryable) {
          this.halted = error;
          return error;
        }
        this.failures += 1;
        const ceiling = Math.min(LOGIN_BACKOFF_MAX_MS, LOGIN_BACKOFF_BASE_MS * 2 ** (this.failures - 1));
        const waitMs = Math.max(Math.round(ceiling * (0.8 + 0.2 * this.random())), error.retryAfterMs ?? 0);
        this.nextAttemptAt = now + waitMs;
        this.lastFailure = error;
        return withWait(error, waitMs);
      }
    }
  }

  /** What is worth persisting now. */
  snapshot(): LoginMemory {
    return { ...this.memory };
  }
}

/** The error of a failed login, marked as such and carrying the wait until the next attempt. */
function withWait(error: CgmError, waitMs: number): CgmError {
  return new CgmError(error.code, error.message, {
    retryable: error.retryable,
    retryAfterMs: Math.max(waitMs, error.retryAfterMs ?? 0),
    ...(error.vendorCode ? { vendorCode: error.vendorCode } : {}),
    ...(error.hint ? { hint: error.hint } : {}),
    detail: { ...error.detail, login: true },
    cause: error,
  });
}

function minutes(ms: number): string {
  return ms < 90_000 ? `${Math.ceil(ms / 1000)} s` : `${Math.ceil(ms / MINUTE)} min`;
}
