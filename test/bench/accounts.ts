// Simulated Dexcom people for the benchmarks.
import type { DexcomSimAccount } from '../../src/simulator/dexcom';

const FIVE_MINUTES = 5 * 60_000;

/**
 * `count` simulated Dexcom people (`ous`), alternately steady and brittle. `tag` keeps one benchmark's
 * user names, account ids and names its own; `spread` starts their sensors at moments spread over the
 * five minutes, so their readings are too.
 */
export function benchAccounts(
  count: number,
  tag: { user: string; id: string; name: string },
  spread = false,
): DexcomSimAccount[] {
  return Array.from({ length: count }, (_, i) => ({
    username: `${tag.user}-${i}`,
    password: `${tag.user}-password-${i}`,
    accountId: `${tag.id}-0000-4000-8000-${String(i).padStart(12, '0')}`,
    region: 'ous' as const,
    name: `${tag.name} ${i}`,
    profile: i % 2 === 0 ? ('steady' as const) : ('brittle' as const),
    ...(spread ? { phaseMs: Math.floor((i * FIVE_MINUTES) / Math.max(1, count)) % FIVE_MINUTES } : {}),
  }));
}

/** These people as the bridge configuration's `accounts`, on the simulator at `url`. */
export function bridgeAccounts(accounts: DexcomSimAccount[], url: string): Record<string, unknown>[] {
  return accounts.map((a) => ({
    name: a.name,
    provider: 'dexcom',
    region: 'ous',
    server: `${url}/dexcom/ous`,
    username: a.username,
    password: a.password,
  }));
}
