import { createHash } from 'node:crypto';
import type { NightscoutApi } from '../../config';
import type { Redactor } from '../../http/redact';
import { CgmError } from '../../model/errors';
import { API_SECRET_HEADER, JWT_FALLBACK_LIFETIME_MS, JWT_RENEW_MARGIN_MS } from './constants';

/** SHA-1 as lowercase hex: what API v1 compares the `api-secret` header with (`lib/server/enclave.js`). */
export function sha1Hex(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

/** The secrets of one site, as configured. */
export interface SiteSecrets {
  token?: string | undefined;
  apiSecret?: string | undefined;
}

/** A JWT from the exchange and when it stops working (epoch ms). */
export interface Jwt {
  token: string;
  expiresAt: number;
}

/** What the exchange endpoint answered, already validated. */
export interface ExchangeAnswer {
  token: string;
  exp?: number | undefined;
}

/**
 * How requests to one site authenticate.
 * - API v1: `api-secret: <sha1 hex>` of the API secret when one is set, else of the access token
 *   (the server matches the token's SHA-1 against each subject's `accessTokenDigest`). The token
 *   never goes into a URL, where proxies and access logs would keep it.
 * - API v3: the access token is exchanged at `/api/v2/authorization/request/<token>` for a JWT sent
 *   as `Authorization: Bearer`; it is renewed `JWT_RENEW_MARGIN_MS` before its `exp`. v3 does not
 *   accept the API secret (`lib/api3/doc/security.md`).
 * - Neither secret: no header (a site with `AUTH_DEFAULT_ROLES=readable`).
 */
export class SiteAuth {
  private jwt: Jwt | undefined;
  private exchanging: Promise<Jwt> | undefined;

  constructor(
    private readonly api: NightscoutApi,
    private readonly secrets: SiteSecrets,
    private readonly exchange: (token: string) => Promise<ExchangeAnswer>,
    private readonly redactor: Redactor,
  ) {
    const { token, apiSecret } = secrets;
    redactor.add(token, apiSecret, token && encodeURIComponent(token));
    redactor.add(token && sha1Hex(token), apiSecret && sha1Hex(apiSecret));
    if (api === 'v3' && !token && apiSecret) {
      throw new CgmError('CONFIG', 'Nightscout API v3 does not accept the API secret', {
        hint: 'create an access token in the site’s Admin tools and set token, or use api v1',
      });
    }
  }

  /** How this site is authenticated, for messages and hints. */
  get kind(): 'apiSecret' | 'token' | 'none' {
    if (this.api === 'v1' && this.secrets.apiSecret) return 'apiSecret';
    return this.secrets.token ? 'token' : 'none';
  }

  /** The headers of the next request (exchanging or renewing the JWT first on v3). */
  async headers(now = Date.now()): Promise<Record<string, string>> {
    const { token, apiSecret } = this.secrets;
    if (this.api === 'v1') {
      const secret = apiSecret ?? token;
      return secret ? { [API_SECRET_HEADER]: sha1Hex(secret) } : {};
    }
    if (!token) return {};
    const jwt = await this.currentJwt(now);
    return { Authorization: `Bearer ${jwt.token}` };
  }

  /** True when the last request carried a JWT (a 401 then means it expired, not a wrong token). */
  get usesJwt(): boolean {
    return this.api === 'v3' && Boolean(this.secrets.token);
  }

  /** Forgets a JWT the server refused, so the next request exchanges the token again. */
  dropJwt(): void {
    this.jwt = undefined;
  }

  /** When the current JWT expires (epoch ms), for tests and status pages. */
  get jwtExpiresAt(): number | undefined {
    return this.jwt?.expiresAt;
  }

  private currentJwt(now: number): Promise<Jwt> {
    if (this.jwt && now < this.jwt.expiresAt - JWT_RENEW_MARGIN_MS) return Promise.resolve(this.jwt);
    this.exchanging ??= this.exchangeToken(now).finally(() => {
      this.exchanging = undefined;
    });
    return this.exchanging;
  }

  private async exchangeToken(now: number): Promise<Jwt> {
    const answer = await this.exchange(this.secrets.token ?? '');
    this.redactor.add(answer.token);
    const expSeconds = answer.exp ?? jwtExp(answer.token);
    const expiresAt = expSeconds === undefined ? now + JWT_FALLBACK_LIFETIME_MS : expSeconds * 1000;
    this.jwt = { token: answer.token, expiresAt };
    return this.jwt;
  }
}

/** The `exp` claim (seconds) of a JWT, read without verifying it (only the server can). */
export function jwtExp(jwt: string): number | undefined {
  const payload = jwt.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    if (claims && typeof claims === 'object' && 'exp' in claims) {
      const exp = claims.exp;
      return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
    }
  } catch {
    // Not a readable JWT: the fallback lifetime applies.
  }
  return undefined;
}
