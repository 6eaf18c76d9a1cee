import { expect } from 'chai';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbeddedBroker } from '../../src/bridge/broker';
import { parseBridgeConfig } from '../../src/bridge/config';
import { Bridge } from '../../src/bridge/runner';
import { HttpTransport } from '../../src/http/transport';
import { silentLogger } from '../../src/model/logger';
import { DEXCOM_DEMO_ACCOUNTS, LIBRE_DEMO_ACCOUNTS, VITADOCK_DEMO } from '../../src/simulator';
import type { Simulator } from '../../src/simulator/server';
import { runCli } from '../cli/helpers';
import { CLI_FROM_SOURCES, ROOT, startProcess } from '../process';
import { until } from '../until';
import { useBridgeRig, watchBroker } from './helpers';

const OUS = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'ous')!;
const LIBRE = LIBRE_DEMO_ACCOUNTS[1]!; // one patient

/** Every message on the broker, reconnecting every 200 ms (the --demo process takes its broker with it). */
const watch = (url: string) => watchBroker(url, { reconnectPeriod: 200 });

describe('glucobridge bridge (end to end against the simulator)', function () {
  this.timeout(40_000);
  let sim: Simulator;
  let broker: EmbeddedBroker;
  let dir: string;

  useBridgeRig('gb-bridge-', (rig) => ({ sim, broker, dir } = rig));

  function config(accounts: unknown[]) {
    return parseBridgeConfig({ mqtt: { url: broker.url }, units: 'mmol', accounts }, {});
  }

  const dexcomAccount = (password = OUS.password) => ({
    name: 'Anna',
    provider: 'dexcom',
    region: 'ous',
    server: `${sim.urlFor('dexcom')}/ous`,
    username: OUS.username,
    password,
  });
  const libreAccount = () => ({
    name: 'Ben',
    provider: 'librelinkup',
    server: `${sim.urlFor('librelinkup')}/{region}`,
    username: LIBRE.email,
    password: LIBRE.password,
    units: 'mgdl',
  });

  it('publishes two providers with Home Assistant discovery, retained, in each account’s unit', async () => {
    const mqtt = await watch(broker.url);
    const bridge = new Bridge(config([dexcomAccount(), libreAccount()]), {
      logger: silentLogger,
      stateFile: join(dir, 'state.json'),
    });
    try {
      await bridge.start();
      const anna = JSON.parse(await mqtt.waitFor('glucobridge/anna/state')) as Record<string, unknown>;
      expect(anna).to.include({ provider: 'dexcom', unit: 'mmol/L' });
      expect(anna.value).to.equal(anna.mmol);
      const ben = JSON.parse(await mqtt.waitFor('glucobridge/ben/state')) as Record<string, unknown>;
      expect(ben).to.include({ provider: 'librelinkup', unit: 'mg/dL' });
      expect(ben.value).to.equal(ben.mgdl);
      expect(await mqtt.waitFor('glucobridge/ben/glucose')).to.equal(String(ben.mgdl));
      // Readings go out at once; discovery follows the publisher's look at the retained topics.
      await mqtt.waitFor('homeassistant/sensor/glucobridge_anna/glucose/config');
      const glucose = Object.fromEntries(
        [...mqtt.last].filter(
          ([topic]) => topic.startsWith('homeassistant/sensor/') && topic.includes('anna'),
        ),
      );
      const config = Object.values(glucose)
        .map((p) => JSON.parse(p) as Record<string, unknown>)
        .find((p) => p.device_class === 'blood_glucose_concentration');
      expect(config).to.include({ unit_of_measurement: 'mmol/L', state_class: 'measurement' });
      // A client arriving later gets the state at once: it is retained.
      const late = await watch(broker.url);
      await late.waitFor('glucobridge/anna/state');
      expect(late.retained.get('glucobridge/anna/state')).to.equal(true);
      expect(late.retained.get('glucobridge/ben/glucose')).to.equal(true);
      await late.client.endAsync();
      expect(await mqtt.waitFor('glucobridge/status')).to.equal('online');
      // The session is kept for the next start, readable only by its owner.
      const state = statSync(join(dir, 'state.json'));
      expect(state.mode & 0o777).to.equal(0o600);
      const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
        version: number;
        accounts: Record<string, { session?: { provider: string } }>;
      };
      expect(saved.version).to.equal(2);
      expect(Object.values(saved.accounts).map((a) => a.session?.provider)).to.have.members([
        'dexcom',
        'librelinkup',
      ]);
    } finally {
      await bridge.stop();
      await mqtt.client.endAsync();
    }
    expect(mqtt.last.get('glucobridge/status')).to.equal('offline');
  });

  it('does not log in again after a restart: the saved session is reused', async () => {
    const run = async () => {
      let read: () => void = () => undefined;
      const first = new Promise<void>((resolve) => (read = resolve));
      const bridge = new Bridge(config([dexcomAccount()]), {
        logger: silentLogger,
        stateFile: join(dir, 'state.json'),
        onReading: () => read(),
      });
      await bridge.start();
      await first;
      await bridge.stop();
    };
    await run();
    await run();
    expect(sim.requests('LoginPublisherAccountById')).to.have.length(1);
    expect(sim.requests('ReadPublisherLatestGlucoseValues').length).to.be.at.least(2);
  });

  it('shows a wrong password to Home Assistant, tries it once, and keeps the other account running', async () => {
    const mqtt = await watch(broker.url);
    const bridge = new Bridge(config([dexcomAccount('Not-The-Password-99'), libreAccount()]), {
      logger: silentLogger,
      stateFile: join(dir, 'state.json'),
      clientOptions: { transport: new HttpTransport({ timeoutMs: 3_000 }) },
    });
    try {
      await bridge.start();
      const problem = JSON.parse(
        await mqtt.waitFor('glucobridge/anna/problem', (p) => p.includes('AUTH_INVALID')),
      ) as Record<string, unknown>;
      expect(problem).to.include({ problem: true, code: 'AUTH_INVALID' });
      await mqtt.waitFor('glucobridge/ben/state');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(sim.requests('/dexcom/').length + sim.requests('/General/').length).to.be.at.most(1);
      const everything = [...mqtt.last.values()].join('\n');
      expect(everything).not.to.contain('Not-The-Password-99');
      expect(everything).not.to.contain(OUS.username);
      expect(everything).not.to.contain(LIBRE.email);
    } finally {
      await bridge.stop();
      await mqtt.client.endAsync();
    }
  });

  it('removes the entities of an account dropped from the configuration', async () => {
    const seen = new Set<string>();
    let both: () => void = () => undefined;
    const bothRead = new Promise<void>((resolve) => (both = resolve));
    const first = new Bridge(config([dexcomAccount(), libreAccount()]), {
      logger: silentLogger,
      stateFile: join(dir, 's.json'),
      onReading: (key) => {
        seen.add(key);
        if (seen.size === 2) both();
      },
    });
    await first.start();
    await bothRead;
    await first.stop();
    const mqtt = await watch(broker.url);
    const benTopics = () =>
      [...mqtt.last].filter(([t, p]) => t.startsWith('homeassistant/') && t.includes('ben') && p !== '');
    await mqtt.waitFor('glucobridge/ben/state');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(benTopics().length).to.be.greaterThan(3);
    const second = new Bridge(config([dexcomAccount()]), {
      logger: silentLogger,
      stateFile: join(dir, 's.json'),
    });
    try {
      await second.start();
      const deadline = Date.now() + 10_000;
      while (benTopics().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(benTopics()).to.deep.equal([]);
      expect(mqtt.last.get('glucobridge/anna/state')).to.be.a('string');
    } finally {
      await second.stop();
      await mqtt.client.endAsync();
    }
  });

  it('publishes a VitaDock account’s glucose and its weight, blood pressure and temperature', async () => {
    const mqtt = await watch(broker.url);
    const bridge = new Bridge(
      config([
        {
          name: 'Oma',
          provider: 'vitadock',
          server: sim.urlFor('vitadock'),
          consumerKey: VITADOCK_DEMO.consumerKey,
          consumerSecret: VITADOCK_DEMO.consumerSecret,
          accessToken: VITADOCK_DEMO.accessToken,
          accessSecret: VITADOCK_DEMO.accessSecret,
        },
      ]),
      { logger: silentLogger, stateFile: join(dir, 'vita.json') },
    );
    try {
      await bridge.start();
      const glucose = JSON.parse(await mqtt.waitFor('glucobridge/oma/state')) as Record<string, unknown>;
      expect(glucose).to.include({ provider: 'vitadock' });
      const weight = JSON.parse(await mqtt.waitFor('glucobridge/oma/weight')) as Record<string, unknown>;
      expect(weight.weightKg).to.be.within(20, 300);
      const pressure = JSON.parse(await mqtt.waitFor('glucobridge/oma/blood_pressure')) as Record<
        string,
        unknown
      >;
      expect(pressure.systolic).to.be.within(60, 250);
      expect(pressure.diastolic).to.be.below(pressure.systolic as number);
      const temperature = JSON.parse(await mqtt.waitFor('glucobridge/oma/temperature')) as Record<
        string,
        unknown
      >;
      expect(temperature.celsius).to.be.within(34, 42);
      await mqtt.waitFor('homeassistant/sensor/glucobridge_oma/weight/config');
      const configs = [...mqtt.last.keys()].filter(
        (t) => t.startsWith('homeassistant/') && t.includes('oma'),
      );
      expect(configs.some((t) => /weight/.test(t))).to.equal(true);
      expect(configs.some((t) => /systolic|blood_pressure/.test(t))).to.equal(true);
      expect(configs.some((t) => /temperature/.test(t))).to.equal(true);
      const everything = [...mqtt.last.values()].join('\n');
      expect(everything).not.to.contain(VITADOCK_DEMO.accessToken);
      expect(everything).not.to.contain(VITADOCK_DEMO.consumerSecret);
    } finally {
      await bridge.stop();
      await mqtt.client.endAsync();
    }
  });

  it('keeps the patients of a family account when its login fails at the next start', async () => {
    const family = LIBRE_DEMO_ACCOUNTS[0]!;
    const account = {
      name: 'Family',
      provider: 'librelinkup',
      server: `${sim.urlFor('librelinkup')}/{region}`,
      username: family.email,
      password: family.password,
    };
    const keys = new Set<string>();
    let both: () => void = () => undefined;
    const bothRead = new Promise<void>((resolve) => (both = resolve));
    const first = new Bridge(config([account]), {
      logger: silentLogger,
      stateFile: join(dir, 'family.json'),
      onReading: (key) => {
        keys.add(key);
        if (keys.size === 2) both();
      },
    });
    await first.start();
    await bothRead;
    await first.stop();
    // An account that follows two people gives each their own device, named after them.
    expect([...keys].sort()).to.deep.equal(['leo_sample', 'mia_sample']);
    // Next start: the cloud is down, and the session is gone with it.
    sim.faults.add({ kind: 'status', status: 503, provider: 'librelinkup', times: Infinity });
    const second = new Bridge(config([account]), {
      logger: silentLogger,
      stateFile: join(dir, 'family.json'),
      clientOptions: { transport: new HttpTransport({ timeoutMs: 2_000 }) },
    });
    try {
      await second.start();
      const mqtt = await watch(broker.url);
      // The people known from the last run carry the problem; no stand-in device is made.
      await mqtt.waitFor('glucobridge/leo_sample/problem', (p) => p.includes('SERVER'));
      await mqtt.waitFor('glucobridge/mia_sample/problem', (p) => p.includes('SERVER'));
      expect(mqtt.last.has('glucobridge/family/problem')).to.equal(false);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      for (const key of keys) {
        const configs = [...mqtt.last].filter(
          ([t, p]) => t.startsWith('homeassistant/') && t.includes(key) && p !== '',
        );
        expect(configs.length, key).to.be.greaterThan(3);
      }
      await mqtt.client.endAsync();
    } finally {
      await second.stop();
    }
  });

  it('gives a clear message and status 2 for a bad configuration file', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ accounts: [{ name: 'A', provider: 'dexcom', region: 'eu', password: 'pw' }] }),
    );
    const run = await runCli(['bridge', '--config', file]);
    expect(run.code).to.equal(2);
    expect(run.stderr).to.contain(
      'CONFIG: accounts[0].region: region must be us, ous (outside the US) or jp',
    );
    expect(run.stderr).to.contain('hint: ');
    const missing = await runCli(['bridge', '--config', join(dir, 'none.json')]);
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.contain('no such file');
  });
});

