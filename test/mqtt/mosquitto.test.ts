// MqttPublisher against Mosquitto, the broker most Home Assistant installations run. The test fails,
// rather than skips, when /usr/sbin/mosquitto is missing: CI installs it.
import { expect } from 'chai';
import { bridgeDiscoveryMessages } from '../../src/mqtt/bridge';
import { discoveryMessages } from '../../src/mqtt/discovery';
import { MqttPublisher } from '../../src/mqtt/publisher';
import { sleep, startMosquitto, subscribe, waitFor, type Mosquitto } from './brokers';
import { ANNA, T0, reading, spyLogger } from './fixtures';

describe('MqttPublisher with Mosquitto', function () {
  this.timeout(15_000);
  let mosquitto: Mosquitto | undefined;
  let publisher: MqttPublisher | undefined;

  afterEach(async () => {
    await publisher?.stop();
    publisher = undefined;
    await mosquitto?.close();
    mosquitto = undefined;
  });

  const timeOf = (payload: string): string => (JSON.parse(payload) as { time: string }).time;

  it('delivers every reading once and in order across a broker restart in the middle of the stream', async () => {
    mosquitto = await startMosquitto();
    const log = spyLogger();
    publisher = new MqttPublisher({
      url: mosquitto.url,
      logger: log,
      scanWindowMs: 100,
      reconnectPeriodMs: 50,
      maxReconnectPeriodMs: 200,
      now: () => T0,
    });
    publisher.addSubject(ANNA);
    // A consumer with a persistent session: Mosquitto keeps its subscription and queue over the restart.
    const consumer = await subscribe(mosquitto.url, ['glucobridge/anna/state'], 'glucobridge-test-consumer');
    await publisher.start();
    expect(await publisher.flush()).to.equal(true);

    const readings = Array.from({ length: 30 }, (_, i) => reading('anna', i, 100 + i));
    for (const [i, r] of readings.entries()) {
      publisher.publishReading('anna', r);
      // QoS 1 is "at least once": a message the broker took but could not acknowledge before it died
      // is sent again. The broker goes down between two readings, as a restart usually comes.
      if (i === 9) expect(await publisher.flush()).to.equal(true);
      if (i === 9) await mosquitto.stop();
      if (i === 19) await mosquitto.start();
      await sleep(15);
    }
    expect(await publisher.flush(8_000)).to.equal(true);
    // A reading the broker handed to the consumer just before it went down comes again with the DUP flag
    // (the consumer's acknowledgement died with the broker): QoS 1 between broker and consumer, not us.
    // A duplicate from our side would arrive as a fresh message, without the flag.
    const live = () =>
      consumer.seen.filter((m, i) => !m.retain && !(m.dup && consumer.seen[i - 1]?.payload === m.payload));
    await waitFor(() => live().length >= readings.length, 'all readings at the consumer', 8_000);
    await sleep(200);
    expect(live().map((m) => timeOf(m.payload))).to.deep.equal(readings.map((r) => r.time.toISOString()));
    expect(log.warn.args.flat().join('\n')).to.contain('lost the connection');
    await consumer.close();
  });

  it('keeps the retained discovery and latest state over a restart, and shows offline while away', async () => {
    mosquitto = await startMosquitto();
    publisher = new MqttPublisher({
      url: mosquitto.url,
      scanWindowMs: 100,
      reconnectPeriodMs: 50,
      now: () => T0,
    });
    publisher.addSubject(ANNA);
    await publisher.start();
    publisher.publishReading('anna', reading('anna', 0, 142));
    await publisher.flush();

    await mosquitto.stop();
    await mosquitto.start();
    await waitFor(() => publisher!.connected, 'reconnect');
    await publisher.flush();

    const ha = await subscribe(mosquitto.url, ['homeassistant/#', 'glucobridge/#']);
    await sleep(200);
    const retained = new Map(ha.seen.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
    for (const m of discoveryMessages(ANNA)) expect(retained.get(m.topic), m.topic).to.equal(m.payload);
    expect(retained.get('glucobridge/anna/glucose')).to.equal('142');
    expect(retained.get('glucobridge/status')).to.equal('online');

    await publisher.stop();
    await sleep(100);
    expect(ha.seen.at(-1)).to.deep.include({ topic: 'glucobridge/status', payload: 'offline' });
    await ha.close();
  });

  it('starts while Mosquitto is down and publishes the queued readings, in order, once it is up', async () => {
    mosquitto = await startMosquitto();
    // The consumer's persistent session outlives the broker's downtime, so it misses nothing.
    const consumer = await subscribe(mosquitto.url, ['glucobridge/anna/state'], 'glucobridge-test-late');
    await consumer.close();
    await mosquitto.stop();

    publisher = new MqttPublisher({
      url: mosquitto.url,
      scanWindowMs: 100,
      reconnectPeriodMs: 50,
      maxReconnectPeriodMs: 100,
      now: () => T0,
    });
    publisher.addSubject(ANNA);
    const started = Date.now();
    await publisher.start();
    expect(Date.now() - started).to.be.below(1_000);
    expect(publisher.connected).to.equal(false);
    const readings = [0, 5, 10].map((m, i) => reading('anna', m, 90 + i));
    for (const r of readings) publisher.publishReading('anna', r);
    await sleep(300);
    expect(publisher.pending).to.equal(3);

    await mosquitto.start();
    expect(await publisher.flush(5_000)).to.equal(true);
    const back = await subscribe(mosquitto.url, [], 'glucobridge-test-late');
    await waitFor(() => back.seen.length >= 3, 'the queued readings');
    await sleep(100);
    expect(back.seen.map((m) => timeOf(m.payload))).to.deep.equal(readings.map((r) => r.time.toISOString()));
    await back.close();
  });

  it('publishes the bridge device, links each person to it, and moves to device discovery and back', async () => {
    mosquitto = await startMosquitto();
    const bridge = { model: 'Stand-alone bridge', configurationUrl: 'http://127.0.0.1:8080/' };
    const start = (discovery: 'entity' | 'device'): Promise<void> => {
      publisher = new MqttPublisher({
        url: mosquitto!.url,
        scanWindowMs: 150,
        now: () => T0,
        bridge,
        discovery,
      });
      publisher.addSubject(ANNA);
      publisher.retainSubjects(['anna']);
      publisher.updateBridgeState({ accounts: 1, lastError: null });
      return publisher.start();
    };
    const retainedNow = async (): Promise<Map<string, string>> => {
      const ha = await subscribe(mosquitto!.url, ['homeassistant/#', 'glucobridge/#']);
      await sleep(250);
      await ha.close();
      return new Map(ha.seen.filter((m) => m.retain && m.payload !== '').map((m) => [m.topic, m.payload]));
    };

    await start('entity');
    publisher!.publishReading('anna', reading('anna', 0, 142, 'flat'));
    publisher!.updateBridgeState({
      accounts: 1,
      lastError: { code: 'NETWORK', message: 'connection reset', account: 'Anna', time: new Date(T0) },
    });
    expect(await publisher!.flush()).to.equal(true);
    let retained = await retainedNow();
    for (const m of [...bridgeDiscoveryMessages(bridge), ...discoveryMessages(ANNA, { bridge })])
      expect(retained.get(m.topic), m.topic).to.equal(m.payload);
    const glucose = JSON.parse(retained.get('homeassistant/sensor/glucobridge_anna/glucose/config')!) as {
      device: { via_device: string };
    };
    expect(glucose.device.via_device).to.equal('glucobridge_bridge');
    expect(retained.get('glucobridge/anna/trend')).to.equal('steady');
    expect(JSON.parse(retained.get('glucobridge/bridge/state')!)).to.deep.include({
      accounts: 1,
      lastError: {
        code: 'NETWORK',
        message: 'connection reset',
        account: 'Anna',
        time: new Date(T0).toISOString(),
      },
    });
    await publisher!.stop();

    // The same broker, now with device-based discovery: one config per device, the old ones gone.
    const watcher = await subscribe(mosquitto.url, ['homeassistant/#']);
    await start('device');
    expect(await publisher!.flush()).to.equal(true);
    retained = await retainedNow();
    const configs = [...retained.keys()].filter((t) => t.startsWith('homeassistant/')).sort();
    expect(configs).to.deep.equal([
      'homeassistant/device/glucobridge_anna/config',
      'homeassistant/device/glucobridge_bridge/config',
    ]);
    expect(retained.get('glucobridge/bridge/state'), 'the bridge state survives the switch').to.be.a(
      'string',
    );
    // Home Assistant's migration order on each old topic: migrate, (new config), then cleared.
    await sleep(100);
    const old = 'homeassistant/sensor/glucobridge_anna/glucose/config';
    const onOld = watcher.seen.filter((m) => m.topic === old && !m.retain).map((m) => m.payload);
    expect(onOld).to.deep.equal(['{"migrate_discovery":true}', '']);
    await watcher.close();
    await publisher!.stop();

    await start('entity');
    expect(await publisher!.flush()).to.equal(true);
    retained = await retainedNow();
    expect(retained.has('homeassistant/device/glucobridge_anna/config')).to.equal(false);
    expect(retained.get(old)).to.equal(discoveryMessages(ANNA, { bridge })[0]!.payload);
  });
});
