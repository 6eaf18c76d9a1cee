// What the vendor client tests of every provider share: quick retries, a logger that keeps its
// lines, and the error a call was rejected with.
import type { RetryPolicy } from '../../src/http/retry';
import type { CgmError } from '../../src/model/errors';
import type { Logger } from '../../src/model/logger';

/** Retries fast enough for a test, still exponential. */
export const FAST_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 5, maxDelayMs: 50 };

/** A logger that keeps every line, to assert what was said (and that no secret was). */
export class MemoryLogger implements Logger {
  readonly lines: string[] = [];
  debug(message: string): void {
    this.lines.push(`debug ${message}`);
  }
  info(message: string): void {
    this.lines.push(`info ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn ${message}`);
  }
  error(message: string): void {
    this.lines.push(`error ${message}`);
  }
}

/**
 * The error a promise rejects with (typed with CgmError's fields, which the clients' errors carry), for
 * asserting on it; fails when the promise resolves, or rejects with something that is not an Error.
 */
export async function rejection(promise: Promise<unknown>): Promise<Error & Partial<CgmError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-error: ${String(error)}`);
  }
  throw new Error('expected a rejection');
}
