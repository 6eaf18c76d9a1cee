import { CgmError } from '../model/errors';

/** Login flows under way at once, across every account of one host (the default concurrency). */
export const DEFAULT_LOGIN_CONCURRENCY = 10;
/** Login flows started per second, across every account of one host. */
export const DEFAULT_LOGINS_PER_SECOND = 20;

export interface TurnLimiterOptions {
  /** At most this many turns at once (default 10, for logins). */
  concurrency?: number;
  /** At most this many turns started per second (default 20, for logins; Infinity: no rate). */
  perSecond?: number;
  now?: () => number;
}

interface Waiter {
  start: (release: () => void) => void;
  fail: (error: CgmError) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * Spreads what many accounts of one host would otherwise do at once (a bridge with a thousand people
 * starting): a bounded number in flight, started at a bounded rate, first come first served. The bridge
 * keeps one for logins, handed to every account's login policy (accounts with a saved session never ask
 * for a turn), so no cloud sees a storm from one address, and one for the statistics' day loads, so a
 * thousand parsed histories are never held at once. The defaults are the logins'.
 */
export class TurnLimiter {
  private readonly concurrency: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly waiting: Waiter[] = [];
  private active = 0;
  private nextStartAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: TurnLimiterOptions = {}) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_LOGIN_CONCURRENCY));
    const perSecond = options.perSecond ?? DEFAULT_LOGINS_PER_SECOND;
    // 5 % apart beyond the exact spacing: however a second is cut, and whatever the network adds to the
    // spacing on the way, the cloud sees at most `perSecond` starts in it.
    this.intervalMs = perSecond > 0 && Number.isFinite(perSecond) ? 1050 / perSecond : 0;
    this.now = options.now ?? Date.now;
  }

  /** Logins waiting for a turn. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Logins under way. */
  get inFlight(): number {
    return this.active;
  }

  /**
   * Waits for a turn to send a password; resolves with the release, to call when the login flow ended
   * (whatever its outcome; calling it twice does nothing). An aborted `signal` (the client closing)
   * leaves the queue and rejects with its reason.
   */
  turn(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        start: resolve,
        fail: reject,
        signal,
        onAbort: () => {
          const index = this.waiting.indexOf(waiter);
          if (index < 0) return;
          this.waiting.splice(index, 1);
          reject(abortReason(signal));
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiting.push(waiter);
      this.pump();
    });
  }

  private pump(): void {
    while (this.active < this.concurrency && this.waiting.length > 0) {
      const now = this.now();
      if (now < this.nextStartAt) {
        this.wake(this.nextStartAt - now);
        return;
      }
      const waiter = this.waiting.shift()!;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      this.active += 1;
      this.nextStartAt = Math.max(now, this.nextStartAt) + this.intervalMs;
      let released = false;
      waiter.start(() => {
        if (released) return;
        released = true;
        this.active -= 1;
        this.pump();
      });
    }
  }

  private wake(delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.ceil(delayMs));
    // A queue of logins never keeps a host alive on its own.
    this.timer.unref?.();
  }
}

function abortReason(signal: AbortSignal | undefined): CgmError {
  const reason: unknown = signal?.reason;
  return reason instanceof CgmError ? reason : new CgmError('NETWORK', 'cancelled', { retryable: false });
}
