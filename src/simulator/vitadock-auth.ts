// The server side of VitaDock's OAuth: consumers, devices, request and access tokens, and a real
// signature check (wrong signature, secret or token, stale or backwards timestamp, reused nonce → 401).
import { randomBytes } from 'node:crypto';
import {
  NONCE_LENGTH,
  OAUTH_VERSION,
  SIGNATURE_METHOD,
  baseString,
  parseAuthorization,
  sameSignature,
  signature,
} from '../providers/vitadock/oauth1';
import type { SimRequest } from './types';

export interface SimConsumer {
  key: string;
  secret: string;
  /** Where the consent page sends the browser with the verifier; none = the page shows it. */
  callbackUrl?: string;
}

interface Pair {
  token: string;
  secret: string;
}

interface RequestToken extends Pair {
  consumerKey: string;
  verifier?: string;
  denied?: boolean;
}

interface AccessToken extends Pair {
  consumerKey: string;
  revoked: boolean;
  issuedAt: number;
}

/** Which token a call must carry. */
export type TokenKind = 'none' | 'request' | 'access';

export type AuthResult =
  { ok: true; consumerKey: string; token?: Pair; verifier?: string } | { ok: false; reason: string };

/** Letters and digits only: the token endpoints' answer is split on `&` and `=`. */
export function simToken(bytes = 18): string {
  return randomBytes(bytes)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, bytes);
}

export class VitaDockAuthority {
  private readonly consumers = new Map<string, SimConsumer & { appKey: string }>();
  private readonly devices = new Map<string, Pair>();
  private readonly requestTokens = new Map<string, RequestToken>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly nonces = new Map<string, number>();
  private readonly lastTimestamp = new Map<string, number>();

  constructor(private readonly maxSkewMs: number) {}

  addConsumer(consumer: SimConsumer): void {
    this.consumers.set(consumer.key, { ...consumer, appKey: consumer.key });
  }

  setCallbackUrl(consumerKey: string, url: string | undefined): void {
    const consumer = this.consumers.get(consumerKey);
    if (!consumer) throw new Error(`no simulated VitaDock application ${consumerKey}`);
    if (url === undefined) delete consumer.callbackUrl;
    else consumer.callbackUrl = url;
  }

  /** A device pair for an application and device id; the same id gets the same pair again. */
  registerDevice(appKey: string, deviceId: string): Pair {
    const key = `${appKey}\n${deviceId}`;
    let pair = this.devices.get(key);
    if (!pair) {
      pair = { token: `dev${simToken()}`, secret: simToken(24) };
      this.devices.set(key, pair);
      const app = this.consumers.get(appKey);
      this.consumers.set(pair.token, {
        key: pair.token,
        secret: pair.secret,
        appKey,
        ...(app?.callbackUrl ? { callbackUrl: app.callbackUrl } : {}),
      });
    }
    return pair;
  }

  /** The application a consumer key (an app or a device) belongs to. */
  appOf(consumerKey: string): string | undefined {
    return this.consumers.get(consumerKey)?.appKey;
  }

  callbackOf(consumerKey: string): string | undefined {
    const consumer = this.consumers.get(consumerKey);
    return consumer ? this.consumers.get(consumer.appKey)?.callbackUrl : undefined;
  }

  issueRequestToken(consumerKey: string): Pair {
    const pair = { token: `req${simToken()}`, secret: simToken(24) };
    this.requestTokens.set(pair.token, { ...pair, consumerKey });
    return pair;
  }

  requestToken(token: string): RequestToken | undefined {
    return this.requestTokens.get(token);
  }

  /** The user granted access: a verifier for the request token. */
  approve(token: string): string {
    const request = this.requestTokens.get(token);
    if (!request) throw new Error('unknown request token');
    request.verifier = simToken(12);
    request.denied = false;
    return request.verifier;
  }

  deny(token: string): void {
    const request = this.requestTokens.get(token);
    if (request) request.denied = true;
  }

  /** Trades an approved request token (verified by the caller's signature) for an access token. */
  issueAccessToken(requestToken: string, verifier: string | undefined, now: number): Pair | undefined {
    const request = this.requestTokens.get(requestToken);
    if (!request?.verifier || request.denied || verifier !== request.verifier) return undefined;
    this.requestTokens.delete(requestToken);
    return this.addAccessToken(request.consumerKey, { token: `acc${simToken()}`, secret: simToken(24) }, now);
  }

