// Drives sinon's fake clock while real loopback HTTP runs: virtual time stands still while any
// request is on its way, and moves to the next timer once every request is answered or held by the
// simulator (a hanging request then times out on the client's own, virtual, timer).
import sinon from 'sinon';
import { HttpTransport, type HttpRequest, type HttpResponse } from '../../src/http/transport';
import { CgmError } from '../../src/model/errors';

export class VirtualClock {
  readonly clock: sinon.SinonFakeTimers;
  /** Requests sent and not yet settled. */
  inFlight = 0;
  /** Requests the simulator holds without answering (they end by the client's timeout). */
  held = 0;

  constructor(start: number) {
    this.clock = sinon.useFakeTimers({
      now: start,
      toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'],
    });
  }

  /** Lets real I/O run until nothing is on its way except what the simulator holds. */
  async settle(): Promise<void> {
    let quiet = 0;
    for (let rounds = 0; quiet < 2; rounds += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      quiet = this.inFlight <= this.held ? quiet + 1 : 0;
      if (rounds > 2_000_000) throw new Error('the virtual clock never settled');
    }
  }

  /** Runs every timer up to `until`, one at a time, settling real I/O after each. */
  async runUntil(until: number, onStep?: (now: number) => void): Promise<void> {
    for (;;) {
      await this.settle();
      const next = this.clock.countTimers() > 0 ? this.peek() : undefined;
      if (next === undefined || next > until) {
        this.clock.setSystemTime(until);
        return;
      }
      this.clock.next();
      onStep?.(Date.now());
    }
  }

  restore(): void {
    this.clock.restore();
  }

  /** The instant of the earliest timer (sinon keeps them in a heap, `timerHeap`, or a map, `timers`). */
  private peek(): number | undefined {
    const internals = this.clock as unknown as {
      timerHeap?: { peek?: () => { callAt: number } | undefined };
      timers?: Map<number, { callAt: number }>;
    };
    const top = internals.timerHeap?.peek?.();
    if (top) return top.callAt;
    let first: number | undefined;
    for (const timer of internals.timers?.values() ?? []) {
      if (first === undefined || timer.callAt < first) first = timer.callAt;
    }
    return first;
  }
}

/** A transport that counts what one account sends, and tells the virtual clock what is on its way. */
export class CountingTransport extends HttpTransport {
  readonly counts = new Map<string, number>();

  constructor(private readonly virtual: VirtualClock) {
    super();
  }

  override async send(request: HttpRequest): Promise<HttpResponse> {
    const endpoint = request.url.slice(request.url.lastIndexOf('/') + 1);
    this.counts.set(endpoint, (this.counts.get(endpoint) ?? 0) + 1);
    this.virtual.inFlight += 1;
    try {
      return await super.send(request);
    } catch (error) {
      if (error instanceof CgmError && error.code === 'TIMEOUT') this.virtual.held -= 1;
      throw error;
    } finally {
      this.virtual.inFlight -= 1;
    }
  }

  count(endpoint: string): number {
    return this.counts.get(endpoint) ?? 0;
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
}
