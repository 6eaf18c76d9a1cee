import { createHash } from 'node:crypto';
import type { SessionState } from '../provider';

/** What the client keeps of a login: the bearer token, its expiry and whose it is. */
export interface LibreSession {
  token: string;
  /** Epoch seconds, as the service writes it. */
  expires: number;
  userId: string;
  /** SHA-256 hex of `userId`: the `Account-Id` header of every authenticated call. */
  accountId: string;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The persisted-state key of an account: a hash, so the e-mail itself is never stored with it. */
export function accountKey(email: string): string {
  return sha256Hex(email.trim().toLowerCase());
}

export function makeSession(token: string, expires: number, userId: string): LibreSession {
  return { token, expires, userId, accountId: sha256Hex(userId) };
}

export function isUsable(session: LibreSession, nowMs: number, marginMs: number): boolean {
  return session.expires * 1000 > nowMs + marginMs;
}

export function toState(session: LibreSession, account: string, region: string): SessionState {
  return {
    provider: 'librelinkup',
    account,
    data: { token: session.token, expires: session.expires, userId: session.userId, region },
  };
}

/** A stored state back as a session, when it belongs to this account and is complete. */
export function fromState(
  state: SessionState | undefined,
  account: string,
): { session: LibreSession; region?: string } | undefined {
  if (!state || state.provider !== 'librelinkup' || state.account !== account) return undefined;
  const { token, expires, userId, region } = state.data;
  if (typeof token !== 'string' || typeof userId !== 'string' || typeof expires !== 'number')
    return undefined;
  if (token === '' || userId === '') return undefined;
  return {
    session: makeSession(token, expires, userId),
    ...(typeof region === 'string' ? { region } : {}),
  };
}
