// Checks VitaDock push notifications (seed 003: a signed GET on the Monitoring URL with `module_id`).
// Host-neutral: the caller hands in method, URL, headers; the answer is a typed verdict, never a throw.
import type { CgmError } from '../../model/errors';
import { vitaDockAccount } from './account';
import { MODULE_BY_PUSH_ID, REVOKED_PUSH_ID, type VitaDockDataModule } from './constants';
import { revokedError } from './errors';
import {
  NONCE_LENGTH,
  OAUTH_VERSION,
  SIGNATURE_METHOD,
  baseString,
  parseAuthorization,
  sameSignature,
  signature,
} from './oauth1';

/** What arrived at the Monitoring URL, in any host's terms. */
export interface IncomingPush {
  method: string;
  /** Absolute, or a path with query (then `monitoringUrl` or the Host header gives the rest). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

/** One authorised user whose notifications are accepted. */
export interface PushAccount {
  accessToken: string;
  accessSecret: string;
  /** The host's own name for the account, handed back in the verdict. */
  name?: string;
}

export interface PushSecrets {
  /** The application key (also the basis of the account id). */
  consumerKey: string;
  consumerSecret: string;
  /** The device pair, when the application is registered as "Mobile" and signs with it. */
  device?: { token: string; secret: string };
  /** The users to accept, or a lookup by access token. */
  accounts: readonly PushAccount[] | ((accessToken: string) => PushAccount | undefined);
  /** The Monitoring URL as registered at VitaDock (needed behind a proxy that rewrites the URL). */
  monitoringUrl?: string;
  /** Oldest acceptable notification (default 5 minutes either way). */
  maxAgeMs?: number;
  now?: () => number;
}

export type PushRejection =
  | 'method'
  | 'unsigned'
  | 'malformed'
  | 'unknown-consumer'
  | 'unknown-token'
  | 'forged'
  | 'stale'
  | 'replayed'
  | 'bad-module';

export type PushVerdict =
  | {
      ok: true;
      action: 'sync';
      moduleId: number;
      /** The module to sync now, or null for an id without a known module (sync them all). */
      module: VitaDockDataModule | null;
      account: string;
      name?: string;
    }
  | { ok: true; action: 'reauthorize'; moduleId: -1; account: string; name?: string; error: CgmError }
  | { ok: false; status: 400 | 401 | 405; reason: PushRejection; message: string };

export const DEFAULT_PUSH_MAX_AGE_MS = 5 * 60_000;

/** Nonces seen recently, so a captured notification cannot be played again. */
export class ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = 2 * DEFAULT_PUSH_MAX_AGE_MS,
    private readonly limit = 10_000,
  ) {}

  /** Records the nonce; true when it had been seen already. */
  check(key: string, now: number): boolean {
    this.expire(now);
    if (this.seen.has(key)) return true;
    this.seen.set(key, now);
    if (this.seen.size > this.limit) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return false;
  }

  get size(): number {
    return this.seen.size;
  }

  private expire(now: number): void {
    for (const [key, at] of this.seen) {
      if (now - at <= this.windowMs) break; // insertion order is time order
      this.seen.delete(key);
    }
  }
}

const reject = (status: 400 | 401 | 405, reason: PushRejection, message: string): PushVerdict => ({
  ok: false,
  status,
  reason,
  message,
});

/**
 * Verifies a notification: VitaDock's signature over the Monitoring URL and its query, with the
 * consumer secret and the user's access secret; a fresh timestamp; a nonce not seen before.
 * A valid one says which module to sync, or (module_id -1) that the user withdrew the access.
 */
export function verifyPush(request: IncomingPush, secrets: PushSecrets, replay: ReplayCache): PushVerdict {
  try {
    return check(request, secrets, replay);
  } catch {
    return reject(400, 'malformed', 'the notification could not be read');
  }
}

function check(request: IncomingPush, secrets: PushSecrets, replay: ReplayCache): PushVerdict {
  if (request.method.toUpperCase() !== 'GET') return reject(405, 'method', 'notifications are GET requests');
  const fields = parseAuthorization(header(request, 'authorization'));
  if (!fields?.oauth_signature) return reject(401, 'unsigned', 'the notification carries no OAuth signature');
  const { oauth_consumer_key: key, oauth_token: token, oauth_timestamp: stamp, oauth_nonce: nonce } = fields;
  if (
    !key ||
    !token ||
    !stamp ||
    !/^\d+$/.test(stamp) ||
    nonce?.length !== NONCE_LENGTH ||
    fields.oauth_signature_method !== SIGNATURE_METHOD ||
    fields.oauth_version !== OAUTH_VERSION
  ) {
    return reject(401, 'malformed', 'the notification signature is incomplete');
  }
  const consumerSecret =
    key === secrets.consumerKey
      ? secrets.consumerSecret
      : key === secrets.device?.token
        ? secrets.device.secret
        : undefined;
  if (consumerSecret === undefined) return reject(401, 'unknown-consumer', 'signed for another application');
  const account =
    typeof secrets.accounts === 'function'
      ? secrets.accounts(token)
      : secrets.accounts.find((a) => a.accessToken === token);
  if (!account) return reject(401, 'unknown-token', 'signed for an access token this host does not know');
  const now = (secrets.now ?? Date.now)();
  const maxAge = secrets.maxAgeMs ?? DEFAULT_PUSH_MAX_AGE_MS;
  if (Math.abs(now - Number(stamp)) > maxAge) return reject(401, 'stale', 'the notification is too old');
  const received = absoluteUrl(request);
  if (!received) return reject(400, 'malformed', 'the notification URL cannot be read');
  const signedAt = secrets.monitoringUrl ?? received.toString();
  const params: Record<string, string> = {};
  for (const [name, value] of received.searchParams) params[name] = value;
  for (const [name, value] of Object.entries(fields)) if (name !== 'oauth_signature') params[name] = value;
  const expected = signature(baseString('GET', signedAt, params), consumerSecret, account.accessSecret);
  if (!sameSignature(expected, fields.oauth_signature))
    return reject(401, 'forged', 'the signature does not match');
  // Only a genuine notification may spend a nonce.
  if (replay.check(`${key}\n${nonce}`, now))
    return reject(401, 'replayed', 'this notification was seen before');
  const moduleText = received.searchParams.get('module_id');
  if (moduleText === null || !/^-?\d+$/.test(moduleText)) {
    return reject(400, 'bad-module', 'the notification names no module_id');
  }
  const moduleId = Number(moduleText);
  const who = {
    account: vitaDockAccount(secrets.consumerKey, account.accessToken),
    ...(account.name ? { name: account.name } : {}),
  };
  if (moduleId === REVOKED_PUSH_ID)
    return { ok: true, action: 'reauthorize', moduleId, ...who, error: revokedError() };
  return { ok: true, action: 'sync', moduleId, module: MODULE_BY_PUSH_ID[moduleId] ?? null, ...who };
}

function header(request: IncomingPush, name: string): string | undefined {
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

function absoluteUrl(request: IncomingPush): URL | undefined {
  if (/^https?:\/\//i.test(request.url)) return new URL(request.url);
  const host = header(request, 'host');
  return host ? new URL(request.url, `http://${host}`) : undefined;
}
