import { expect } from 'chai';
import { bridgeDiscoveryMessages, bridgeStateMessages } from '../../src/mqtt/bridge';
import { discoveryMessages, removalMessages } from '../../src/mqtt/discovery';
import { JobQueue, type Job } from '../../src/mqtt/queue';
import { stateMessages } from '../../src/mqtt/state';
import { planSync } from '../../src/mqtt/sync';
import { resolveTopics, type MqttMessage } from '../../src/mqtt/topics';
import { ANNA, BOB, CARLA, reading } from './fixtures';

const topics = resolveTopics();
const asMap = (messages: MqttMessage[]) => new Map(messages.map((m) => [m.topic, m.payload]));

describe('mqtt sync plan', () => {
  const annaState = stateMessages(ANNA, reading('anna', 0, 100), undefined, { stale: false });

  it('publishes discovery and data the broker lacks, in that order', () => {
    const plan = planSync({
      topics,
      found: new Map(),
      subjects: [ANNA],
      published: asMap(annaState),
      keep: undefined,
    });
    expect(plan).to.deep.equal([...discoveryMessages(ANNA), ...annaState]);
  });

  it('sends nothing the broker already holds, so no reading is delivered twice', () => {
    const plan = planSync({
      topics,
      found: asMap([...discoveryMessages(ANNA), ...annaState]),
      subjects: [ANNA],
      published: asMap(annaState),
      keep: undefined,
    });
    expect(plan).to.deep.equal([]);
  });

  it('re-sends a config whose payload changed (thresholds edited)', () => {
    const edited = { ...ANNA, thresholds: { ...ANNA.thresholds, high: 200 } };
    const plan = planSync({
      topics,
      found: asMap(discoveryMessages(ANNA)),
      subjects: [edited],
      published: new Map(),
      keep: undefined,
    });
    expect(plan.map((m) => m.topic)).to.deep.equal([
      'homeassistant/binary_sensor/glucobridge_anna/high/config',
    ]);
  });

  it('clears the retained topics of a subject no longer configured, once the configured set is known', () => {
    const bobData = stateMessages(BOB, reading('bob', 0, 120), undefined, { stale: false });
    const found = asMap([...discoveryMessages(ANNA), ...discoveryMessages(BOB), ...bobData]);
    const unknown = planSync({ topics, found, subjects: [ANNA], published: new Map(), keep: undefined });
    expect(unknown, 'without retainSubjects, unknown subjects are left alone').to.deep.equal([]);

    const plan = planSync({ topics, found, subjects: [ANNA], published: new Map(), keep: new Set(['anna']) });
    const bobTopics = [...discoveryMessages(BOB), ...bobData].map((m) => m.topic);
    expect(plan.map((m) => m.topic)).to.have.members(bobTopics);
    expect(plan).to.have.length(bobTopics.length);
    for (const m of plan) expect(m).to.include({ payload: '', retain: true, qos: 1 });
  });

  it('keeps a configured subject that is not registered yet', () => {
    const found = asMap(discoveryMessages(BOB));
    const plan = planSync({
      topics,
      found,
      subjects: [ANNA],
      published: new Map(),
      keep: new Set(['anna', 'bob']),
    });
    expect(plan.filter((m) => m.topic.includes('bob'))).to.deep.equal([]);
  });

  it('clears entity configs a registered subject no longer has', () => {
    const found = asMap(discoveryMessages(CARLA));
    const plan = planSync({
      topics,
      found,
      subjects: [{ ...CARLA, measurementKinds: ['weight'] }],
      published: new Map(),
      keep: undefined,
    });
    expect(plan.map((m) => [m.topic, m.payload])).to.deep.equal([
      ['homeassistant/sensor/glucobridge_carla/systolic/config', ''],
      ['homeassistant/sensor/glucobridge_carla/diastolic/config', ''],
      ['homeassistant/sensor/glucobridge_carla/pulse/config', ''],
      ['homeassistant/sensor/glucobridge_carla/temperature/config', ''],
    ]);
  });

  it('never touches other integrations, other bridges or already empty topics', () => {
    const otherBridge = discoveryMessages(BOB, { baseTopic: 'upstairs' });
    const found = new Map<string, string>([
      [
        'homeassistant/sensor/0x00158d0001/temperature/config',
        '{"availability":[{"topic":"zigbee2mqtt/x"}]}',
      ],
      // Same node id scheme but someone else's availability topic: not ours.
      ['homeassistant/sensor/glucobridge_zed/glucose/config', '{"availability":[{"topic":"other/status"}]}'],
      ['homeassistant/sensor/glucobridge_eve/glucose/config', 'not json'],
      ['homeassistant/sensor/glucobridge_ida/glucose/config', ''],
      ['glucobridge/status', 'online'],
      ['glucobridge/bridge/extra/deep', 'x'],
      ...asMap(otherBridge),
    ]);
    const plan = planSync({ topics, found, subjects: [], published: new Map(), keep: new Set() });
    expect(plan).to.deep.equal([]);
  });

  it('does not clear what the removal of a subject already cleared', () => {
    const found = asMap(removalMessages(BOB));
    expect(planSync({ topics, found, subjects: [], published: new Map(), keep: new Set() })).to.deep.equal(
      [],
    );
  });
});

