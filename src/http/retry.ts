import { CgmError, toCgmError } from '../model/errors';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 1_000, maxDelayMs: 30_000 };

/** Codes worth a second try soon: the network, the server's load, its rate limit. Never a rejected login. */
const TRANSIENT = new Set(['NETWORK', 'TIMEOUT', 'SERVER', 'RATE_LIMITED']);

export function isTransient(error: CgmError): boolean {
  return TRANSIENT.has(error.code) && error.retryable;
}

/** Exponential backoff with full jitter, bounded; the server's Retry-After wins when it is longer. */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  error?: CgmError,
  random = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  return Math.max(jittered, error?.retryAfterMs ?? 0);
}

/** Waits `ms`; a `signal` that aborts ends the wait at once, rejecting with its reason. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Runs `task`, retrying transient failures with backoff; anything else is thrown at once. An aborted
 * `signal` (a client closing) stops the retries and the wait between them.
 */
export async function withRetry<T>(
  task: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    if (signal?.aborted) throw abortReason(signal);
    try {
      return await task();
    } catch (thrown) {
      const error = toCgmError(thrown);
      if (signal?.aborted || !isTransient(error) || attempt + 1 >= policy.attempts) throw error;
      // A server asking for a long pause is not retried here: the poller waits for it instead.
      if ((error.retryAfterMs ?? 0) > policy.maxDelayMs) throw error;
      await sleep(backoffDelay(attempt, policy, error), signal);
    }
  }
}

function abortReason(signal: AbortSignal | undefined): CgmError {
  const reason: unknown = signal?.reason;
  return reason instanceof CgmError ? reason : new CgmError('NETWORK', 'cancelled', { retryable: false });
}
