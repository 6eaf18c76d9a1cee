// How a simulated Nightscout site decides who is asking (after `lib/authorization/index.js` and
// `lib/server/enclave.js` of cgm-remote-monitor): API secret hashes, access tokens, signed JWTs, roles.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NightscoutRole, NightscoutSiteSpec, NightscoutTokenSpec } from './nightscout-sites';
import type { SimRequest } from './types';

const ROLE_PERMISSIONS: Record<NightscoutRole, readonly string[]> = {
  admin: ['*'],
  readable: ['*:*:read'],
  'status-only': ['api:status:read'],
  denied: [],
};

/** Who a request is: `failed` when it offered a secret or token the site does not know. */
export type Identity =
  | { kind: 'anonymous'; permissions: readonly string[] }
  | { kind: 'admin'; permissions: readonly string[] }
  | { kind: 'subject'; token: NightscoutTokenSpec; permissions: readonly string[] }
  | { kind: 'failed' };

export interface JwtClaims {
  accessToken: string;
  iat: number;
  exp: number;
}

const hex = (algorithm: string, text: string) => createHash(algorithm).update(text, 'utf8').digest('hex');

/** The secrets of one site and the JWTs it signs. */
export class SiteSecurity {
  private key = randomBytes(32);

  constructor(
    private readonly spec: NightscoutSiteSpec,
    private readonly jwtLifetimeMs: number,
  ) {}

  /** A new signing key: every JWT handed out so far is refused (as after a server restart). */
  rotateKey(): void {
    this.key = randomBytes(32);
  }

  /** v1: `api-secret` header or `?secret=` (SHA-1/SHA-512 hex, or a token), `?token=`, or a Bearer JWT. */
  identifyV1(request: SimRequest, now: number): Identity {
    const secret = request.query.get('secret') ?? header(request, 'api-secret');
    const jwt = bearer(request);
    const token = request.query.get('token');
    if (!secret && !jwt && !token) return this.anonymous();
    if (secret && this.isApiSecret(secret)) return { kind: 'admin', permissions: ROLE_PERMISSIONS.admin };
    const claims = jwt ? this.verify(jwt, now) : undefined;
    const subject =
      (claims && this.findToken(claims.accessToken)) ??
      (secret ? this.findToken(secret) : undefined) ??
      (token ? this.findToken(token) : undefined);
    return subject ? this.asSubject(subject) : { kind: 'failed' };
  }

  /** v3: only `Authorization: Bearer <JWT>` (unless the site runs with API3 security off). */
  identifyV3(request: SimRequest, now: number): Identity | 'missing' {
    if (this.spec.v3Insecure) return { kind: 'admin', permissions: ROLE_PERMISSIONS.admin };
    const jwt = bearer(request);
    if (!jwt) return 'missing';
    const claims = this.verify(jwt, now);
    const subject = claims ? this.findToken(claims.accessToken) : undefined;
    return subject ? this.asSubject(subject) : { kind: 'failed' };
  }

  /** `/api/v2/authorization/request/<token>`: a JWT for a known access token. */
  exchange(
    accessToken: string,
    now: number,
  ): { token: string; subject: NightscoutTokenSpec; claims: JwtClaims } | undefined {
    const subject = this.findToken(accessToken);
    if (!subject) return undefined;
    const iat = Math.floor(now / 1000);
    const claims: JwtClaims = {
      accessToken: subject.token,
      iat,
      exp: iat + Math.floor(this.jwtLifetimeMs / 1000),
    };
    return { token: this.sign(claims), subject, claims };
  }

  private anonymous(): Identity {
    return { kind: 'anonymous', permissions: this.spec.readable ? ROLE_PERMISSIONS.readable : [] };
  }

  private asSubject(token: NightscoutTokenSpec): Identity {
    return { kind: 'subject', token, permissions: token.roles.flatMap((role) => ROLE_PERMISSIONS[role]) };
  }

  private isApiSecret(secret: string): boolean {
    return (
      secret.toLowerCase() === hex('sha1', this.spec.apiSecret) ||
      secret === hex('sha512', this.spec.apiSecret)
    );
  }

  /** A token as written, or its SHA-1 (what the server keeps as `accessTokenDigest`). */
  private findToken(value: string): NightscoutTokenSpec | undefined {
    return this.spec.tokens.find((t) => t.token === value || hex('sha1', t.token) === value.toLowerCase());
  }

  private sign(claims: JwtClaims): string {
    const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const signature = createHmac('sha256', this.key).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${signature}`;
  }

  private verify(jwt: string, now: number): JwtClaims | undefined {
    const [head, body, signature] = jwt.split('.');
    if (!head || !body || !signature) return undefined;
    const expected = createHmac('sha256', this.key).update(`${head}.${body}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<JwtClaims>;
      if (typeof claims.accessToken !== 'string' || typeof claims.exp !== 'number') return undefined;
      if (claims.exp * 1000 <= now) return undefined;
      return { accessToken: claims.accessToken, iat: claims.iat ?? 0, exp: claims.exp };
    } catch {
      return undefined;
    }
  }
}

/** Apache Shiro-style check: `*` matches any part, a shorter grant covers everything below it. */
export function permits(granted: readonly string[], wanted: string): boolean {
  const parts = wanted.split(':');
  return granted.some((grant) => {
    const pattern = grant.split(':');
    for (let i = 0; i < pattern.length; i += 1) {
      const part = pattern[i]!;
      if (part === '*') continue;
      if (i >= parts.length) return false;
      if (!part.split(',').includes(parts[i]!)) return false;
    }
    return true;
  });
}

function header(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function bearer(request: SimRequest): string | undefined {
  const parts = (header(request, 'authorization') ?? '').split(' ');
  return parts.length === 2 && parts[0]?.toLowerCase() === 'bearer' ? parts[1] : undefined;
}