describe('glucobridge bridge --demo (a real process)', function () {
  this.timeout(40_000);

  it('publishes readings within seconds and goes offline cleanly on SIGTERM', async () => {
    const demo = startProcess([...CLI_FROM_SOURCES, 'bridge', '--demo', '--broker-port', '0'], { cwd: ROOT });
    try {
      const started = Date.now();
      const url = await until(
        () => `the embedded broker's address:\n${demo.output()}`,
        () => /embedded MQTT broker listening on (mqtt:\/\/\S+)/.exec(demo.output())?.[1],
        20_000,
        100,
      );
      const mqtt = await watch(url);
      const state = JSON.parse(await mqtt.waitFor('glucobridge/sam/state')) as Record<string, unknown>;
      expect(state.mgdl).to.be.a('number');
      expect(Date.now() - started).to.be.below(20_000);
      expect(demo.output()).to.match(/sam: \d+ mg\/dL/);
      // The demo serves its status page on loopback and says where (another port when 8780 is taken).
      const page = /status page on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(demo.output())?.[1];
      expect(page, demo.output()).to.be.a('string');
      expect((await fetch(`${page}healthz`)).status).to.be.oneOf([200, 503]);
      demo.child.kill('SIGTERM');
      const stopAsked = Date.now();
      const code = await demo.exited;
      expect(code).to.equal(0);
      expect(Date.now() - stopAsked).to.be.below(5_000);
      await mqtt.waitFor('glucobridge/status', (p) => p === 'offline', 1_000).catch(() => undefined);
      await mqtt.client.endAsync(true);
    } finally {
      demo.child.kill('SIGKILL');
    }
  });
});
