import { createHash } from 'node:crypto';

/**
 * The stable id of an account in the state store and in Homebridge UUIDs: a hash of the provider and
 * the login (username, account id, application key or site), so that fixing a region, a server or a
 * password keeps the key, and with it the user's stored state, accessories and automations.
 */
export function accountKey(provider: string | undefined, fields: Record<string, unknown>): string {
  const login = [fields.username, fields.accountId, fields.consumerKey, fields.server].find(
    (v): v is string => typeof v === 'string' && v.trim() !== '',
  );
  const material = `${provider ?? '?'}\n${(login ?? '').trim().toLowerCase()}`;
  return createHash('sha256').update(material).digest('hex').slice(0, 16);
}
