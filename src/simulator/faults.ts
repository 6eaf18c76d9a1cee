import type { ProviderId } from '../model/reading';
import type { SimResponse } from './types';

/**
 * The failures a real cloud shows and a client must survive:
 * - `timeout`: the request is held and never answered;
 * - `reset`: the connection is dropped;
 * - `status`: a bare HTTP error (default 503);
 * - `rateLimit`: 429 (or 430, LibreLinkUp's) with Retry-After;
 * - `html`: a proxy's HTML error page;
 * - `truncated`: a 200 whose JSON stops half-way;
 * - `malformed`: a 200 with JSON of the wrong shape;
 * - `rewrite`: the real answer, changed by `rewrite` (a reading from the future, a person missing).
 */
export type FaultKind =
  'timeout' | 'reset' | 'status' | 'rateLimit' | 'html' | 'truncated' | 'malformed' | 'rewrite';

export interface FaultSpec {
  kind: FaultKind;
  provider?: ProviderId;
  /** Only requests whose path contains this text (or matches this pattern). */
  path?: string | RegExp;
  /** How many requests it affects; default 1. `Infinity` until cleared. */
  times?: number;
  status?: number;
  retryAfterSeconds?: number;
  /** For `rewrite`: turns the simulator's own answer into the one sent. */
  rewrite?: (response: SimResponse) => SimResponse;
}

export type FaultAction =
  | { kind: 'timeout' }
  | { kind: 'reset' }
  | { kind: 'respond'; response: SimResponse }
  | { kind: 'rewrite'; rewrite: (response: SimResponse) => SimResponse };

const HTML_PAGE =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad gateway</h1>' +
  '<p>The web server reported a bad gateway error.</p></body></html>';

export class FaultInjector {
  private faults: (FaultSpec & { left: number })[] = [];

  add(spec: FaultSpec): this {
    this.faults.push({ ...spec, left: spec.times ?? 1 });
    return this;
  }

  clear(): void {
    this.faults = [];
  }

  get pending(): number {
    return this.faults.length;
  }

  /** The fault for this request, if any, spending one of its uses. */
  take(provider: ProviderId, path: string): FaultAction | undefined {
    const fault = this.faults.find((f) => (!f.provider || f.provider === provider) && matches(f.path, path));
    if (!fault) return undefined;
    fault.left -= 1;
    if (fault.left <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return toAction(fault);
  }
}

function matches(pattern: string | RegExp | undefined, path: string): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === 'string' ? path.includes(pattern) : pattern.test(path);
}

function toAction(fault: FaultSpec): FaultAction {
  switch (fault.kind) {
    case 'timeout':
      return { kind: 'timeout' };
    case 'reset':
      return { kind: 'reset' };
    case 'status':
      return { kind: 'respond', response: { status: fault.status ?? 503, body: 'Service Unavailable' } };
    case 'rateLimit':
      return {
        kind: 'respond',
        response: {
          status: fault.status ?? 429,
          headers: { 'Retry-After': String(fault.retryAfterSeconds ?? 60) },
          body: { message: 'Too Many Requests' },
        },
      };
    case 'html':
      return {
        kind: 'respond',
        response: { status: fault.status ?? 502, headers: { 'Content-Type': 'text/html' }, body: HTML_PAGE },
      };
    case 'truncated':
      return {
        kind: 'respond',
        response: { status: 200, headers: { 'Content-Type': 'application/json' }, body: '[{"WT":"Date(17' },
      };
    case 'malformed':
      return {
        kind: 'respond',
        response: { status: 200, body: { unexpected: true, data: 'nothing you know' } },
      };
    case 'rewrite':
      return { kind: 'rewrite', rewrite: fault.rewrite ?? ((response) => response) };
  }
}
