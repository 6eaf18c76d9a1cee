// VitaDock's own OAuth 1.0 signing (reference/vitadock.md §1.3–§1.5): HMAC-SHA256, millisecond
// timestamps, 36-character nonces, values not encoded before sorting, a JSON body appended after the
// sorted parameters, and the signature URL-encoded once more for the header.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_METHOD = 'HMAC-SHA256';
export const OAUTH_VERSION = '1.0';
export const NONCE_LENGTH = 36;

/** The two pairs a request is signed with; the token pair is absent on the first calls. */
export interface OAuthCredentials {
  consumerKey: string;
  consumerSecret: string;
  token?: string;
  tokenSecret?: string;
  verifier?: string;
}

export interface SignInput {
  method: string;
  /** The URL called; its query (if any) is signed too. */
  url: string;
  /** Query parameters besides those already in `url`. */
  query?: Record<string, string | number>;
  /** A raw JSON body, signed after the sorted parameters. */
  body?: string;
  timestamp: number;
  nonce: string;
}

export interface SignedRequest {
  /** The value of the Authorization header. */
  authorization: string;
  /** The signature as sent (URL-encoded base64). */
  signature: string;
  baseString: string;
}

/** Java's `URLEncoder.encode(s, "UTF-8")`: space → '+', `* - . _` kept, the rest %XX upper-case. */
export function javaUrlEncode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** The URL as it is signed: no query, no fragment, and always https (Medisana's code forces it). */
export function signedUrl(url: string): string {
  const parsed = new URL(url);
  return `https://${parsed.host}${parsed.pathname}`;
}

/** Every query parameter of a URL plus the extra ones; a repeated name is an error at VitaDock. */
export function queryOf(url: string, extra: Record<string, string | number> = {}): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [key, value] of new URL(url).searchParams) params[key] = value;
  for (const [key, value] of Object.entries(extra)) params[key] = String(value);
  return params;
}

/** `k=v&…` sorted by key in plain string order, values as they are, then `&<body>` when there is one. */
export function parameterString(params: Record<string, string>, body?: string): string {
  const sorted = Object.keys(params)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((key) => `${key}=${params[key]}`)
    .join('&');
  return body === undefined || body === '' ? sorted : `${sorted}&${body}`;
}

export function baseString(
  method: string,
  url: string,
  params: Record<string, string>,
  body?: string,
): string {
  return [
    method.toUpperCase(),
    javaUrlEncode(signedUrl(url)),
    javaUrlEncode(parameterString(params, body)),
  ].join('&');
}

/** base64(HMAC-SHA256(consumerSecret & tokenSecret, base)), URL-encoded as the header carries it. */
export function signature(base: string, consumerSecret: string, tokenSecret = ''): string {
  const digest = createHmac('sha256', `${consumerSecret}&${tokenSecret}`).update(base).digest('base64');
  return javaUrlEncode(digest);
}

/** The oauth_* parameters of one request, without the signature. */
export function oauthParams(
  credentials: OAuthCredentials,
  timestamp: number,
  nonce: string,
): Record<string, string> {
  const params: Record<string, string> = {
    oauth_consumer_key: credentials.consumerKey,
    oauth_signature_method: SIGNATURE_METHOD,
    oauth_timestamp: String(timestamp),
    oauth_nonce: nonce,
  };
  if (credentials.token) params.oauth_token = credentials.token;
  if (credentials.verifier) params.oauth_verifier = credentials.verifier;
  params.oauth_version = OAUTH_VERSION;
  return params;
}

/** Signs one request. Query parameters go into the signature only, never into the header. */
export function signRequest(input: SignInput, credentials: OAuthCredentials): SignedRequest {
  const oauth = oauthParams(credentials, input.timestamp, input.nonce);
  const base = baseString(
    input.method,
    input.url,
    { ...queryOf(input.url, input.query), ...oauth },
    input.body,
  );
  const sig = signature(base, credentials.consumerSecret, credentials.tokenSecret);
  const fields = Object.entries({ ...oauth, oauth_signature: sig }).map(
    ([key, value]) => `${key}="${value}"`,
  );
  return { authorization: `OAuth ${fields.join(',')}`, signature: sig, baseString: base };
}

/** The fields of an `OAuth k="v",…` header, or undefined when it is not one. Values stay as sent. */
export function parseAuthorization(header: string | undefined): Record<string, string> | undefined {
  if (!header) return undefined;
  const match = /^\s*OAuth\s+(.*)$/i.exec(header);
  if (!match?.[1]) return undefined;
  const fields: Record<string, string> = {};
  for (const part of match[1].split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (key in fields) return undefined; // no parameter may appear twice
    fields[key] = value;
  }
  return fields;
}

/** Compares two signatures without leaking where they differ. */
export function sameSignature(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 36 random alphanumeric characters, the shape VitaDock asks for. */
export function makeNonce(): string {
  let nonce = '';
  for (let i = 0; i < NONCE_LENGTH; i += 1) nonce += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return nonce;
}

/**
 * Millisecond timestamps that never go backwards, even when the wall clock does (NTP steps):
 * VitaDock rejects a timestamp below the previous one of the same credentials.
 */
export class MonotonicTimestamps {
  private last = 0;
  constructor(private readonly now: () => number = Date.now) {}

  next(): number {
    const now = Math.floor(this.now());
    this.last = now > this.last ? now : this.last + 1;
    return this.last;
  }
}
