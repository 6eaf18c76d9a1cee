// MqttPublisher against a real broker: aedes in this process, on a real 127.0.0.1 socket.
import { expect } from 'chai';
import { connect } from 'mqtt';
import { CgmError } from '../../src/model/errors';
import type { Measurement } from '../../src/model/measurement';
import { discoveryMessages, removalMessages } from '../../src/mqtt/discovery';
import { MqttPublisher, type MqttPublisherOptions } from '../../src/mqtt/publisher';
import { problemMessages, stateMessages } from '../../src/mqtt/state';
import type { MqttMessage } from '../../src/mqtt/topics';
import { freePort, sleep, startAedes, waitFor, type AedesBroker, type Seen } from './brokers';
import { ANNA, BOB, CARLA, T0, reading, spyLogger, type SpyLogger } from './fixtures';

const FAST: Partial<MqttPublisherOptions> = {
  scanWindowMs: 50,
  reconnectPeriodMs: 50,
  maxReconnectPeriodMs: 200,
  birthDelayMs: 50,
  now: () => T0 + 5 * 60_000,
};

const seen = (m: MqttMessage): Seen => ({ topic: m.topic, payload: m.payload, retain: m.retain, qos: m.qos });
/**
 * Payloads per topic, in the order the broker handled them. QoS 1 keeps each topic in order; a broker
 * may handle pipelined messages of different topics in parallel (aedes does).
 */
function byTopic(messages: readonly Seen[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of messages) out.set(m.topic, [...(out.get(m.topic) ?? []), m.payload]);
  return out;
}
const ONLINE: Seen = { topic: 'glucobridge/status', payload: 'online', retain: true, qos: 1 };
const OFFLINE: Seen = { topic: 'glucobridge/status', payload: 'offline', retain: true, qos: 1 };

