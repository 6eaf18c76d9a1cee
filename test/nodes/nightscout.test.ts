// Nightscout in the Node-RED runtime: a site as the source of a CGM account, and the cgm nightscout
// node uploading what read glucose sends it.
import { expect } from 'chai';
import sinon from 'sinon';
import { makeReading, readingToJson, type ReadingJson } from '../../src/model/reading';
import { readToken, uploadToken, demoSite } from '../providers/nightscout/helpers';
import {
  accountFlow,
  ALL_NODES,
  collect,
  type Clouds,
  dexcomCredentials,
  dexcomFlow,
  drive,
  helper,
  nextMessage,
  receive,
  statuses,
  useRuntime,
  waitFor,
} from './harness';

const MINUTE = 60_000;

interface CaughtError {
  code?: string;
  message: string;
}

/** Readings of one person every five minutes, as read glucose puts them on a message. */
function readings(count: number, subject = 'sam', end = Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE) {
  return Array.from({ length: count }, (_, i) =>
    readingToJson(
      makeReading({
        provider: 'dexcom',
        subject,
        time: new Date(end - (count - 1 - i) * 5 * MINUTE),
        mgdl: 100 + i * 3,
        trend: 'fortyFiveUp',
      }),
    ),
  );
}

describe('Nightscout as the source of a CGM account', () => {
  let clouds: Clouds;
  useRuntime((started) => (clouds = started));

  const flow = (account: Record<string, unknown>) =>
    accountFlow({ units: 'mgdl', ...account, provider: 'nightscout' }, [
      { id: 'rl', type: 'cgm-read-glucose', account: 'acct', mode: 'latest', wires: [['o1']] },
      {
        id: 'rh',
        type: 'cgm-read-glucose',
        account: 'acct',
        mode: 'history',
        minutes: 30,
        wires: [['o2']],
      },
      { id: 'login', type: 'cgm-login', account: 'acct', wires: [['o3']] },
      { id: 'o1', type: 'helper' },
      { id: 'o2', type: 'helper' },
      { id: 'o3', type: 'helper' },
    ]);

  it('reads a 1-minute site with a token: the latest value, half an hour of history, who it is', async () => {
    await helper.load(ALL_NODES, flow({ server: clouds.site('mia'), units: 'mmol' }), {
      acct: { token: readToken('mia') },
    });
    const got = Promise.all([nextMessage('o1'), nextMessage('o2'), nextMessage('o3')]);
    receive('rl', { payload: 1 });
    receive('rh', { payload: 1 });
    receive('login', { payload: 1 });
    const [latest, history, login] = await got;
    const reading = latest.reading as ReadingJson;
    expect(reading.provider).to.equal('nightscout');
    expect(latest.payload).to.equal(reading.mmol);
    expect(latest.unit).to.equal('mmol/L');
    const times = (history.payload as ReadingJson[]).map((r) => Date.parse(r.time));
    // Mia's uploader sends a reading every minute.
    expect(times.length).to.be.within(28, 31);
    for (let i = 1; i < times.length; i += 1) expect(times[i]! - times[i - 1]!).to.equal(MINUTE);
    expect(times.at(-1)).to.equal(Date.parse(reading.time));
    expect(login.payload).to.deep.include({ provider: 'nightscout' });
    expect((login.payload as { subjects: { name: string }[] }).subjects.map((s) => s.name)).to.deep.equal([
      'Mia',
    ]);
    expect(statuses('rl').at(-1)).to.include({ fill: 'green' });
    expect(JSON.stringify([latest, history, login])).not.to.contain(readToken('mia'));
  });

  it('reads a site readable without a secret, and one over API v3 with a token', async () => {
    await helper.load(ALL_NODES, flow({ server: clouds.site('leo') }), {});
    const leo = nextMessage('o1');
    receive('rl', { payload: 1 });
    expect(((await leo).reading as ReadingJson).provider).to.equal('nightscout');
    await helper.unload();
    await helper.load(ALL_NODES, flow({ server: clouds.site('noah'), api: 'v3' }), {
      acct: { token: readToken('noah') },
    });
    const noah = nextMessage('o1');
    receive('rl', { payload: 1 });
    expect(((await noah).reading as ReadingJson).provider).to.equal('nightscout');
    expect(clouds.sim.requests('/api/v2/authorization/request/')).to.have.length(1);
    expect(clouds.sim.requests('/noah/api/v3/entries').length).to.be.at.least(1);
  });

  it('a refused token is AUTH_INVALID at a Catch node, and is not sent again', async () => {
    await helper.load(ALL_NODES, flow({ server: clouds.site('mia') }), {
      acct: { token: 'glucobridge-0000000000000000' },
    });
    const caught = nextMessage('caught');
    receive('rl', { payload: 1 });
    expect(((await caught).error as CaughtError).code).to.equal('AUTH_INVALID');
    const again = nextMessage('caught');
    receive('rl', { payload: 2 });
    expect(((await again).error as CaughtError).code).to.equal('AUTH_INVALID');
    expect(clouds.sim.requests('/mia/')).to.have.length(1);
  });
});

