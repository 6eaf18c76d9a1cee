import { expect } from 'chai';
import sinon from 'sinon';
import { openAccountCount } from '../../nodes/lib/account';
import {
  ALL_NODES,
  type Clouds,
  DEXCOM,
  collect,
  dexcomCredentials,
  dexcomFlow,
  drive,
  helper,
  nextMessage,
  receive,
  statuses,
  waitFor,
  useRuntime,
} from './harness';

const logins = (clouds: Clouds) =>
  clouds.sim.requests('AuthenticatePublisherAccount').length +
  clouds.sim.requests('LoginPublisherAccountById').length;

describe('cgm-account: one shared source per account', () => {
  let clouds: Clouds;
  useRuntime((started) => (clouds = started));

  const twoReaders = () =>
    dexcomFlow(clouds.dexcomServer, [
      { id: 'r1', type: 'cgm-read-glucose', account: 'acct', mode: 'latest', wires: [['o1']] },
      { id: 'r2', type: 'cgm-read-glucose', account: 'acct', mode: 'history', minutes: 30, wires: [['o2']] },
      { id: 'login', type: 'cgm-login', account: 'acct', wires: [['o3']] },
      { id: 'o1', type: 'helper' },
      { id: 'o2', type: 'helper' },
      { id: 'o3', type: 'helper' },
    ]);

  it('two nodes reading at the same time log in once', async () => {
    await helper.load(ALL_NODES, twoReaders(), dexcomCredentials());
    const got = Promise.all([nextMessage('o1'), nextMessage('o2')]);
    receive('r1', { payload: 1 });
    receive('r2', { payload: 2 });
    const [latest, history] = await got;
    expect(latest.payload).to.be.a('number');
    const readings = history.payload as { time: string }[];
    expect(readings.length).to.be.within(5, 7);
    expect(readings.map((r) => r.time)).to.deep.equal([...readings.map((r) => r.time)].sort());
    expect(clouds.sim.requests('LoginPublisherAccountById')).to.have.length(1);
  });

  it('cgm-login logs in and tells provider, region and subjects; no secret in the message', async () => {
    await helper.load(ALL_NODES, twoReaders(), dexcomCredentials());
    const got = nextMessage('o3');
    receive('login', { payload: 'go' });
    const msg = await got;
    const payload = msg.payload as {
      provider: string;
      region: string;
      subjects: { id: string; name: string }[];
    };
    expect(payload.provider).to.equal('dexcom');
    expect(payload.region).to.equal('ous');
    expect(payload.subjects).to.have.length(1);
    const text = JSON.stringify(msg);
    expect(text).not.to.include(DEXCOM.password);
    expect(statuses('login').at(-1)).to.include({ fill: 'green' });
    expect(logins(clouds)).to.be.within(1, 2);
  });

  it('a redeploy closes the account and keeps the session: no second login', async () => {
    await helper.load(ALL_NODES, twoReaders(), dexcomCredentials());
    expect(openAccountCount()).to.equal(1);
    const first = nextMessage('o1');
    receive('r1', { payload: 1 });
    await first;
    const before = logins(clouds);
    await helper.setFlows(twoReaders(), 'full', dexcomCredentials());
    expect(openAccountCount()).to.equal(1);
    const second = nextMessage('o1');
    receive('r1', { payload: 1 });
    await second;
    expect(logins(clouds)).to.equal(before);
    await helper.unload();
    expect(openAccountCount()).to.equal(0);
  });

  it('a changed password after a redeploy is a fresh login (the old session is sealed under the old one)', async () => {
    await helper.load(ALL_NODES, twoReaders(), dexcomCredentials());
    const first = nextMessage('o1');
    receive('r1', { payload: 1 });
    await first;
    await helper.setFlows(twoReaders(), 'full', {
      acct: { username: DEXCOM.username, password: 'changed-now' },
    });
    const caught = nextMessage('caught');
    receive('r1', { payload: 1 });
    expect(((await caught).error as { code: string }).code).to.equal('AUTH_INVALID');
  });

  it('SESSION_EXPIRED never reaches the flow: one new login, then the read succeeds', async () => {
    await helper.load(ALL_NODES, twoReaders(), dexcomCredentials());
    const first = nextMessage('o1');
    receive('r1', { payload: 1 });
    await first;
    const before = clouds.sim.requests('LoginPublisherAccountById').length;
    clouds.dexcom.expireSessions();
    const second = nextMessage('o1');
    receive('r1', { payload: 1 });
    expect((await second).payload).to.be.a('number');
    expect(clouds.sim.requests('LoginPublisherAccountById').length).to.equal(before + 1);
    expect(statuses('r1').at(-1)).to.include({ fill: 'green' });
  });

  it('a redeploy does not wait out a request that hangs', async () => {
    clouds.sim.faults.add({ kind: 'timeout', path: 'ReadPublisher', times: Infinity });
    const flow = dexcomFlow(
      clouds.dexcomServer,
      [{ id: 'poller', type: 'cgm-read-glucose', account: 'acct', mode: 'poll', wires: [[]] }],
      { timeoutMs: 120_000 },
    );
    await helper.load(ALL_NODES, flow, dexcomCredentials());
    await waitFor(() => clouds.sim.requests('ReadPublisher').length > 0, 'the hanging read');
    const started = Date.now();
    await helper.setFlows(dexcomFlow(clouds.dexcomServer, []), 'full', dexcomCredentials());
    expect(Date.now() - started).to.be.below(5_000);
    expect(openAccountCount()).to.equal(1); // the new, empty deploy's account
  });

  it('a redeploy stops the poll timers of the old flow', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.now() });
    try {
      const flow = dexcomFlow(
        clouds.dexcomServer,
        [
          { id: 'poller', type: 'cgm-read-glucose', account: 'acct', mode: 'poll', wires: [['o1']] },
          { id: 'o1', type: 'helper' },
        ],
        { timeoutMs: 120_000 },
      );
      await helper.load(ALL_NODES, flow, dexcomCredentials());
      const got = collect('o1');
      await drive(
        clock,
        waitFor(() => got.length === 1, 'first reading'),
      );
      await helper.setFlows(dexcomFlow(clouds.dexcomServer, []), 'full', dexcomCredentials());
      const reads = clouds.sim.requests('ReadPublisher').length;
      await drive(clock, new Promise((resolve) => setTimeout(resolve, 30 * 60_000)), {
        stepMs: 5_000,
        realMs: 1,
        maxMs: 31 * 60_000,
      });
      expect(clouds.sim.requests('ReadPublisher').length).to.equal(reads);
      expect(clock.countTimers()).to.equal(0);
    } finally {
      clock.restore();
    }
  });
});
