import { expect } from 'chai';
import { launch, realSleep, SAM, startRig, type Host, type Rig } from './helpers';
import { startAedes, type AedesBroker } from '../mqtt/brokers';

describe('Homebridge platform with MQTT (real broker)', () => {
  let rig: Rig;
  let broker: AedesBroker;
  let host: Host | undefined;

  beforeEach(async () => {
    rig = await startRig();
    broker = await startAedes();
  });

  afterEach(async () => {
    await host?.platform.stop();
    host = undefined;
    await broker.close();
    await rig.close();
  });

  async function until(found: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 500; i += 1) {
      if (found()) return;
      await realSleep(10);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('publishes the readings the accessories show, with Home Assistant discovery, from the same poller', async () => {
    host = await launch(rig, {
      accounts: [rig.dexcomAccount(SAM)],
      units: 'mmol',
      mqtt: { url: broker.url },
    });
    const handler = [...host.platform.accessories.values()][0]!;
    // Readings go out at once; discovery follows the publisher's look at the retained topics.
    await until(
      () =>
        handler.last !== undefined &&
        broker.received.some((m) => m.topic === 'glucobridge/sam/state') &&
        broker.received.some((m) => m.topic.startsWith('homeassistant/')),
      'state and discovery',
    );
    const state = broker.received.find((m) => m.topic === 'glucobridge/sam/state')!;
    expect(state.retain).to.be.true;
    expect(JSON.parse(state.payload)).to.deep.include({ mgdl: handler.last!.mgdl, mmol: handler.last!.mmol });
    expect(broker.received.some((m) => m.topic.startsWith('homeassistant/') && m.retain)).to.be.true;
    // One poller feeds both: the cloud was read once, not once for HomeKit and once for MQTT.
    expect(rig.sim.requests('ReadPublisherLatestGlucoseValues')).to.have.length(1);
    const everything = broker.received.map((m) => `${m.topic} ${m.payload}`).join('\n');
    for (const secret of [SAM.username, SAM.password]) expect(everything).not.to.include(secret);

    await host.platform.stop();
    host = undefined;
    expect(broker.received.at(-1)).to.deep.include({
      topic: 'glucobridge/status',
      payload: 'offline',
      retain: true,
    });
  });

  it('publishes device-based discovery when the settings say "device"', async () => {
    host = await launch(rig, {
      accounts: [rig.dexcomAccount(SAM)],
      mqtt: { url: broker.url, discovery: 'device' },
    });
    await until(
      () => broker.received.some((m) => m.topic === 'homeassistant/device/glucobridge_sam/config'),
      'the device config',
    );
    const config = broker.received.find((m) => m.topic === 'homeassistant/device/glucobridge_sam/config')!;
    expect(config.retain).to.equal(true);
    expect(Object.keys((JSON.parse(config.payload) as { components: object }).components)).to.include.members(
      ['glucose', 'trend', 'low'],
    );
    expect(
      broker.received.some(
        (m) => /^homeassistant\/(sensor|binary_sensor)\//.test(m.topic) && m.payload !== '',
      ),
    ).to.equal(false);
  });

  it('refuses an unknown discovery layout by name, and keeps HomeKit working', async () => {
    host = await launch(rig, {
      accounts: [rig.dexcomAccount(SAM)],
      mqtt: { url: broker.url, discovery: 'devices' },
    });
    const errors = host.log.lines
      .filter((l) => l.level === 'error' || l.level === 'warn')
      .map((l) => l.message);
    expect(errors.join('\n')).to.contain('mqtt.discovery must be "entity" or "device"');
    expect(host.platform.accessories.size).to.equal(1);
  });

  it('keeps HomeKit working when the MQTT settings are wrong', async () => {
    host = await launch(rig, { accounts: [rig.dexcomAccount(SAM)], mqtt: { url: 'http://not-a-broker' } });
    const handler = [...host.platform.accessories.values()][0]!;
    await until(() => handler.last !== undefined, 'a reading');
    expect(host.log.lines.some((l) => l.level === 'error' && l.message.includes('mqtt.url'))).to.be.true;
    expect(broker.received).to.be.empty;
  });
});
