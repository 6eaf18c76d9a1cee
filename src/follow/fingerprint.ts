import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SourceConfig } from '../config';

/** Settings that do not change what is sent at login: changing them does not lift a refusal. */
const NOT_CREDENTIALS = new Set([
  'name',
  'timeoutMs',
  'patient',
  'module',
  'units',
  'thresholds',
  'staleMinutes',
]);

/**
 * Everything that makes a login attempt what it is: the provider, where it goes (region, server) and
 * what it sends (username, password, account id, tokens, accepting terms). Correcting any of them
 * (the region is the usual culprit at Dexcom) makes a new attempt worth it.
 */
function credentialMaterial(config: SourceConfig): string {
  const entries = Object.entries(config)
    .filter(([key, value]) => !NOT_CREDENTIALS.has(key) && value !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(entries);
}

export function newSalt(): string {
  return randomBytes(16).toString('hex');
}

/** HMAC-SHA256 of the credentials under a random salt: the same credentials give the same hex, and nothing more. */
export function credentialFingerprint(config: SourceConfig, salt: string): string {
  return createHmac('sha256', salt).update(credentialMaterial(config)).digest('hex');
}

/** Whether `fingerprint` was made from these credentials. */
export function sameCredentials(config: SourceConfig, salt: string, fingerprint: string): boolean {
  const expected = Buffer.from(credentialFingerprint(config, salt), 'hex');
  const given = Buffer.from(fingerprint, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}
