// Nightscout through the stand-alone bridge: sites as sources (MQTT state and Home Assistant discovery
// like the other clouds, on a real broker) and the `nightscout` block of an account as a destination.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbeddedBroker } from '../../src/bridge/broker';
import { parseBridgeConfig } from '../../src/bridge/config';
import { Bridge } from '../../src/bridge/runner';
import { silentLogger } from '../../src/model/logger';
import { demoAccounts, LIBRE_DEMO_ACCOUNTS } from '../../src/simulator';
import type { NightscoutSimulator } from '../../src/simulator/nightscout';
import type { Simulator } from '../../src/simulator/server';
import { demoSite, readToken, uploadToken } from '../providers/nightscout/helpers';
import { configError, useBridgeRig, watchBroker } from './helpers';

describe('Nightscout in the bridge (simulated sites, real broker)', function () {
  this.timeout(40_000);
  let sim: Simulator;
  let nightscout: NightscoutSimulator;
  let broker: EmbeddedBroker;
  let dir: string;
  const site = (name: string) => `${sim.urlFor('nightscout')}/${name}`;

  useBridgeRig('gb-ns-bridge-', (rig) => {
    ({ sim, broker, dir } = rig);
    nightscout = sim.providers.find((p) => p.provider === 'nightscout') as NightscoutSimulator;
  });

  it('publishes each site like any cloud: v1 with a token, a readable site, two uploaders, v3', async () => {
    const config = parseBridgeConfig(
      {
        mqtt: { url: broker.url },
        accounts: [
          { name: 'Mia', provider: 'nightscout', server: site('mia'), token: { env: 'MIA' }, units: 'mmol' },
          { name: 'Leo', provider: 'nightscout', server: site('leo') },
          {
            name: 'Noah',
            provider: 'nightscout',
            server: site('noah'),
            apiSecret: demoSite('noah').apiSecret,
          },
          {
            name: 'Mia three',
            provider: 'nightscout',
            server: site('mia'),
            token: readToken('mia'),
            api: 'v3',
          },
        ],
      },
      { MIA: readToken('mia') },
    );
    const mqtt = await watchBroker(broker.url);
    const bridge = new Bridge(config, { logger: silentLogger, stateFile: join(dir, 'state.json') });
    try {
      await bridge.start();
      const states = Object.fromEntries(
        await Promise.all(
          ['mia', 'leo', 'noah', 'mia_three'].map(
            async (slug) =>
              [
                slug,
                JSON.parse(await mqtt.waitFor(`glucobridge/${slug}/state`)) as Record<string, unknown>,
              ] as const,
          ),
        ),
      );
      for (const state of Object.values(states)) {
        expect(state).to.include({ provider: 'nightscout', stale: false });
        expect(Date.now() - Date.parse(state.time as string)).to.be.within(0, 6 * 60_000);
      }
      expect(states.mia).to.include({ unit: 'mmol/L', value: states.mia!.mmol });
      expect(states.leo).to.include({ unit: 'mg/dL', value: states.leo!.mgdl });
      // One site read over v1 and v3 is the same reading.
      expect(states.mia_three).to.include({ mgdl: states.mia!.mgdl, time: states.mia!.time });
      expect(await mqtt.waitFor('glucobridge/leo/glucose')).to.equal(String(states.leo!.mgdl));

      const discovery = (slug: string) =>
        [...mqtt.last]
          .filter(([topic]) => topic.startsWith(`homeassistant/sensor/glucobridge_${slug}/`))
          .map(([, payload]) => JSON.parse(payload) as Record<string, unknown>);
      await mqtt.waitFor('homeassistant/sensor/glucobridge_mia_three/glucose/config');
      const glucose = discovery('mia').find((c) => c.device_class === 'blood_glucose_concentration')!;
      expect(glucose).to.include({ unit_of_measurement: 'mmol/L', state_class: 'measurement' });
      expect(glucose.device).to.deep.include({
        manufacturer: 'Nightscout',
        model: 'Nightscout site',
        name: 'Mia',
      });
      expect(discovery('leo').find((c) => c.device_class === 'blood_glucose_concentration')).to.include({
        unit_of_measurement: 'mg/dL',
      });
      const everything = [...mqtt.last.values()].join('\n');
      for (const secret of [readToken('mia'), demoSite('noah').apiSecret])
        expect(everything).not.to.contain(secret);
    } finally {
      await bridge.stop();
      await mqtt.client.endAsync();
    }
  });

  it('shows a refused token as AUTH_INVALID on the site’s device, sent once', async () => {
    const config = parseBridgeConfig(
      {
        mqtt: { url: broker.url },
        accounts: [
          { name: 'Mia', provider: 'nightscout', server: site('mia'), token: 'glucobridge-0000000000000000' },
        ],
      },
      {},
    );
    const mqtt = await watchBroker(broker.url);
    const bridge = new Bridge(config, { logger: silentLogger, stateFile: join(dir, 'state.json') });
    try {
      await bridge.start();
      const problem = JSON.parse(
        await mqtt.waitFor('glucobridge/mia/problem', (p) => p.includes('AUTH_INVALID')),
      ) as Record<string, unknown>;
      expect(problem).to.include({ problem: true, code: 'AUTH_INVALID' });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(sim.requests('/mia/')).to.have.length(1);
    } finally {
      await bridge.stop();
      await mqtt.client.endAsync();
    }
  });

  it('uploads a LibreLinkUp patient to a site over v3, and keeps the position in the state file', async () => {
    const libre = LIBRE_DEMO_ACCOUNTS[1]!; // follows one patient
    const config = parseBridgeConfig(
      {
        mqtt: { url: broker.url },
        accounts: [
          {
            name: 'Ben',
            provider: 'librelinkup',
            server: `${sim.urlFor('librelinkup')}/{region}`,
            username: libre.email,
            password: libre.password,
            nightscout: { server: site('relay'), token: uploadToken('relay'), api: 'v3' },
          },
        ],
      },
      {},
    );
    const mqtt = await watchBroker(broker.url);
    const bridge = new Bridge(config, { logger: silentLogger, stateFile: join(dir, 'state.json') });
    try {
      await bridge.start();
      const state = JSON.parse(await mqtt.waitFor('glucobridge/ben/state')) as { time: string; mgdl: number };
      await bridge.accountRunners[0]!.destinations!.nightscout.flush();
      const uploads = nightscout.uploads('relay');
      expect(uploads.map((u) => [u.api, u.date, u.sgv, u.device])).to.deep.equal([
        ['v3', Date.parse(state.time), state.mgdl, 'glucobridge-librelinkup'],
      ]);
    } finally {
      await bridge.stop();
      await mqtt.client.endAsync();
    }
    const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
      accounts: Record<string, { uploads?: Record<string, number> }>;
    };
    expect(Object.values(Object.values(saved.accounts)[0]!.uploads ?? {})).to.deep.equal([
      nightscout.uploads('relay')[0]!.date,
    ]);
  });

  it('uploads nothing for an account that follows two people, and says why once', async () => {
    const family = LIBRE_DEMO_ACCOUNTS[0]!; // follows Mia and Leo
    const lines: string[] = [];
    const config = parseBridgeConfig(
      {
        mqtt: { url: broker.url },
        accounts: [
          {
            name: 'Family',
            provider: 'librelinkup',
            server: `${sim.urlFor('librelinkup')}/{region}`,
            username: family.email,
            password: family.password,
            nightscout: { server: site('relay'), apiSecret: demoSite('relay').apiSecret },
          },
        ],
      },
      {},
    );
    const mqtt = await watchBroker(broker.url);
    const bridge = new Bridge(config, {
      logger: { ...silentLogger, error: (m) => lines.push(m) },
      stateFile: join(dir, 'state.json'),
    });
    try {
      await bridge.start();
      const slugs = bridge.accountRunners[0]!.keys;
      expect(slugs).to.have.length(2);
      for (const slug of slugs) await mqtt.waitFor(`glucobridge/${slug}/state`);
      await bridge.accountRunners[0]!.follower.pollNow();
      expect(nightscout.uploads('relay')).to.deep.equal([]);
      expect(sim.requests('/relay/')).to.deep.equal([]);
      expect(lines.filter((l) => /Nightscout/.test(l))).to.have.length(1);
      expect(lines[0]).to.match(/CONFIG: this account follows 2 people.*"patient"/);
    } finally {
      await bridge.stop();
      await mqtt.client.endAsync();
    }
  });

  it('the demo follows a Nightscout site and relays the Dexcom account to another', () => {
    const accounts = demoAccounts(sim);
    expect(accounts.find((a) => a.source.provider === 'nightscout')).to.include({ name: 'Noah' });
    const relay = accounts.find((a) => a.nightscout);
    expect(relay?.source.provider).to.equal('dexcom');
    expect(relay?.nightscout).to.include({ server: site('relay'), token: uploadToken('relay') });
  });

  describe('the nightscout block of the configuration', () => {
    const dexcom = {
      name: 'Anna',
      provider: 'dexcom',
      region: 'ous',
      username: 'anna@example.org',
      password: 'not-a-real-password',
    };
    const parse = (nightscout: unknown, account: Record<string, unknown> = dexcom) =>
      parseBridgeConfig(
        { accounts: [{ ...account, nightscout }] },
        { NS_TOKEN: 'uploader-1111222233334444' },
      );

    it('reads server, token from the environment, and api (default v1)', () => {
      const account = parse({ server: 'https://anna.example.org/', token: { env: 'NS_TOKEN' } }).accounts[0]!;
      expect(account.nightscout).to.deep.include({
        server: 'https://anna.example.org',
        token: 'uploader-1111222233334444',
        api: 'v1',
      });
      expect(parse(undefined).accounts[0]!.nightscout).to.equal(undefined);
    });

    it('names the field and the fix for each mistake', () => {
      const cases: [unknown, RegExp][] = [
        [{ token: 'x' }, /accounts\[0\]\.nightscout\.server: server \(the Nightscout site/],
        [{ server: 'anna.example.org', token: 'x' }, /accounts\[0\]\.nightscout\.server: .*https?:\/\//],
        [
          { server: 'https://a.example.org' },
          /accounts\[0\]\.nightscout: uploading needs the site's "apiSecret" or a "token"/,
        ],
        [
          { server: 'https://a.example.org', apiSecret: 'secret-secret', api: 'v3' },
          /nightscout\.token: API v3 needs an access token/,
        ],
        [{ server: 'https://a.example.org', token: 'x', api: 'v2' }, /nightscout\.api: api must be v1 or v3/],
      ];
      for (const [block, message] of cases) {
        const error = configError(() => parse(block));
        expect(error.code).to.equal('CONFIG');
        expect(error.message).to.match(message);
        expect(error.message).not.to.contain('secret-secret');
      }
    });

    it('refuses a destination on a VitaDock meter and a site relayed to itself', () => {
      const vitadock = { name: 'V', provider: 'vitadock', consumerKey: 'k', consumerSecret: 's' };
      expect(
        configError(() => parse({ server: 'https://v.example.org', token: 't' }, vitadock)).message,
      ).to.match(/accounts\[0\]\.nightscout: VitaDock gives meter readings/);
      const mia = { name: 'Mia', provider: 'nightscout', server: 'https://mia.example.org' };
      expect(
        configError(() => parse({ server: 'https://MIA.example.org/', token: 't' }, mia)).message,
      ).to.match(/nightscout\.server: this is the site the account reads/);
    });
  });
});