describe('mqtt sync plan: layouts and the bridge', () => {
  const empty = (messages: MqttMessage[]) => messages.map((m) => ({ ...m, payload: '' }));
  const migrate = (messages: MqttMessage[]) =>
    messages.map((m) => ({ ...m, payload: '{"migrate_discovery":true}' }));

  it('moves entity configs to one device config the way Home Assistant migrates: migrate, publish, clear', () => {
    const plan = planSync({
      topics,
      found: asMap(discoveryMessages(ANNA)),
      subjects: [ANNA],
      published: new Map(),
      keep: new Set(['anna']),
      layout: 'device',
    });
    const old = discoveryMessages(ANNA);
    expect(plan).to.deep.equal([
      ...migrate(old),
      ...discoveryMessages(ANNA, { layout: 'device' }),
      ...empty(old),
    ]);
  });

  it('moves a device config back to entity configs, and clears a device config of a removed subject', () => {
    const found = asMap([
      ...discoveryMessages(ANNA, { layout: 'device' }),
      ...discoveryMessages(BOB, { layout: 'device' }),
    ]);
    const plan = planSync({ topics, found, subjects: [ANNA], published: new Map(), keep: new Set(['anna']) });
    const [annaDevice] = discoveryMessages(ANNA, { layout: 'device' });
    const [bobDevice] = discoveryMessages(BOB, { layout: 'device' });
    expect(plan).to.deep.equal([
      ...migrate([annaDevice!]),
      ...discoveryMessages(ANNA),
      ...empty([annaDevice!, bobDevice!]),
    ]);
  });

  it('publishes the bridge device and its state, and keeps them on later connections', () => {
    const bridgeState = bridgeStateMessages({ accounts: 1, lastError: null });
    const first = planSync({
      topics,
      found: new Map(),
      subjects: [ANNA],
      published: asMap(bridgeState),
      keep: new Set(['anna']),
      bridge: {},
    });
    const wanted = [
      ...bridgeDiscoveryMessages({}),
      ...discoveryMessages(ANNA, { bridge: {} }),
      ...bridgeState,
    ];
    expect(first).to.deep.equal(wanted);
    const again = planSync({
      topics,
      found: asMap(wanted),
      subjects: [ANNA],
      published: asMap(bridgeState),
      keep: new Set(['anna']),
      bridge: {},
    });
    expect(again).to.deep.equal([]);
  });

  it('removes a bridge device and state left by an earlier run that published one', () => {
    const left = [...bridgeDiscoveryMessages({}), ...bridgeStateMessages({ accounts: 1, lastError: null })];
    const plan = planSync({
      topics,
      found: asMap([...left, ...discoveryMessages(ANNA)]),
      subjects: [ANNA],
      published: new Map(),
      keep: new Set(['anna']),
    });
    expect(plan).to.deep.equal(empty(left));
  });
});

describe('mqtt job queue', () => {
  const data = (n: number): Job => ({
    type: 'messages',
    messages: [{ topic: `t/${n}`, payload: String(n), retain: true, qos: 1 }],
    droppable: true,
    key: 'anna',
    next: 0,
  });
  const topicsOf = (queue: JobQueue): string[] => {
    const out: string[] = [];
    for (let job = queue.take(); job; job = queue.take()) {
      out.push(job.type === 'sync' ? 'sync' : job.messages.map((m) => m.topic).join(','));
      queue.done();
    }
    return out;
  };

  it('drops the oldest readings beyond its limit, never control messages', () => {
    const queue = new JobQueue(2);
    queue.push({
      type: 'messages',
      messages: [{ topic: 'ctl', payload: '', retain: true, qos: 1 }],
      droppable: false,
      next: 0,
    });
    expect(queue.push(data(1)).dropped).to.equal(0);
    expect(queue.push(data(2)).dropped).to.equal(0);
    expect(queue.push(data(3)).dropped).to.equal(1);
    expect(topicsOf(queue)).to.deep.equal(['ctl', 't/2', 't/3']);
  });

  it('keeps the job being sent, and lets a newer tagged job replace an unsent one', () => {
    const queue = new JobQueue(10);
    const tagged = (payload: string): Job => ({
      type: 'messages',
      messages: [{ topic: 'p', payload, retain: true, qos: 1 }],
      droppable: false,
      tag: 'problem:anna',
      next: 0,
    });
    queue.push(tagged('a'));
    expect(queue.take()).to.include({ tag: 'problem:anna' });
    queue.push(tagged('b'));
    queue.push(data(1));
    queue.push(tagged('c'));
    queue.release();
    queue.pushFront({ type: 'sync' });
    const seen: string[] = [];
    for (let job = queue.take(); job; job = queue.take()) {
      seen.push(job.type === 'sync' ? 'sync' : job.messages.map((m) => m.payload).join());
      queue.done();
    }
    expect(seen).to.deep.equal(['sync', 'a', '1', 'c']);
  });

  it('drops the pending jobs of a removed subject and duplicate syncs', () => {
    const queue = new JobQueue(10);
    queue.push({ type: 'sync' });
    queue.push({ type: 'sync' });
    queue.push(data(1));
    expect(queue.dropKey('anna')).to.equal(1);
    queue.dropSyncs();
    expect(queue.length).to.equal(0);
  });
});