describe('cgm-nightscout: uploads what it receives', () => {
  let clouds: Clouds;
  let clock: sinon.SinonFakeTimers | undefined;
  useRuntime((started) => (clouds = started));
  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  const uploader = (extra: Record<string, unknown> = {}) => ({
    id: 'ns',
    type: 'cgm-nightscout',
    name: 'Site',
    api: 'v1',
    ...extra,
  });
  const relayCredentials = (extra: Record<string, string> = {}) => ({
    ns: { server: clouds.site('relay'), token: uploadToken('relay'), ...extra },
  });
  const load = (
    node = uploader(),
    credentials: Record<string, Record<string, string>> = relayCredentials(),
  ) =>
    helper.load(ALL_NODES, dexcomFlow(clouds.dexcomServer, [node]), {
      ...dexcomCredentials(),
      ...credentials,
    });

  const uploaded = () => clouds.nightscout.uploads('relay');

  it('uploads a history and then single readings, each once and in order, and says so in its status', async () => {
    await load();
    const six = readings(6);
    receive('ns', { payload: six.slice(0, 4) });
    // A message of read glucose in follow mode: the value as payload, the reading beside it.
    receive('ns', { payload: six[3]!.mgdl, reading: six[3] });
    receive('ns', { payload: six[4]!.mgdl, reading: six[4] });
    receive('ns', { payload: six.slice(2) });
    await waitFor(() => uploaded().length === 6, 'six uploads');
    await waitFor(() => statuses('ns').at(-1)?.fill === 'green', 'a green status');
    expect(uploaded().map((u) => u.date)).to.deep.equal(six.map((r) => Date.parse(r.time)));
    expect(uploaded().map((u) => u.sgv)).to.deep.equal(six.map((r) => r.mgdl));
    expect(uploaded().every((u) => u.outcome === 'created' && u.device === 'glucobridge-dexcom')).to.equal(
      true,
    );
    const newest = new Date(six[5]!.time);
    const hhmm = `${String(newest.getHours()).padStart(2, '0')}:${String(newest.getMinutes()).padStart(2, '0')}`;
    expect(statuses('ns').at(-1)).to.deep.equal({ fill: 'green', shape: 'dot', text: `↑ ${hhmm}` });
    expect(clouds.nightscout.stored('relay').map((e) => e.direction)).to.deep.equal(
      six.map(() => 'FortyFiveUp'),
    );
  });

  it('keeps its position across a redeploy: old readings cost no request at all', async () => {
    await load();
    const five = readings(5);
    receive('ns', { payload: five });
    await waitFor(() => uploaded().length === 5, 'five uploads');
    // The site recorded them; the node keeps the position once it has read the site's answer.
    await waitFor(() => statuses('ns').at(-1)?.fill === 'green', 'the position taken');
    await helper.setFlows(dexcomFlow(clouds.dexcomServer, [uploader({ name: 'Site again' })]), 'full', {
      ...dexcomCredentials(),
      ...relayCredentials(),
    });
    clouds.sim.clearRequests();
    receive('ns', { payload: five });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(clouds.sim.requests('/relay/')).to.deep.equal([]);
    const next = readings(6)[5]!;
    const later = { ...next, time: new Date(Date.parse(five[4]!.time) + 5 * MINUTE).toISOString() };
    receive('ns', { reading: later });
    await waitFor(() => uploaded().length === 6, 'the new reading');
    expect(uploaded().map((u) => u.outcome)).to.deep.equal(Array(6).fill('created'));
  });

  it('uploads over API v3 with the API secret refused and the token accepted', async () => {
    await load(uploader({ api: 'v3' }), {
      ns: { server: clouds.site('relay'), apiSecret: demoSite('relay').apiSecret },
    });
    expect(statuses('ns').at(-1)).to.include({ fill: 'red', text: 'CONFIG' });
    const caught = nextMessage('caught');
    receive('ns', { payload: readings(1) });
    expect(((await caught).error as CaughtError).message).to.match(/API v3 needs an access token/);
    await helper.unload();
    await load(uploader({ api: 'v3' }));
    receive('ns', { payload: readings(3) });
    await waitFor(() => uploaded().length === 3, 'three v3 uploads');
    expect(uploaded().map((u) => u.api)).to.deep.equal(['v3', 'v3', 'v3']);
  });

  it('while the site is down: the error reaches Catch once, readings wait, then all arrive in order', async () => {
    await load(uploader({ timeoutMs: 60_000 }));
    clouds.sim.faults.add({
      kind: 'status',
      status: 503,
      provider: 'nightscout',
      path: '/relay/',
      times: Infinity,
    });
    const caught = collect('caught');
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.now() });
    const all = readings(4);
    receive('ns', { payload: all.slice(0, 2) });
    await drive(clock, new Promise((resolve) => setTimeout(resolve, 10 * MINUTE)), { stepMs: 5_000 });
    receive('ns', { reading: all[2] });
    receive('ns', { reading: all[3] });
    await drive(clock, new Promise((resolve) => setTimeout(resolve, 10 * MINUTE)), { stepMs: 5_000 });
    expect(caught.map((m) => (m.error as CaughtError).code)).to.deep.equal(['SERVER']);
    expect(statuses('ns').at(-1)).to.deep.equal({
      fill: 'red',
      shape: 'ring',
      text: 'SERVER · cgm-nightscout.status.waiting',
    });
    // Backoff from 5 s to 5 min with jitter: a dozen tries in 20 minutes, not one a second.
    expect(clouds.sim.requests('/relay/').length).to.be.within(5, 16);
    expect(uploaded()).to.deep.equal([]);

    clouds.sim.faults.clear();
    await drive(clock, new Promise((resolve) => setTimeout(resolve, 6 * MINUTE)), { stepMs: 5_000 });
    expect(uploaded().map((u) => u.date)).to.deep.equal(all.map((r) => Date.parse(r.time)));
    expect(statuses('ns').at(-1)).to.include({ fill: 'green' });
    expect(caught).to.have.length(1);
    expect(JSON.stringify(caught)).not.to.contain(uploadToken('relay'));
  });

  it('refuses readings of a second person, and messages that are not readings (CONFIG)', async () => {
    await load();
    receive('ns', { payload: readings(2, 'sam') });
    await waitFor(() => uploaded().length === 2, 'two uploads');
    const second = nextMessage('caught');
    receive('ns', { reading: readings(1, 'leo', Date.now())[0] });
    const error = (await second).error as CaughtError;
    expect(error.code).to.equal('CONFIG');
    expect(error.message).to.match(/cgm-nightscout\.errors\.two-people/);
    for (const msg of [
      { payload: 'hello' },
      { payload: [{ time: 'yesterday', mgdl: 100, provider: 'dexcom' }] },
    ]) {
      const bad = nextMessage('caught');
      receive('ns', msg);
      expect(((await bad).error as CaughtError).code).to.equal('CONFIG');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(uploaded()).to.have.length(2);
  });

  it('without a secret the node is red and refuses every message', async () => {
    await load(uploader(), { ns: { server: clouds.site('relay') } });
    expect(statuses('ns').at(-1)).to.include({ fill: 'red', text: 'CONFIG' });
    const caught = nextMessage('caught');
    receive('ns', { payload: readings(1) });
    expect(((await caught).error as CaughtError).message).to.match(/apiSecret.*token/);
  });
});
