import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderId } from '../model/reading';
import type { SimClock } from './clock';

/** A request as a provider simulator sees it, its provider prefix already removed from `path`. */
export interface SimRequest {
  method: string;
  /** Path below the provider prefix, e.g. `/ShareWebServices/Services/General/LoginPublisherAccountById`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** The JSON body, or undefined when empty or not JSON. */
  json: unknown;
  /** The full URL the client called (origin included), e.g. for building callback links. */
  url: URL;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as it is; anything else as JSON. `undefined` sends an empty body. */
  body?: unknown;
}

/** One cloud behind the simulator. */
export interface ProviderSimulator {
  readonly provider: ProviderId;
  /** Path prefix it answers under, e.g. `/dexcom`. */
  readonly prefix: string;
  handle(request: SimRequest, context: SimContext): SimResponse | Promise<SimResponse>;
  /** Lines telling a person what it serves (accounts, passwords of the demo, server URLs). */
  describe(baseUrl: string): string[];
}

export interface SimContext {
  clock: SimClock;
  baseUrl: string;
}

/** What the simulator saw, for tests that count logins or check the exact request. */
export interface RecordedRequest {
  provider: ProviderId;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  at: number;
}
