import axios, { type AxiosInstance } from 'axios';
import type { ZodType } from 'zod';
import { CgmError } from '../model/errors';
import type { Logger } from '../model/logger';
import { silentLogger } from '../model/logger';
import { USER_AGENT } from '../version';
import { ANSWER_JSON_LIMITS, jsonShapeProblem } from './json-limits';
import { Redactor } from './redact';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** A JSON body; `null` sends an empty body with Content-Length 0. */
  body?: unknown;
  /** A pre-serialised body (form data, signed JSON): sent as it is. */
  rawBody?: string;
  timeoutMs?: number;
  /** The largest answer accepted, in bytes (default the transport's); counted while it arrives. */
  maxBytes?: number;
  /**
   * Cancels the request (a client closing). The transport rejects with the signal's reason when that
   * is a CgmError, otherwise with a NETWORK error.
   */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as received. */
  text: string;
  /** The body parsed as JSON, or `undefined` when it is empty or not JSON (HTML pages, truncation). */
  json: unknown;
}

export interface TransportOptions {
  timeoutMs?: number;
  userAgent?: string;
  logger?: Logger;
  redactor?: Redactor;
  /** The largest answer accepted when a request does not say (default `DEFAULT_MAX_BYTES`). */
  maxBytes?: number;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
/**
 * 4 MiB: a hundred times the largest real answer (a LibreLinkUp logbook, a VitaDock page), small
 * enough that parsing the worst JSON that size blocks the event loop for a fraction of a second.
 */
export const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;

/**
 * The single way the core speaks HTTP. It never throws for an HTTP status (providers judge bodies:
 * Dexcom reports business errors as 500s, LibreLinkUp in a `status` field); it throws `CgmError`
 * NETWORK or TIMEOUT when no answer came, with secrets removed from every message.
 */
export class HttpTransport {
  readonly redactor: Redactor;
  private readonly client: AxiosInstance;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly logger: Logger;

  constructor(options: TransportOptions = {}) {
    this.redactor = options.redactor ?? new Redactor();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.logger = options.logger ?? silentLogger;
    this.client = axios.create({
      headers: { 'User-Agent': options.userAgent ?? USER_AGENT, Accept: 'application/json' },
      responseType: 'text',
      // Bodies are serialised here and parsed by callers: axios must not turn '' into '""'.
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      proxy: false,
    });
  }

  async send(request: HttpRequest): Promise<HttpResponse> {
    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const maxBytes = request.maxBytes ?? this.maxBytes;
    const where = this.redactor.clean(`${request.method} ${describeUrl(request.url)}`);
    const cancelled = request.signal;
    if (cancelled?.aborted) throw cancellation(cancelled, where);
    const controller = new AbortController();
    // Our own timer (not axios') so the whole exchange is bounded and fake clocks can drive it.
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const cancel = () => controller.abort();
    cancelled?.addEventListener('abort', cancel, { once: true });
    const headers: Record<string, string> = { ...request.headers };
    let data: string | undefined;
    if (request.rawBody !== undefined) data = request.rawBody;
    else if (request.body === null) data = '';
    else if (request.body !== undefined) data = JSON.stringify(request.body);
    if (data !== undefined && !hasHeader(headers, 'content-type'))
      headers['Content-Type'] = 'application/json';
    let response: { status: number; headers: unknown; data: unknown };
    try {
      response = await this.client.request<string>({
        method: request.method,
        url: request.url,
        params: request.query,
        headers,
        data,
        signal: controller.signal,
        // Counted while the body streams in; past it the socket is dropped.
        maxContentLength: maxBytes,
        maxBodyLength: maxBytes,
      });
    } catch (thrown) {
      if (cancelled?.aborted) throw cancellation(cancelled, where);
      throw this.failure(thrown, where, controller.signal.aborted, timeoutMs, maxBytes);
    } finally {
      clearTimeout(timer);
      cancelled?.removeEventListener('abort', cancel);
    }
    const text = typeof response.data === 'string' ? response.data : '';
    this.logger.debug(`${where} → ${response.status}`);
    const shape = jsonShapeProblem(text, ANSWER_JSON_LIMITS);
    if (shape) throw new CgmError('PROTOCOL', `${where}: the answer ${shape}`);
    return {
      status: response.status,
      headers: flattenHeaders(response.headers),
      text,
      json: parseJson(text),
    };
  }

