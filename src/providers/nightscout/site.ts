import type { NightscoutApi } from '../../config';
import type { Redactor } from '../../http/redact';
import { withRetry, type RetryPolicy } from '../../http/retry';
import { parseBody, type HttpRequest, type HttpResponse, type HttpTransport } from '../../http/transport';
import { CgmError, toCgmError } from '../../model/errors';
import type { Logger } from '../../model/logger';
import { LoginPolicy, type LoginGate } from '../login-policy';
import { SiteAuth, type ExchangeAnswer } from './auth';
import { PATHS } from './constants';
import { nightscoutError, notJson, type AnswerContext } from './errors';
import { authorizationSchema } from './schemas';

export interface SiteOptions {
  /** The site's address (`https://name.example.com`, no trailing slash). */
  server: string;
  token?: string | undefined;
  apiSecret?: string | undefined;
  api: NightscoutApi;
  timeoutMs?: number | undefined;
  transport: HttpTransport;
  logger: Logger;
  /** Backoff for transient failures within one call. */
  retry: RetryPolicy;
  /** Decides when the secret may be sent (a refused one never again); default: in memory. */
  loginGate?: LoginGate | undefined;
}

export interface SiteRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: HttpRequest['query'];
  body?: unknown;
  /** Names the call in messages. */
  what: string;
  /** An upload: a 401 hint then also names the create permission. */
  upload?: boolean;
  /** `false`: one attempt only (the uploader runs its own backoff). */
  retry?: RetryPolicy | false;
}

/**
 * One Nightscout site as both the source and the uploader talk to it: the address, the
 * authentication (v1 hashed secret, v3 JWT renewed before it expires), a timeout on every request,
 * transient failures retried with backoff, and every answer judged by `nightscoutError`. A JWT the
 * site stops accepting is exchanged again once. The secret goes out only through the login gate: on v1
 * every request carries it, so each one is admitted and a refusal (AUTH_INVALID) is reported to the
 * gate, which then refuses every later attempt without a request; on v3 the token exchange is the login.
 */
export class NightscoutSite {
  readonly server: string;
  readonly api: NightscoutApi;
  readonly auth: SiteAuth;
  private readonly transport: HttpTransport;
  private readonly timeoutMs: number | undefined;
  private readonly retry: RetryPolicy;
  private readonly logger: Logger;
  private readonly gate: LoginGate;

  constructor(options: SiteOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.api = options.api;
    this.transport = options.transport;
    this.timeoutMs = options.timeoutMs;
    this.retry = options.retry;
    this.logger = options.logger;
    this.gate = options.loginGate ?? new LoginPolicy();
    this.auth = new SiteAuth(
      options.api,
      { token: options.token, apiSecret: options.apiSecret },
      (token) => this.exchange(token),
      this.transport.redactor,
    );
  }

  get redactor(): Redactor {
    return this.transport.redactor;
  }

  /** A 2xx answer with a JSON body, or a CgmError. */
  async request(request: SiteRequest): Promise<HttpResponse> {
    const policy = request.retry === undefined ? this.retry : request.retry;
    const run = (): Promise<HttpResponse> =>
      policy === false ? this.once(request) : withRetry(() => this.once(request), policy);
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof CgmError) || error.code !== 'SESSION_EXPIRED') throw error;
      this.logger.info(`${request.what}: the JWT was refused, exchanging the token again`);
      this.auth.dropJwt();
      return run();
    }
  }

  private async once(request: SiteRequest): Promise<HttpResponse> {
    // v1 sends the secret (or nothing, on a readable site) with every request: each one is a login.
    const carriesSecret = this.api === 'v1';
    if (carriesSecret) this.gate.admit();
    const headers = await this.auth.headers();
    const response = await this.transport.send({
      method: request.method,
      url: `${this.server}${request.path}`,
      headers,
      ...(request.query ? { query: request.query } : {}),
      ...(request.body === undefined ? {} : { body: request.body }),
      ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }),
    });
    const context = this.context(request.what, { upload: request.upload === true });
    const error = nightscoutError(response, context);
    if (error) throw carriesSecret && error.code === 'AUTH_INVALID' ? this.gate.failed(error) : error;
    if (response.json === undefined) throw notJson(response, context);
    return response;
  }

  /** `GET /api/v2/authorization/request/<token>` → the JWT and its `exp`. */
  private async exchange(token: string): Promise<ExchangeAnswer> {
    const what = 'Nightscout token exchange';
    this.gate.admit();
    const release = await this.gate.turn?.();
    try {
      const answer = await this.exchangeOnce(token, what);
      this.gate.succeeded();
      return answer;
    } catch (error) {
      throw this.gate.failed(toCgmError(error));
    } finally {
      release?.();
    }
  }

  private async exchangeOnce(token: string, what: string): Promise<ExchangeAnswer> {
    const response = await withRetry(async () => {
      const answer = await this.transport.send({
        method: 'GET',
        url: `${this.server}${PATHS.authorize(token)}`,
        ...(this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs }),
      });
      const context = this.context(what, { exchange: true });
      const error = nightscoutError(answer, context);
      if (error) throw error;
      if (answer.json === undefined) throw notJson(answer, context);
      return answer;
    }, this.retry);
    const body = parseBody(authorizationSchema, response.json, what);
    this.logger.debug(`${what}: JWT for ${body.sub ?? 'the token'} received`);
    return { token: body.token, exp: body.exp };
  }

  private context(what: string, flags: { exchange?: boolean; upload?: boolean }): AnswerContext {
    return {
      what,
      server: this.server,
      api: this.api,
      auth: flags.exchange ? 'token' : this.auth.usesJwt ? 'jwt' : this.auth.kind,
      redactor: this.redactor,
      ...flags,
    };
  }
}
