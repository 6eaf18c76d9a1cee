import type { HttpResponse, HttpTransport } from '../../http/transport';
import { CgmError } from '../../model/errors';
import { MAX_ANSWER_BYTES } from './constants';
import { MonotonicTimestamps, makeNonce, signRequest, type OAuthCredentials } from './oauth1';

export interface SignedCall {
  method: 'GET' | 'POST';
  /** Below the server URL, e.g. `/data/cardiodocks/sync`. */
  path: string;
  credentials: OAuthCredentials;
  /** Query parameters: sent in the URL and signed, never put in the header. */
  query?: Record<string, number>;
  headers?: Record<string, string>;
}

/**
 * Signed requests to one VitaDock server, one at a time and in order: VitaDock rejects a timestamp
 * below the previous one of the same credentials, so requests must not overtake each other.
 */
export class SignedHttp {
  private readonly timestamps: MonotonicTimestamps;
  private queue: Promise<unknown> = Promise.resolve();
  /** Aborted by `close()`: the request under way ends, the queued ones never start. */
  private readonly lifetime = new AbortController();

  constructor(
    private readonly server: string,
    private readonly transport: HttpTransport,
    now: () => number,
  ) {
    this.timestamps = new MonotonicTimestamps(now);
  }

  call(call: SignedCall): Promise<HttpResponse> {
    if (this.lifetime.signal.aborted) return Promise.reject(closedError());
    const query = Object.entries(call.query ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join('&');
    const url = `${this.server}${call.path}${query ? `?${query}` : ''}`;
    return this.serial(() => {
      if (this.lifetime.signal.aborted) return Promise.reject(closedError());
      // Signed as late as possible, so the timestamp is the moment the request leaves.
      const signed = signRequest(
        { method: call.method, url, timestamp: this.timestamps.next(), nonce: makeNonce() },
        call.credentials,
      );
      const headers: Record<string, string> = { ...call.headers, Authorization: signed.authorization };
      // Auth POSTs are empty forms; a JSON content type would make the transport send `""`.
      if (call.method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded';
      return this.transport.send({
        method: call.method,
        url,
        headers,
        ...(call.method === 'POST' ? { rawBody: '' } : {}),
        maxBytes: MAX_ANSWER_BYTES,
        signal: this.lifetime.signal,
      });
    });
  }

  /** The signal every request of this client carries (retries wait on it too). */
  get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  /** Refuses new calls, cancels the one under way, and resolves once it has ended. */
  async close(): Promise<void> {
    if (!this.lifetime.signal.aborted) this.lifetime.abort(closedError());
    await this.queue.catch(() => undefined);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function closedError(): CgmError {
  return new CgmError('CONFIG', 'VitaDock: the client is closed', { retryable: false });
}