  private failure(
    thrown: unknown,
    where: string,
    timedOut: boolean,
    timeoutMs: number,
    maxBytes: number,
  ): CgmError {
    if (timedOut) return new CgmError('TIMEOUT', `${where}: no answer within ${timeoutMs} ms`);
    const code = axios.isAxiosError(thrown) ? (thrown.code ?? '') : '';
    const reason = thrown instanceof Error ? thrown.message : String(thrown);
    if (code === 'ERR_BAD_RESPONSE' && reason.startsWith('maxContentLength')) {
      return new CgmError('PROTOCOL', `${where}: the answer is larger than ${maxBytes} bytes`);
    }
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
      return new CgmError('TIMEOUT', `${where}: timed out (${code})`);
    }
    return new CgmError('NETWORK', this.redactor.clean(`${where}: ${code || reason}`));
  }
}

/** Why a cancelled request ended: the canceller's CgmError, or a plain NETWORK one. */
function cancellation(signal: AbortSignal, where: string): CgmError {
  const reason: unknown = signal.reason;
  if (reason instanceof CgmError) return reason;
  return new CgmError('NETWORK', `${where}: cancelled`, { retryable: false });
}

/** The transport a provider client uses: the host's shared one, or its own with the account's timeout. */
export function clientTransport(
  shared: HttpTransport | undefined,
  logger: Logger,
  timeoutMs: number | undefined,
): HttpTransport {
  return shared ?? new HttpTransport({ logger, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

/** Validates a vendor body; a mismatch is PROTOCOL (never mistaken for a bad password). */
export function parseBody<T>(schema: ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const path = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
  return protocolError(`${what}: unexpected answer${path} (${first?.message ?? 'invalid'})`);
}

function protocolError(message: string): never {
  throw new CgmError('PROTOCOL', message);
}

/**
 * What every provider does with a status that its own rules did not explain:
 * 429/430 → RATE_LIMITED (with Retry-After), 5xx → SERVER, other non-2xx → SERVER, HTML → SERVER.
 */
export function genericHttpError(response: HttpResponse, what: string): CgmError {
  const retryAfterMs = retryAfter(response.headers['retry-after']);
  if (response.status === 429 || response.status === 430) {
    return new CgmError('RATE_LIMITED', `${what}: rate limited (HTTP ${response.status})`, {
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  const kind = looksLikeHtml(response.text)
    ? 'an HTML page'
    : response.text.length === 0
      ? 'an empty body'
      : 'an error';
  return new CgmError('SERVER', `${what}: HTTP ${response.status} with ${kind}`, {
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** Retry-After in seconds or as an HTTP date, as milliseconds from now. */
export function retryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function looksLikeHtml(text: string): boolean {
  return /^\s*</.test(text);
}

/**
 * A body as JSON, or undefined when it is empty, not JSON (HTML pages, truncation), or nested too
 * deep or too big to parse safely (`ANSWER_JSON_LIMITS`).
 */
export function parseJson(text: string): unknown {
  if (text.trim() === '' || jsonShapeProblem(text, ANSWER_JSON_LIMITS)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function flattenHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers && typeof headers === 'object') {
    for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
      if (typeof value === 'string') out[key.toLowerCase()] = value;
      else if (Array.isArray(value)) out[key.toLowerCase()] = value.join(', ');
      else if (typeof value === 'number') out[key.toLowerCase()] = String(value);
    }
  }
  return out;
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

/** Origin and path only: the query may hold a session id. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return url.split('?')[0] ?? url;
  }
}
