import { expect } from 'chai';
import sinon from 'sinon';
import {
  ALL_NODES,
  type Clouds,
  collect,
  dexcomCredentials,
  dexcomFlow,
  drive,
  helper,
  startClouds,
  startServer,
  statuses,
  stopServer,
  waitFor,
} from './harness';

const MINUTE = 60_000;

describe('cgm-read-glucose poll mode (fake clock)', () => {
  let clouds: Clouds;
  let clock: sinon.SinonFakeTimers;

  beforeEach(async () => {
    clouds = await startClouds();
    await startServer();
    clock = sinon.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      now: Date.UTC(2026, 10, 20, 3, 1, 0),
    });
  });

  afterEach(async () => {
    clock.restore();
    await stopServer();
    await clouds.sim.close();
  });

  async function startPolling(staleMinutes = 15) {
    const flow = dexcomFlow(
      clouds.dexcomServer,
      [
        {
          id: 'read',
          type: 'cgm-read-glucose',
          account: 'acct',
          mode: 'poll',
          staleMinutes,
          wires: [['out']],
        },
        { id: 'out', type: 'helper' },
      ],
      { timeoutMs: 120_000 },
    );
    await helper.load(ALL_NODES, flow, dexcomCredentials());
    return collect('out');
  }

  // Steps of 5 s with a real pause between them; the 120 s request timeout leaves loopback HTTP
  // two dozen steps to answer before a fake-time timeout could fire.
  const advance = (ms: number) =>
    drive(clock, new Promise<void>((resolve) => setTimeout(resolve, ms)), {
      stepMs: 5_000,
      realMs: 1,
      maxMs: ms + 5_000,
    });

  it('sends each new reading once, oldest first, as it falls due, without any input', async () => {
    const got = await startPolling();
    await advance(30 * MINUTE);
    const times = got.map((m) => Date.parse((m.reading as { time: string }).time));
    expect(times.length).to.be.within(5, 7);
    for (let i = 1; i < times.length; i += 1) expect(times[i]! - times[i - 1]!).to.equal(5 * MINUTE);
    for (const msg of got) expect(msg.payload).to.equal((msg.reading as { mgdl: number }).mgdl);
    // Polls follow the 5-minute cadence, never once a second.
    const reads = clouds.sim.requests('ReadPublisherLatestGlucoseValues').length;
    expect(reads).to.be.within(times.length, times.length * 2 + 2);
    expect(statuses('read').at(-1)).to.include({ fill: 'green' });
    // One login served every poll.
    expect(clouds.sim.requests('LoginPublisherAccountById')).to.have.length(1);
  });

  it('turns yellow when data stops and green again when it resumes', async () => {
    const got = await startPolling(15);
    await advance(6 * MINUTE);
    expect(got.length).to.be.greaterThan(0);
    clouds.empty.dexcom = true;
    await advance(20 * MINUTE);
    const stale = statuses('read').at(-1)!;
    expect(stale.fill).to.equal('yellow');
    expect(stale.text).to.match(/mg\/dL cgm-read-glucose\.status\.stale$/);
    const before = got.length;
    clouds.empty.dexcom = false;
    await advance(8 * MINUTE);
    expect(got.length).to.be.greaterThan(before);
    expect(statuses('read').at(-1)).to.include({ fill: 'green' });
  });

  it('with the Home Assistant output, stale data is published as stale', async () => {
    const flow = dexcomFlow(
      clouds.dexcomServer,
      [
        {
          id: 'read',
          type: 'cgm-read-glucose',
          name: 'Sam',
          account: 'acct',
          mode: 'poll',
          staleMinutes: 15,
          homeAssistant: true,
          outputs: 2,
          wires: [['out'], ['ha']],
        },
        { id: 'out', type: 'helper' },
        { id: 'ha', type: 'helper' },
      ],
      { timeoutMs: 120_000 },
    );
    await helper.load(ALL_NODES, flow, dexcomCredentials());
    const ha = collect('ha');
    await advance(6 * MINUTE);
    const states = () =>
      ha
        .filter((m) => m.topic === 'glucobridge/sam/state')
        .map((m) => JSON.parse(m.payload as string) as { stale: boolean });
    expect(states().length).to.be.greaterThan(0);
    expect(states().every((s) => !s.stale)).to.equal(true);
    expect(ha.filter((m) => String(m.topic).endsWith('/config')).length).to.be.greaterThan(3);
    clouds.empty.dexcom = true;
    await advance(20 * MINUTE);
    expect(states().at(-1)!.stale).to.equal(true);
  });

  it('an input message polls at once', async () => {
    const got = await startPolling();
    await drive(clock, (async () => waitFor(() => got.length === 1, 'first reading'))());
    const polls = clouds.sim.requests('ReadPublisherLatestGlucoseValues').length;
    (helper.getNode('read') as { receive(msg: object): void }).receive({ payload: 'now' });
    await waitFor(() => clouds.sim.requests('ReadPublisherLatestGlucoseValues').length > polls, 'a poll');
  });

  it('a refused password stops polling and reaches the Catch node once', async () => {
    const flow = dexcomFlow(
      clouds.dexcomServer,
      [
        { id: 'read', type: 'cgm-read-glucose', account: 'acct', mode: 'poll', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ],
      { timeoutMs: 120_000 },
    );
    await helper.load(ALL_NODES, flow, dexcomCredentials('wrong-password'));
    const caught = collect('caught');
    await advance(60 * MINUTE);
    expect(caught).to.have.length(1);
    expect((caught[0]!.error as { code: string }).code).to.equal('AUTH_INVALID');
    expect(statuses('read').at(-1)).to.deep.equal({ fill: 'red', shape: 'ring', text: 'AUTH_INVALID' });
    expect(clouds.sim.requests('AuthenticatePublisherAccount').length).to.equal(1);
  });

  describe('issue cases: the Home Assistant output and inputs in poll mode', () => {
    function haFlow(extra: Record<string, unknown>, mode = 'latest') {
      return dexcomFlow(
        clouds.dexcomServer,
        [
          { id: 'inject', type: 'helper', wires: [['read']] },
          {
            id: 'read',
            type: 'cgm-read-glucose',
            name: 'Sam',
            account: 'acct',
            mode,
            staleMinutes: 15,
            homeAssistant: true,
            outputs: 2,
            wires: [['out'], ['ha']],
            ...extra,
          },
          { id: 'out', type: 'helper' },
          { id: 'ha', type: 'helper' },
          { id: 'done', z: 'flow1', type: 'complete', scope: ['read'], wires: [['completed']] },
          { id: 'completed', type: 'helper' },
        ],
        { timeoutMs: 120_000 },
      );
    }
    const states = (got: { topic?: unknown; payload?: unknown }[]) =>
      got
        .filter((m) => m.topic === 'glucobridge/sam/state')
        .map(
          (m) =>
            JSON.parse(m.payload as string) as {
              delta: number | null;
              stale: boolean;
              time: string;
              low: boolean;
            },
        );

    it('keeps the delta when the same reading is read again (inject every minute, a value every 5)', async () => {
      await helper.load(ALL_NODES, haFlow({}), dexcomCredentials());
      const ha = collect('ha');
      for (let minute = 0; minute < 20; minute += 1) {
        (helper.getNode('read') as { receive(msg: object): void }).receive({ payload: minute });
        await advance(MINUTE);
      }
      const published = states(ha);
      expect(published.length).to.be.at.least(18);
      const withDelta = published.filter((s) => s.delta !== null);
      // Only the very first reading has no previous one.
      expect(withDelta.length).to.be.at.least(published.length - 5);
      expect(published.at(-1)!.delta).to.not.equal(null);
    });

    it('publishes the problem topic, and re-discovery keeps stale data stale', async () => {
      await helper.load(ALL_NODES, haFlow({}, 'poll'), dexcomCredentials());
      const ha = collect('ha');
      await advance(6 * MINUTE);
      const problems = ha.filter((m) => m.topic === 'glucobridge/sam/problem');
      expect(problems.length).to.be.greaterThan(0);
      expect(JSON.parse(problems.at(-1)!.payload as string)).to.include({ problem: false });
      clouds.empty.dexcom = true;
      await advance(20 * MINUTE);
      expect(states(ha).at(-1)!.stale).to.equal(true);
      ha.length = 0;
      (helper.getNode('read') as { receive(msg: object): void }).receive({
        topic: 'homeassistant/status',
        payload: 'online',
      });
      await advance(5_000);
      expect(ha.some((m) => String(m.topic).endsWith('/config'))).to.equal(true);
      expect(states(ha).at(-1)!.stale).to.equal(true);
    });

    it('takes its low limit from the node (Home Assistant flags and the state agree)', async () => {
      await helper.load(ALL_NODES, haFlow({ urgentLow: 45, low: 400, high: 401 }), dexcomCredentials());
      expect(statuses('read').at(-1)).to.deep.equal({ fill: 'red', shape: 'ring', text: 'CONFIG' });
      await helper.unload();
      await helper.load(ALL_NODES, haFlow({ urgentLow: 45, low: 390, high: 400 }), dexcomCredentials());
      const ha = collect('ha');
      (helper.getNode('read') as { receive(msg: object): void }).receive({ payload: 1 });
      await advance(30_000);
      const [state] = states(ha);
      expect(state!.low).to.equal(true);
      const lowConfig = ha.find((m) => String(m.topic).endsWith('/low/config'));
      expect(
        (JSON.parse(lowConfig!.payload as string) as { json_attributes_template: string })
          .json_attributes_template,
      ).to.include('"threshold":390');
    });

    it('an input that polls and fails reaches Catch with that message, and no Complete node', async () => {
      await helper.load(
        ALL_NODES,
        haFlow({ homeAssistant: false, outputs: 1, wires: [['out']] }, 'poll'),
        dexcomCredentials(),
      );
      await advance(2 * MINUTE);
      const caught = collect('caught');
      const completed = collect('completed');
      clouds.sim.faults.add({ kind: 'status', status: 503, path: 'ReadPublisher', times: Infinity });
      (helper.getNode('read') as { receive(msg: object): void }).receive({
        payload: 'check',
        _marker: 'mine',
      });
      await advance(30_000);
      const withMine = caught.filter((m) => m._marker === 'mine');
      expect(withMine).to.have.length(1);
      expect((withMine[0]!.error as { code: string }).code).to.equal('SERVER');
      expect(completed).to.have.length(0);
      expect(caught).to.have.length(1);
    });
  });
});
