import type { NightscoutDestinationInput, SourceConfigInput } from '../config';
import type { SimClock } from './clock';
import { DEXCOM_DEMO_ACCOUNTS, DexcomSimulator } from './dexcom';
import { LIBRE_DEMO_ACCOUNTS, LibreLinkUpSimulator } from './librelinkup';
import { NIGHTSCOUT_DEMO_SITES, NightscoutSimulator } from './nightscout';
import { Simulator } from './server';
import { VITADOCK_DEMO, VitaDockSimulator } from './vitadock';

export { Simulator } from './server';
export { DexcomSimulator, DEXCOM_DEMO_ACCOUNTS } from './dexcom';
export { LibreLinkUpSimulator, LIBRE_DEMO_ACCOUNTS } from './librelinkup';
export { NightscoutSimulator, NIGHTSCOUT_DEMO_SITES } from './nightscout';
export { VitaDockSimulator, VITADOCK_DEMO } from './vitadock';
export { compressedClock, systemClock, type SimClock } from './clock';

/** All the clouds (Dexcom, LibreLinkUp, Nightscout sites, VitaDock) with their demo accounts, not yet listening. */
export function createDemoSimulator(options: { clock?: SimClock } = {}): Simulator {
  const clock = options.clock;
  return new Simulator({
    providers: [
      new DexcomSimulator(),
      new LibreLinkUpSimulator(),
      new NightscoutSimulator(),
      new VitaDockSimulator(clock ? { clock } : {}),
    ],
    ...(clock ? { clock } : {}),
  });
}

export interface DemoAccount {
  name: string;
  source: SourceConfigInput;
  /** Where the account's readings are also uploaded (a demo Nightscout site). */
  nightscout?: NightscoutDestinationInput;
}

/**
 * One account per cloud on a listening demo simulator: what `glucobridge bridge --demo` follows.
 * The passwords are the simulator's obviously fake demo ones.
 */
export function demoAccounts(simulator: Simulator): DemoAccount[] {
  const dexcom = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'ous') ?? DEXCOM_DEMO_ACCOUNTS[0];
  const libre = LIBRE_DEMO_ACCOUNTS[0];
  const accounts: DemoAccount[] = [];
  const site = (name: string) => NIGHTSCOUT_DEMO_SITES.find((s) => s.site === name);
  const token = (name: string, role: 'readable' | 'admin') =>
    site(name)?.tokens.find((t) => t.roles.includes(role))?.token;
  const relay = token('relay', 'admin');
  if (dexcom) {
    accounts.push({
      name: dexcom.name ?? 'Dexcom demo',
      source: {
        provider: 'dexcom',
        region: dexcom.region,
        server: `${simulator.urlFor('dexcom')}/${dexcom.region}`,
        username: dexcom.username,
        password: dexcom.password,
      },
      // The relay: the Dexcom readings also go to an empty Nightscout site.
      ...(relay ? { nightscout: { server: `${simulator.urlFor('nightscout')}/relay`, token: relay } } : {}),
    });
  }
  if (libre) {
    accounts.push({
      name: 'Libre family',
      source: {
        provider: 'librelinkup',
        server: `${simulator.urlFor('librelinkup')}/{region}`,
        username: libre.email,
        password: libre.password,
      },
    });
  }
  const noah = token('noah', 'readable');
  if (noah) {
    accounts.push({
      name: 'Noah',
      source: { provider: 'nightscout', server: `${simulator.urlFor('nightscout')}/noah`, token: noah },
    });
  }
  accounts.push({
    name: 'Vitadock demo',
    source: {
      provider: 'vitadock',
      server: simulator.urlFor('vitadock'),
      consumerKey: VITADOCK_DEMO.consumerKey,
      consumerSecret: VITADOCK_DEMO.consumerSecret,
      accessToken: VITADOCK_DEMO.accessToken,
      accessSecret: VITADOCK_DEMO.accessSecret,
    },
  });
  return accounts;
}
