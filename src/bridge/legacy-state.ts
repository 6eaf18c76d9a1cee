import type { AccountConfig } from './config';

/**
 * The state file of release 0.1 (`{"sessions": {<account name>: session}, "subjects": {…}}`) as entries by
 * account key, so the first start after an upgrade keeps its sessions (no login storm, no new login per
 * account). Its subject keys carried no ids and are left to be found again.
 */
export function legacyBridgeState(
  root: Record<string, unknown>,
  accounts: readonly AccountConfig[],
  keys: readonly string[],
): Record<string, unknown> | undefined {
  const sessions = root.sessions;
  if (typeof sessions !== 'object' || sessions === null || Array.isArray(sessions)) return undefined;
  const byName = sessions as Record<string, unknown>;
  const entries: Record<string, unknown> = {};
  accounts.forEach((account, index) => {
    const session = byName[account.name];
    if (session !== undefined) entries[keys[index]!] = { session };
  });
  return entries;
}
