import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbeddedBroker } from '../../src/bridge/broker';
import { parseBridgeConfig } from '../../src/bridge/config';
import { Bridge } from '../../src/bridge/runner';
import type { GlucoseReading } from '../../src/model/reading';
import { silentLogger, type Logger } from '../../src/model/logger';
import { DEXCOM_DEMO_ACCOUNTS, LIBRE_DEMO_ACCOUNTS, VITADOCK_DEMO } from '../../src/simulator';
import type { Simulator } from '../../src/simulator/server';
import { CLI_FROM_SOURCES, ROOT, startProcess } from '../process';
import { until } from '../until';
import { useBridgeRig, watchBroker } from './helpers';

const SAM = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'ous')!;
const SMITHS = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('smiths@'))!;

describe('the bridge over the account follower (issue cases, real broker)', function () {
  this.timeout(90_000);
  let sim: Simulator;
  let broker: EmbeddedBroker;
  let dir: string;

  useBridgeRig('gb-follow-', (rig) => ({ sim, broker, dir } = rig));

  const samAccount = (password: string) => ({
    name: 'Sam',
    provider: 'dexcom',
    region: 'ous',
    server: `${sim.urlFor('dexcom')}/ous`,
    username: SAM.username,
    password,
  });

  /** Runs `glucobridge bridge --config FILE` as a process until `ready` sees what it waits for, then SIGTERM. */
  async function runBridgeProcess(
    file: string,
    ready: (last: Map<string, string>) => boolean,
  ): Promise<string> {
    const mqtt = await watchBroker(broker.url);
    const proc = startProcess([...CLI_FROM_SOURCES, 'bridge', '--config', file], { cwd: ROOT });
    try {
      // Retained topics of the run before are on the broker already: wait for this run to be up too.
      await until(
        () => `the bridge (${proc.output()})`,
        () => proc.output().includes('publishing to') && ready(mqtt.last),
        30_000,
      );
      proc.child.kill('SIGTERM');
      expect(await proc.exited).to.equal(0);
      return proc.output();
    } finally {
      proc.child.kill('SIGKILL');
      await mqtt.client.endAsync(true);
    }
  }

  it('sends a refused password once across three restarts, and once more after it is corrected', async () => {
    const file = join(dir, 'glucobridge.json');
    const write = (password: string) =>
      writeFileSync(file, JSON.stringify({ mqtt: { url: broker.url }, accounts: [samAccount(password)] }));
    const refused = (last: Map<string, string>) =>
      (last.get('glucobridge/sam/problem') ?? '').includes('AUTH_INVALID');
    write('a-wrong-password');
    const logs: string[] = [];
    for (let run = 0; run < 3; run += 1) logs.push(await runBridgeProcess(file, refused));
    expect(sim.requests('AuthenticatePublisherAccount')).to.have.length(1);
    // The account was never locked by us; each start says why it does not log in, without the secret.
    expect(logs[2]).to.match(/AUTH_INVALID: .*refused at .*not sent again until it changes/);
    for (const log of logs) {
      expect(log).not.to.include('a-wrong-password');
      // The account is named once per line: "[Sam] AUTH_INVALID …", never "[Sam] Sam: …".
      expect(log).to.match(/\[Sam\] AUTH_INVALID/);
      expect(log).not.to.match(/\[Sam\] Sam:/);
    }

    write(SAM.password);
    await runBridgeProcess(file, (last) => last.has('glucobridge/sam/state'));
    expect(sim.requests('AuthenticatePublisherAccount')).to.have.length(2);
  });

  function bridge(
    accounts: unknown[],
    onReading?: (key: string, reading: GlucoseReading) => void,
    logger: Logger = silentLogger,
  ) {
    return new Bridge(parseBridgeConfig({ mqtt: { url: broker.url }, accounts }, {}), {
      logger,
      stateFile: join(dir, 'state.json'),
      ...(onReading ? { onReading } : {}),
    });
  }

  const smiths = (patient: string) => ({
    name: 'Anna',
    provider: 'librelinkup',
    server: `${sim.urlFor('librelinkup')}/{region}`,
    username: SMITHS.email,
    password: SMITHS.password,
    patient,
  });

  it('never publishes another child: "Anna Smyth" is a problem naming who is followed, not Ben', async () => {
    const mqtt = await watchBroker(broker.url);
    const seen: string[] = [];
    const said: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => said.push(m), error: (m: string) => said.push(m) };
    const wrong = bridge([smiths('Anna Smyth')], (_key, reading) => seen.push(reading.subject), logger);
    try {
      await wrong.start();
      const problem = await until('the problem', () => mqtt.last.get('glucobridge/anna/problem'));
      expect(JSON.parse(problem)).to.include({ problem: true, code: 'NOT_FOUND' });
      expect(said.join('\n')).to.include('Ben Smith').and.include('Anna Smith');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(seen).to.deep.equal([]);
      expect(mqtt.last.has('glucobridge/anna/state')).to.equal(false);
    } finally {
      await wrong.stop();
    }
    const right = bridge([smiths('anna')], (_key, reading) => seen.push(reading.subject));
    try {
      await right.start();
      await until("Anna's state", () => mqtt.last.get('glucobridge/anna/state'));
      expect(new Set(seen)).to.deep.equal(new Set([SMITHS.patients[1]!.patientId]));
      // The problem left retained by the run before clears once a reading came.
      await until('the problem cleared', () =>
        (mqtt.last.get('glucobridge/anna/problem') ?? '').includes('"problem":false'),
      );
    } finally {
      await right.stop();
      await mqtt.client.endAsync(true);
    }
  });

  it('gives a spot-check meter no expire_after: it is never unavailable for not measuring', async () => {
    const mqtt = await watchBroker(broker.url);
    const oma = bridge([
      {
        name: 'Oma',
        provider: 'vitadock',
        server: sim.urlFor('vitadock'),
        consumerKey: VITADOCK_DEMO.consumerKey,
        consumerSecret: VITADOCK_DEMO.consumerSecret,
        accessToken: VITADOCK_DEMO.accessToken,
        accessSecret: VITADOCK_DEMO.accessSecret,
      },
      samAccount(SAM.password),
    ]);
    try {
      await oma.start();
      await until(
        'both states and configs',
        () =>
          mqtt.last.has('glucobridge/oma/state') &&
          mqtt.last.has('glucobridge/sam/state') &&
          mqtt.last.has('homeassistant/sensor/glucobridge_oma/glucose/config') &&
          mqtt.last.has('homeassistant/sensor/glucobridge_sam/glucose/config'),
      );
      const glucoseConfig = (key: string) =>
        JSON.parse(mqtt.last.get(`homeassistant/sensor/glucobridge_${key}/glucose/config`)!) as Record<
          string,
          unknown
        >;
      expect(glucoseConfig('oma')).not.to.have.property('expire_after');
      expect(glucoseConfig('sam')).to.have.property('expire_after', 15 * 60);
      expect(JSON.parse(mqtt.last.get('glucobridge/oma/state')!)).to.include({ stale: false });
    } finally {
      await oma.stop();
      await mqtt.client.endAsync(true);
    }
  });

  it('publishes a name written in Cyrillic under a transliterated topic, keeping the name Home Assistant shows', async () => {
    const mqtt = await watchBroker(broker.url);
    const maria = bridge([{ ...samAccount(SAM.password), name: 'Мария' }]);
    try {
      await maria.start();
      await until('her state', () => mqtt.last.get('glucobridge/mariya/state'));
      await until('her config', () =>
        mqtt.last.get('homeassistant/sensor/glucobridge_mariya/glucose/config'),
      );
      const config = JSON.parse(mqtt.last.get('homeassistant/sensor/glucobridge_mariya/glucose/config')!) as {
        device: { name: string };
      };
      expect(config.device.name).to.equal('Мария');
    } finally {
      await maria.stop();
      await mqtt.client.endAsync(true);
    }
  });

  it('publishes each discovery config once at start, and the bridge device with the accounts it follows', async () => {
    const { client, counts, last } = await watchBroker(broker.url);
    const two = bridge([samAccount(SAM.password), { ...smiths('Ben'), name: 'Ben' }]);
    try {
      await two.start();
      await until(
        'both states',
        () => last.has('glucobridge/sam/state') && last.has('glucobridge/ben/state'),
      );
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const configs = [...counts].filter(([topic]) => topic.endsWith('/config'));
      expect(configs.length).to.be.greaterThan(10);
      expect(configs.filter(([, n]) => n > 1)).to.deep.equal([]);
      const bridgeState = JSON.parse(last.get('glucobridge/bridge/state')!) as {
        accounts: number;
        lastError: unknown;
      };
      expect(bridgeState).to.include({ accounts: 2, lastError: null });
      const glucose = JSON.parse(last.get('homeassistant/sensor/glucobridge_sam/glucose/config')!) as {
        device: { via_device?: string };
      };
      expect(glucose.device.via_device).to.be.a('string');
    } finally {
      await two.stop();
      await client.endAsync(true);
    }
  });
});
