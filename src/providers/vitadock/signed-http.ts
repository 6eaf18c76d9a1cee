import type { HttpResponse, HttpTransport } from '../../http/transport';
import { CgmError } from '../../model/errors';
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
  private closed = false;

  constructor(
    private readonly server: string,
    private readonly transport: HttpTransport,
    now: () => number,
  ) {
    this.timestamps = new MonotonicTimestamps(now);
  }

  call(call: SignedCall): Promise<HttpResponse> {
    if (this.closed) return Promise.reject(new CgmError('CONFIG', 'VitaDock: the client is closed'));
    const query = Object.entries(call.query ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join('&');
    const url = `${this.server}${call.path}${query ? `?${query}` : ''}`;
    return this.serial(() => {
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
      });
    });
  }

  /** Refuses new calls and waits for those under way. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => undefined);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