describe('MqttPublisher with aedes', function () {
  this.timeout(10_000);
  let broker: AedesBroker | undefined;
  const publishers: MqttPublisher[] = [];
  let log: SpyLogger;

  function publisher(url: string, options: Partial<MqttPublisherOptions> = {}): MqttPublisher {
    const p = new MqttPublisher({ url, logger: log, ...FAST, ...options });
    publishers.push(p);
    return p;
  }

  beforeEach(() => {
    log = spyLogger();
  });

  afterEach(async () => {
    await Promise.all(publishers.splice(0).map((p) => p.stop()));
    await broker?.close();
    broker = undefined;
  });

  it('publishes online, the discovery and each reading, retained with QoS 1, each topic in order', async () => {
    broker = await startAedes();
    const p = publisher(broker.url);
    p.addSubject(ANNA);
    await p.start();
    const r1 = reading('anna', 0, 104);
    const r2 = reading('anna', 5, 112, 'fortyFiveUp');
    p.publishReading('anna', r1);
    p.publishReading('anna', r2);
    expect(await p.flush()).to.equal(true);
    expect(broker.received[0]).to.deep.equal(ONLINE);
    const discovery = discoveryMessages(ANNA).map(seen);
    const topics = new Set(discovery.map((m) => m.topic));
    expect(broker.received.filter((m) => topics.has(m.topic))).to.deep.equal(discovery);
    expect(byTopic(broker.received.filter((m) => !topics.has(m.topic)))).to.deep.equal(
      byTopic([
        ONLINE,
        ...stateMessages(ANNA, r1, undefined, { stale: false }).map(seen),
        // The first reading shows the account works: the problem entity gets a state.
        ...problemMessages(ANNA, null).map(seen),
        ...stateMessages(ANNA, r2, r1, { stale: false }).map(seen),
      ]),
    );
  });

  it('sends the first reading while it still looks at the retained topics (discovery follows the look)', async () => {
    broker = await startAedes();
    const p = publisher(broker.url, { scanWindowMs: 60_000 });
    p.addSubject(ANNA);
    await p.start();
    p.publishReading('anna', reading('anna', 0, 104));
    await waitFor(() => broker!.received.some((m) => m.topic === 'glucobridge/anna/state'), 'the state');
    expect(broker.received.filter((m) => m.topic.startsWith('homeassistant/'))).to.deep.equal([]);
  });

  it('keeps several messages awaiting their acknowledgement, at most maxInFlight, each topic in order', async () => {
    broker = await startAedes();
    const pending: (() => void)[] = [];
    let most = 0;
    broker.broker.authorizePublish = (_client, packet, done) => {
      if (!packet.topic.startsWith('glucobridge/anna/')) return done(null);
      // The broker answers only when the test lets it: what the publisher sends meanwhile is in flight.
      pending.push(() => done(null));
      most = Math.max(most, pending.length);
    };
    const p = publisher(broker.url, { maxInFlight: 4 });
    p.addSubject(ANNA);
    await p.start();
    await p.flush();
    const readings = [0, 5, 10, 15, 20].map((minutes) => reading('anna', minutes, 100 + minutes));
    for (const r of readings) p.publishReading('anna', r);
    const done = p.flush(5_000);
    await waitFor(() => pending.length === 4, 'four messages held by the broker');
    await sleep(50);
    expect(most, 'no more than maxInFlight wait for their acknowledgement').to.equal(4);
    const states = () => broker!.received.filter((m) => m.topic === 'glucobridge/anna/state');
    await waitFor(() => {
      for (const release of pending.splice(0)) release();
      return states().length === readings.length;
    }, 'every state');
    expect(await done).to.equal(true);
    expect(most).to.equal(4);
    expect(states().map((m) => (JSON.parse(m.payload) as { mgdl: number }).mgdl)).to.deep.equal([
      100, 105, 110, 115, 120,
    ]);
  });

  it("renders the subject state's stale flag and ignores a reading that is not newer", async () => {
    broker = await startAedes();
    const p = publisher(broker.url);
    p.addSubject(ANNA);
    await p.start();
    await p.flush();
    broker.received.length = 0;
    p.publishReading('anna', reading('anna', 0, 104), { stale: true });
    p.publishReading('anna', reading('anna', 0, 104), { stale: false });
    await p.flush();
    expect(broker.received.map((m) => m.topic)).to.deep.equal([
      'glucobridge/anna/state',
      'glucobridge/anna/glucose',
      'glucobridge/anna/trend',
      'glucobridge/anna/problem',
    ]);
    expect(JSON.parse(broker.received[0]!.payload)).to.include({ stale: true });
  });

  it('publishes stale, problem and measurements, and adds entities for a new measurement kind', async () => {
    broker = await startAedes();
    const p = publisher(broker.url);
    p.addSubject(ANNA);
    p.addSubject({ ...CARLA, measurementKinds: [] });
    await p.start();
    await p.flush();
    broker.received.length = 0;

    p.publishStale('anna');
    expect(await p.flush()).to.equal(true);
    expect(broker.received, 'no reading yet: nothing to mark').to.deep.equal([]);

    const r = reading('anna', 0, 104);
    p.publishReading('anna', r);
    p.publishStale('anna');
    p.publishStale('anna');
    const error = new CgmError('AUTH_INVALID', 'rejected');
    p.publishProblem('anna', error);
    p.publishProblem('anna', error);
    const bp: Measurement = {
      provider: 'vitadock',
      subject: 'carla',
      module: 'cardiodocks',
      id: '7',
      time: new Date(T0),
      kind: 'bloodPressure',
      systolic: 128,
      diastolic: 84,
      pulse: 66,
    };
    p.publishMeasurement('carla', bp);
    await p.flush();
    const carla = { ...CARLA, measurementKinds: ['bloodPressure'] };
    const topics = byTopic(broker.received);
    // Only the JSON state carries the stale flag: the plain glucose topic keeps Home Assistant's
    // expire_after counting. Each repeat of a flag or problem went once.
    expect([...topics.keys()].filter((t) => t.startsWith('glucobridge/'))).to.have.members([
      'glucobridge/anna/state',
      'glucobridge/anna/glucose',
      'glucobridge/anna/trend',
      'glucobridge/anna/problem',
      'glucobridge/carla/blood_pressure',
    ]);
    expect(topics.get('glucobridge/anna/glucose')).to.deep.equal(['104']);
    const states = topics.get('glucobridge/anna/state')!.map((p) => JSON.parse(p) as object);
    expect(states).to.have.length(2);
    expect(states[0]).to.include({ stale: false, mgdl: 104 });
    expect(states[1]).to.include({ stale: true, mgdl: 104 });
    // The reading's "no problem" may already be out when the error comes; the error is the last word.
    const problems = topics.get('glucobridge/anna/problem')!.map((p) => JSON.parse(p) as object);
    expect(problems.at(-1)).to.include({ problem: true, code: 'AUTH_INVALID' });
    expect(problems.filter((p) => (p as { problem: boolean }).problem)).to.have.length(1);
    const carlaConfigs = discoveryMessages(carla).map((m) => m.topic);
    expect(broker.received.filter((m) => carlaConfigs.includes(m.topic)).map((m) => m.topic)).to.deep.equal(
      carlaConfigs,
    );
    expect(topics.get('glucobridge/carla/blood_pressure')).to.have.length(1);
    expect(discoveryMessages(carla).map((m) => m.topic)).to.include(
      'homeassistant/sensor/glucobridge_carla/systolic/config',
    );
  });

  it('re-sends discovery after a short random delay when Home Assistant says online', async () => {
    broker = await startAedes();
    const ha = connect(broker.url, { clientId: 'home-assistant' });
    await new Promise((resolve) => ha.once('connect', resolve));
    // A retained birth is replayed when the publisher subscribes: its own sync covers that moment.
    await ha.publishAsync('homeassistant/status', 'online', { qos: 1, retain: true });
    const p = publisher(broker.url, { random: () => 1, birthDelayMs: 150 });
    p.addSubject(ANNA);
    await p.start();
    await p.flush();
    await sleep(250);
    const discovery = discoveryMessages(ANNA).map(seen);
    expect(broker.received.slice(1)).to.deep.equal([ONLINE, ...discovery]);
    broker.received.length = 0;

    await ha.publishAsync('homeassistant/status', 'online', { qos: 1 });
    const sentAt = Date.now();
    await sleep(100);
    expect(broker.received, 'not before the delay').to.have.length(1);
    await waitFor(() => broker!.received.length === 1 + discovery.length, 'rediscovery');
    expect(Date.now() - sentAt).to.be.at.least(140);
    expect(broker.received.slice(1)).to.deep.equal(discovery);
    expect(log.info.args.flat()).to.include('MQTT: Home Assistant came online; re-sending discovery');

    // Home Assistant's will (offline) changes nothing.
    await ha.publishAsync('homeassistant/status', 'offline', { qos: 1 });
    await sleep(200);
    expect(broker.received).to.have.length(2 + discovery.length);
    await ha.endAsync();
  });

  it('removes an account: empty retained configs and data, and forgets its queued readings', async () => {
    broker = await startAedes();
    const p = publisher(broker.url);
    p.addSubject(ANNA);
    p.addSubject(BOB);
    await p.start();
    p.publishReading('bob', reading('bob', 0, 120));
    await p.flush();
    broker.received.length = 0;
    p.removeSubject('bob');
    p.publishReading('bob', reading('bob', 5, 125));
    await p.flush();
    expect(broker.received).to.deep.equal(removalMessages(BOB).map(seen));
    expect(log.warn.args.flat().join('\n')).to.contain('unknown subject "bob"');
  });

  it('removes an account dropped from the configuration while the bridge was stopped', async () => {
    broker = await startAedes();
    const first = publisher(broker.url);
    first.addSubject(ANNA);
    first.addSubject(BOB);
    await first.start();
    first.publishReading('anna', reading('anna', 0, 104));
    first.publishReading('bob', reading('bob', 0, 120));
    first.publishProblem('bob', null);
    await first.flush();
    await first.stop();
    // Another integration's config on the same broker must survive.
    const other = connect(broker.url);
    await new Promise((resolve) => other.once('connect', resolve));
    await other.publishAsync('homeassistant/sensor/lamp/power/config', '{"name":"Lamp"}', {
      qos: 1,
      retain: true,
    });
    await other.endAsync();
    broker.received.length = 0;

    // The next run is configured with Anna only.
    const second = publisher(broker.url);
    second.addSubject(ANNA);
    second.retainSubjects(['anna']);
    await second.start();
    await second.flush();
    const bobTopics = [
      ...discoveryMessages(BOB).map((m) => m.topic),
      'glucobridge/bob/state',
      'glucobridge/bob/glucose',
      'glucobridge/bob/trend',
      'glucobridge/bob/problem',
    ];
    expect(broker.received[0]).to.deep.equal(ONLINE);
    const rest = broker.received.slice(1);
    // Anna's entities were already retained unchanged: not sent again.
    expect(rest.map((m) => m.topic)).to.have.members(bobTopics);
    expect(rest).to.have.length(bobTopics.length);
    for (const m of rest) expect(m).to.include({ payload: '', retain: true, qos: 1 });
  });

  it('clears a dropped account when retainSubjects comes after start (accounts log in first)', async () => {
    broker = await startAedes();
    const first = publisher(broker.url);
    first.addSubject(ANNA);
    first.addSubject(BOB);
    await first.start();
    first.publishReading('bob', reading('bob', 0, 120));
    await first.flush();
    await first.stop();

    const second = publisher(broker.url);
    await second.start();
    second.addSubject(ANNA);
    await second.flush();
    broker.received.length = 0;
    second.retainSubjects(['anna']);
    await second.flush();
    const cleared = broker.received.filter((m) => m.payload === '').map((m) => m.topic);
    expect(cleared).to.have.members([
      ...discoveryMessages(BOB).map((m) => m.topic),
      'glucobridge/bob/state',
      'glucobridge/bob/glucose',
      'glucobridge/bob/trend',
      'glucobridge/bob/problem',
    ]);
    expect(cleared.filter((t) => t.includes('anna'))).to.deep.equal([]);
  });

  it('retainSubjects while connected removes the subjects left out', async () => {
    broker = await startAedes();
    const p = publisher(broker.url);
    p.addSubject(ANNA);
    p.addSubject(BOB);
    await p.start();
    await p.flush();
    broker.received.length = 0;
    p.retainSubjects(['anna']);
    await p.flush();
    // The removal, and the look at the broker that follows (it starts with `online`); nothing else.
    const removal = removalMessages(BOB).map(seen);
    expect(broker.received.filter((m) => m.topic !== ONLINE.topic)).to.deep.equal(removal);
    expect(broker.received.filter((m) => m.topic === ONLINE.topic)).to.deep.equal([ONLINE]);
  });

  it('does not throw when the broker is down at start; queues readings and sends them in order when it comes', async () => {
    const port = await freePort();
    const p = publisher(`mqtt://127.0.0.1:${port}`);
    p.addSubject(ANNA);
    const started = Date.now();
    await p.start();
    expect(Date.now() - started).to.be.below(1_000);
    expect(p.connected).to.equal(false);
    const readings = [0, 5, 10, 15].map((m, i) => reading('anna', m, 100 + i));
    for (const r of readings) p.publishReading('anna', r);
    expect(p.pending).to.equal(4);
    expect(log.warn.args.flat().join('\n')).to.match(/cannot reach mqtt:\/\/127\.0\.0\.1:\d+\/? .*retrying/);

    broker = await startAedes({ port });
    await waitFor(() => p.connected, 'reconnect');
    expect(await p.flush()).to.equal(true);
    const states = broker.received.filter((m) => m.topic === 'glucobridge/anna/state');
    expect(states.map((m) => (JSON.parse(m.payload) as { time: string }).time)).to.deep.equal(
      readings.map((r) => r.time.toISOString()),
    );
    expect(broker.received[0]).to.deep.equal(ONLINE);
    expect(p.pending).to.equal(0);
  });

  it('bounds the queue, dropping the oldest readings with one warning', async () => {
    const port = await freePort();
    const p = publisher(`mqtt://127.0.0.1:${port}`, { queueLimit: 3 });
    p.addSubject(ANNA);
    await p.start();
    for (let i = 0; i < 6; i += 1) p.publishReading('anna', reading('anna', i * 5, 100 + i));
    expect(p.pending).to.equal(3);
    expect(log.warn.args.filter(([m]) => m.includes('queue full'))).to.have.length(1);
    broker = await startAedes({ port });
    await waitFor(() => p.connected, 'reconnect');
    await p.flush();
    const values = broker.received
      .filter((m) => m.topic === 'glucobridge/anna/glucose')
      .map((m) => m.payload);
    expect(values).to.deep.equal(['103', '104', '105']);
    expect(log.warn.args.flat().join('\n')).to.contain('3 readings were dropped');
  });

  it('has a last will: a lost connection shows offline, then it reconnects without repeating readings', async () => {
    broker = await startAedes();
    const p = publisher(broker.url);
    p.addSubject(ANNA);
    await p.start();
    p.publishReading('anna', reading('anna', 0, 104));
    await p.flush();
    broker.received.length = 0;

    broker.dropClients();
    await waitFor(() => broker!.received.some((m) => m.payload === 'offline'), 'the will');
    expect(broker.received[0]).to.deep.equal(OFFLINE);
    p.publishReading('anna', reading('anna', 5, 110));
    await waitFor(() => p.connected, 'reconnect');
    await p.flush();
    // The broker kept the retained discovery and state: only online and the new reading go out.
    expect(broker.received.slice(1).map((m) => m.topic)).to.deep.equal([
      'glucobridge/status',
      'glucobridge/anna/state',
      'glucobridge/anna/glucose',
      'glucobridge/anna/trend',
    ]);
    expect(log.warn.args.flat().join('\n')).to.contain('lost the connection');
  });

  it('issue 17: after a broker restart that lost everything, the last reading is not delivered again', async () => {
    const port = await freePort();
    broker = await startAedes({ port });
    const p = publisher(broker.url);
    p.addSubject(ANNA);
    await p.start();
    // A consumer like Home Assistant: it reconnects and subscribes again after the broker restarts.
    const consumer = connect(broker.url, { reconnectPeriod: 50, clientId: 'issue17-consumer' });
    const states: { time: string; retain: boolean }[] = [];
    consumer.on('message', (_topic, payload, packet) =>
      states.push({ time: (JSON.parse(payload.toString()) as { time: string }).time, retain: packet.retain }),
    );
    consumer.on('connect', () => void consumer.subscribeAsync('glucobridge/anna/state', { qos: 1 }));
    await waitFor(() => consumer.connected, 'the consumer');
    await sleep(100);
    const before = reading('anna', 0, 104);
    p.publishReading('anna', before);
    await p.flush();
    await waitFor(() => states.length === 1, 'the first reading');

    await broker.close();
    broker = await startAedes({ port });
    await waitFor(() => p.connected && consumer.connected, 'both reconnect');
    await p.flush();
    await sleep(300);
    // Discovery and the problem state come back; the reading from before the outage does not.
    const restored = broker.received.map((m) => m.topic);
    expect(restored).to.include('homeassistant/sensor/glucobridge_anna/glucose/config');
    expect(restored).to.include('glucobridge/anna/problem');
    expect(restored).to.not.include('glucobridge/anna/state');
    const after = reading('anna', 5, 110);
    p.publishReading('anna', after);
    await p.flush();
    await waitFor(() => states.length === 2, 'the next reading');
    await sleep(100);
    expect(states.map((s) => s.time)).to.deep.equal([before.time.toISOString(), after.time.toISOString()]);
    await consumer.endAsync();
  });

  it('stop() publishes offline and ends quickly; with the broker down it ends at once', async () => {
    broker = await startAedes();
    const p = publisher(broker.url);
    p.addSubject(ANNA);
    await p.start();
    p.publishReading('anna', reading('anna', 0, 104));
    let started = Date.now();
    await p.stop();
    expect(Date.now() - started).to.be.below(1_000);
    expect(broker.received.at(-1)).to.deep.equal(OFFLINE);
    expect(broker.received.map((m) => m.topic)).to.include('glucobridge/anna/state');
    expect(broker.broker.connectedClients).to.equal(0);

    const down = publisher(`mqtt://127.0.0.1:${await freePort()}`, { reconnectPeriodMs: 10_000 });
    down.addSubject(ANNA);
    await down.start();
    down.publishReading('anna', reading('anna', 0, 104));
    started = Date.now();
    await down.stop();
    expect(Date.now() - started).to.be.below(200);
    expect(log.warn.args.flat().join('\n')).to.contain('stopped with 1 readings not published');
  });

  it('stop() ends within its bound when the broker stops answering', async () => {
    broker = await startAedes();
    const p = publisher(broker.url, { stopTimeoutMs: 300 });
    p.addSubject(ANNA);
    await p.start();
    await p.flush();
    // The broker swallows every further publish without acknowledging it.
    broker.broker.authorizePublish = () => undefined;
    p.publishReading('anna', reading('anna', 0, 104));
    const started = Date.now();
    await p.stop();
    expect(Date.now() - started).to.be.within(250, 1_000);
    expect(log.warn.args.flat().join('\n')).to.contain('stop timed out');
  });

  it('never puts a password in a payload or a log line, even when the broker refuses it', async () => {
    const password = 'S3cret-Broker-Pass';
    broker = await startAedes({ password });
    const good = publisher(broker.url, { username: 'bridge', password });
    good.addSubject(ANNA);
    await good.start();
    good.publishReading('anna', reading('anna', 0, 104));
    good.publishProblem('anna', new CgmError('AUTH_INVALID', 'rejected', { hint: 'check the password' }));
    expect(await good.flush()).to.equal(true);
    expect(broker.received.length).to.be.greaterThan(10);

    const wrong = `Wrong-${password}`;
    const bad = publisher(`mqtt://bridge:${wrong}@127.0.0.1:${broker.port}`);
    bad.addSubject(ANNA);
    await bad.start();
    expect(bad.connected).to.equal(false);
    await waitFor(() => log.lines().some((l) => l.includes('cannot reach')), 'the refusal in the log');
    for (const m of broker.received) expect(m.payload).not.to.contain(password);
    for (const line of log.lines()) expect(line).not.to.contain(password);
    expect(log.lines().join('\n')).to.match(/cannot reach mqtt:\/\/127\.0\.0\.1:\d+ \(Connection refused/);
    expect(bad.brokerUrl).to.equal(`mqtt://127.0.0.1:${broker.port}`);
  });

  it('rejects a URL that is not MQTT with a CONFIG error', () => {
    expect(() => new MqttPublisher({ url: 'http://127.0.0.1:1883' })).to.throw(CgmError, /mqtt:\/\//);
    expect(() => new MqttPublisher({ url: 'not a url' })).to.throw(CgmError, /not a URL/);
  });

  it('with the bridge option: the bridge device first, its state on updates, each repeat sent once', async () => {
    broker = await startAedes();
    const p = publisher(broker.url, { bridge: { model: 'Stand-alone bridge' } });
    p.addSubject(ANNA);
    await p.start();
    p.updateBridgeState({ accounts: 1, lastError: null });
    p.updateBridgeState({ accounts: 1, lastError: null });
    expect(await p.flush()).to.equal(true);
    const topics = broker.received.map((m) => m.topic);
    expect(
      topics.indexOf('homeassistant/binary_sensor/glucobridge_bridge/connection_state/config'),
    ).to.be.below(topics.indexOf('homeassistant/sensor/glucobridge_anna/glucose/config'));
    expect(topics.filter((t) => t === 'glucobridge/bridge/state')).to.have.length(1);
  });

  it('without the bridge option: no bridge device, and a bridge state is refused with a warning', async () => {
    broker = await startAedes();
    const p = publisher(broker.url);
    p.addSubject(ANNA);
    await p.start();
    p.updateBridgeState({ accounts: 1, lastError: null });
    expect(await p.flush()).to.equal(true);
    expect(broker.received.some((m) => /glucobridge_bridge|^glucobridge\/bridge\//.test(m.topic))).to.equal(
      false,
    );
    expect(log.warn.args.flat().join('\n')).to.contain('bridge state ignored');
    expect(() => new MqttPublisher({ url: broker!.url, bridge: { configurationUrl: 'ftp://x' } }))
      .to.throw(CgmError)
      .with.property('code', 'CONFIG');
  });
});