  addAccessToken(consumerKey: string, pair: Pair, now: number): Pair {
    this.accessTokens.set(pair.token, { ...pair, consumerKey, revoked: false, issuedAt: now });
    return pair;
  }

  revoke(token: string): boolean {
    const access = this.accessTokens.get(token);
    if (!access || access.revoked) return false;
    access.revoked = true;
    return true;
  }

  /** The newest access token (revoked or not), with the consumer pair that signs for it. */
  newestAccess(): { consumer: SimConsumer; access: AccessToken } | undefined {
    const newest = [...this.accessTokens.values()].sort((a, b) => b.issuedAt - a.issuedAt)[0];
    return newest ? this.accessWith(newest.token) : undefined;
  }

  accessWith(token: string): { consumer: SimConsumer; access: AccessToken } | undefined {
    const access = this.accessTokens.get(token);
    const consumer = access ? this.consumers.get(access.consumerKey) : undefined;
    return access && consumer ? { consumer, access } : undefined;
  }

  /** Checks the Authorization header of a request the way VitaDock does. */
  check(request: SimRequest, signedUrl: string, kind: TokenKind, now: number): AuthResult {
    const fields = parseAuthorization(headerOf(request, 'authorization'));
    if (!fields) return { ok: false, reason: 'missing or malformed Authorization header' };
    const {
      oauth_consumer_key: key,
      oauth_signature: sent,
      oauth_timestamp: stamp,
      oauth_nonce: nonce,
      oauth_token: token,
    } = fields;
    if (!key || !sent || !stamp || !nonce) return { ok: false, reason: 'missing oauth fields' };
    if (fields.oauth_signature_method !== SIGNATURE_METHOD || fields.oauth_version !== OAUTH_VERSION)
      return { ok: false, reason: 'unsupported signature method or version' };
    if (!/^\d+$/.test(stamp) || nonce.length !== NONCE_LENGTH)
      return { ok: false, reason: 'bad timestamp or nonce' };
    const consumer = this.consumers.get(key);
    if (!consumer) return { ok: false, reason: 'unknown consumer key' };
    let tokenPair: Pair | undefined;
    if (kind === 'request') tokenPair = token ? this.requestTokens.get(token) : undefined;
    if (kind === 'access') {
      const access = token ? this.accessTokens.get(token) : undefined;
      tokenPair = access && !access.revoked && access.consumerKey === key ? access : undefined;
    }
    if (kind !== 'none' && !tokenPair) return { ok: false, reason: 'unknown, revoked or wrong token' };
    const timestamp = Number(stamp);
    if (Math.abs(now - timestamp) > this.maxSkewMs) return { ok: false, reason: 'stale timestamp' };
    const params: Record<string, string> = {};
    for (const [name, value] of request.query) params[name] = value;
    for (const [name, value] of Object.entries(fields)) if (name !== 'oauth_signature') params[name] = value;
    const body = isJson(request) && request.body !== '' ? request.body : undefined;
    const expected = signature(
      baseString(request.method, signedUrl, params, body),
      consumer.secret,
      tokenPair?.secret,
    );
    if (!sameSignature(expected, sent)) return { ok: false, reason: 'signature mismatch' };
    // Only a correctly signed request may spend a nonce or move the clock.
    const clockKey = `${key}\n${token ?? ''}`;
    if (timestamp < (this.lastTimestamp.get(clockKey) ?? 0))
      return { ok: false, reason: 'timestamp went backwards' };
    if (this.nonces.has(`${key}\n${nonce}`)) return { ok: false, reason: 'nonce used before' };
    this.remember(`${key}\n${nonce}`, now);
    this.lastTimestamp.set(clockKey, timestamp);
    return {
      ok: true,
      consumerKey: key,
      ...(tokenPair ? { token: { token: tokenPair.token, secret: tokenPair.secret } } : {}),
      ...(fields.oauth_verifier ? { verifier: fields.oauth_verifier } : {}),
    };
  }

  private remember(nonce: string, now: number): void {
    this.nonces.set(nonce, now);
    if (this.nonces.size > 10_000) {
      for (const [seen, at] of this.nonces) if (now - at > 2 * this.maxSkewMs) this.nonces.delete(seen);
    }
  }
}

export function headerOf(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isJson(request: SimRequest): boolean {
  return /application\/json/i.test(headerOf(request, 'content-type') ?? '');
}
