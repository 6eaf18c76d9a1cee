import { expect } from 'chai';
import {
  ALL_NODES,
  type Clouds,
  DEXCOM,
  dexcomCredentials,
  dexcomFlow,
  dexcomReadFlow,
  helper,
  nextMessage,
  receive,
  statuses,
  waitFor,
  useRuntime,
} from './harness';

describe('cgm-read-glucose in the Node-RED runtime', () => {
  let clouds: Clouds;
  useRuntime((started) => (clouds = started));

  it('latest: sends the value in the account unit, the reading and the subject, and turns green', async () => {
    const flow = dexcomReadFlow(clouds.dexcomServer, 'latest');
    await helper.load(ALL_NODES, flow, dexcomCredentials());
    const got = nextMessage('out');
    receive('read', { payload: 'go' });
    const msg = await got;
    const reading = msg.reading as { mgdl: number; time: string; arrow: string; provider: string };
    expect(msg.payload).to.equal(reading.mgdl);
    expect(reading.provider).to.equal('dexcom');
    expect(reading.time).to.match(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(msg.topic).to.be.a('string').and.not.equal('');
    expect(msg.unit).to.equal('mg/dL');
    const last = statuses('read').at(-1);
    expect(last).to.deep.equal({
      fill: 'green',
      shape: 'dot',
      text: `${reading.mgdl} mg/dL ${reading.arrow}`,
    });
  });

  it('history: msg.minutes overrides the node; payload is the readings oldest first', async () => {
    const flow = dexcomFlow(clouds.dexcomServer, [
      {
        id: 'read',
        type: 'cgm-read-glucose',
        account: 'acct',
        mode: 'history',
        minutes: 60,
        wires: [['out']],
      },
      { id: 'out', type: 'helper' },
    ]);
    await helper.load(ALL_NODES, flow, dexcomCredentials());
    const got = nextMessage('out');
    receive('read', { payload: 'go', minutes: 30 });
    const readings = (await got).payload as { time: string; mgdl: number }[];
    expect(readings.length).to.be.within(5, 7);
    const times = readings.map((r) => Date.parse(r.time));
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    expect(Date.now() - times[0]!).to.be.at.most(31 * 60_000);
    expect(statuses('read').at(-1)).to.include({ fill: 'green' });
  });

  describe('Home Assistant output', () => {
    interface MqttMsg {
      topic: string;
      payload: string;
      retain: boolean;
      qos: number;
    }

    async function loadHa(name = 'Sam') {
      const flow = dexcomFlow(
        clouds.dexcomServer,
        [
          {
            id: 'read',
            type: 'cgm-read-glucose',
            name,
            account: 'acct',
            mode: 'latest',
            homeAssistant: true,
            outputs: 2,
            wires: [['out'], ['ha']],
          },
          { id: 'out', type: 'helper' },
          { id: 'ha', type: 'helper' },
        ],
        { name: 'Dexcom Sam' },
      );
      await helper.load(ALL_NODES, flow, dexcomCredentials());
    }

    async function haAfter(msg: Record<string, unknown>): Promise<MqttMsg[]> {
      const got: MqttMsg[] = [];
      const node = helper.getNode('ha') as {
        on(e: 'input', l: (m: MqttMsg) => void): void;
        off(e: 'input', l: (m: MqttMsg) => void): void;
      };
      const listener = (m: MqttMsg) => got.push(m);
      node.on('input', listener);
      receive('read', msg);
      await waitFor(() => got.length > 0, 'Home Assistant messages');
      // Several messages on one output arrive one by one: give the rest a moment.
      await new Promise((resolve) => setTimeout(resolve, 50));
      node.off('input', listener);
      return got;
    }

    it('sends availability and discovery once, then retained state for every reading', async () => {
      await loadHa();
      const first = await haAfter({ payload: 'go' });
      expect(first[0]).to.deep.include({ topic: 'glucobridge/status', payload: 'online', retain: true });
      const configs = first.filter(
        (m) => m.topic.startsWith('homeassistant/') && m.topic.endsWith('/config'),
      );
      expect(configs.length).to.be.greaterThan(3);
      const glucose = configs.map((m) => JSON.parse(m.payload) as Record<string, unknown>);
      expect(glucose.some((c) => c.device_class === 'blood_glucose_concentration')).to.equal(true);
      const state = first.find((m) => m.topic === 'glucobridge/sam/state')!;
      expect(state.retain).to.equal(true);
      expect(JSON.parse(state.payload)).to.include({ unit: 'mg/dL', stale: false });
      for (const m of first) expect(m.payload).not.to.include(DEXCOM.username);

      const second = await haAfter({ payload: 'again' });
      expect(second.some((m) => m.topic.endsWith('/config'))).to.equal(false);
      expect(second.map((m) => m.topic)).to.include('glucobridge/sam/state');
    });

    it("re-sends discovery on Home Assistant's birth message", async () => {
      await loadHa();
      await haAfter({ payload: 'go' });
      const again = await haAfter({ topic: 'homeassistant/status', payload: 'online' });
      expect(again.some((m) => m.topic.endsWith('/config'))).to.equal(true);
      expect(again.map((m) => m.topic)).to.include('glucobridge/sam/state');
    });

    it('refuses an e-mail address as the device name (it would become a topic)', async () => {
      await loadHa('sam@example.org');
      expect(statuses('read').at(-1)).to.deep.equal({ fill: 'red', shape: 'ring', text: 'CONFIG' });
    });
  });
});
