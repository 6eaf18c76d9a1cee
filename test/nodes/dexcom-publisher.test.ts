import { expect } from 'chai';
import {
  ALL_NODES,
  type Clouds,
  DEXCOM,
  dexcomCredentials,
  dexcomFlow,
  helper,
  nextMessage,
  receive,
  statuses,
  useRuntime,
} from './harness';

const MINUTE = 60_000;

describe('cgm-followers and cgm-upload with a Dexcom account', () => {
  let clouds: Clouds;
  useRuntime((started) => (clouds = started));

  function flow(account: Record<string, unknown> = {}, upload: Record<string, unknown> = {}) {
    return dexcomFlow(
      clouds.dexcomServer,
      [
        { id: 'fol', type: 'cgm-followers', account: 'acct', action: 'list', wires: [['out']] },
        { id: 'up', type: 'cgm-upload', account: 'acct', ...upload, wires: [['out']] },
        { id: 'out', type: 'helper' },
      ],
      { serial: DEXCOM.receiver, ...account },
    );
  }

  async function load(account: Record<string, unknown> = {}, upload: Record<string, unknown> = {}) {
    await helper.load(ALL_NODES, flow(account, upload), dexcomCredentials());
  }

  /** `count` readings `stepMs` apart, as cgm-read-glucose sends a history, the last a minute ago. */
  function readingsEvery(stepMs: number, count: number) {
    const last = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
    return Array.from({ length: count }, (_, i) => ({
      time: new Date(last - (count - 1 - i) * stepMs).toISOString(),
      mgdl: 100 + (i % 7),
      trend: 'flat',
      provider: 'librelinkup',
      subject: 'patient-1',
    }));
  }

  async function caughtError(id: string, payload: unknown) {
    const caught = nextMessage('caught');
    receive(id, { payload });
    return (await caught).error as { code: string; message: string; hint?: string };
  }

  async function send(id: string, payload: unknown) {
    const got = nextMessage('out');
    receive(id, { payload });
    return (await got).payload;
  }

  it('invites a follower, lists it, removes it', async () => {
    await load();
    expect(await send('fol', {})).to.deep.equal([]);
    const invited = (await send('fol', {
      action: 'invite',
      name: 'Grandma',
      email: 'grandma@example.org',
      alerts: { LowAlert: { IsEnabled: true, MaxValue: 80 } },
    })) as { contactId: string; invitationId: string };
    expect(Object.keys(invited)).to.deep.equal(['contactId', 'invitationId']);
    const invitation = clouds.sim.requests('CreateSubscriptionInvitation')[0]!.json as {
      AlertSettings: { LowAlert: { IsEnabled: boolean; MaxValue: number } };
    };
    expect(invitation.AlertSettings.LowAlert).to.include({ IsEnabled: true, MaxValue: 80 });
    const listed = (await send('fol', { action: 'list' })) as { contactId: string; contactName: string }[];
    expect(listed.map((f) => f.contactName)).to.deep.equal(['Grandma']);
    expect(await send('fol', { action: 'remove', name: 'Grandma' })).to.deep.equal({
      removed: invited.contactId,
      name: 'Grandma',
    });
    expect(statuses('fol').at(-1)).to.deep.equal({ fill: 'green', shape: 'dot', text: 'remove' });
    expect(await send('fol', { action: 'list' })).to.deep.equal([]);
  });

  it('refuses an invitation without an e-mail address before any request', async () => {
    await load();
    const caught = nextMessage('caught');
    receive('fol', { payload: { action: 'invite', name: 'Grandma' } });
    const error = (await caught).error as { code: string; message: string };
    expect(error.code).to.equal('CONFIG');
    expect(error.message).to.include('email');
    expect(clouds.sim.requests('CreateContact')).to.have.length(0);
  });

  it('uploads a history array as cgm-read-glucose sends it, and each reading only once', async () => {
    await load();
    const now = Date.now();
    const readings = [3, 2, 1].map((n) => ({
      time: new Date(now - n * 5 * MINUTE).toISOString(),
      mgdl: 100 + n,
      mmol: 5.6,
      trend: 'flat',
      arrow: '→',
      provider: 'librelinkup',
      subject: 'x',
    }));
    expect(await send('up', readings)).to.include({ uploaded: 3, skipped: 0 });
    const posted = clouds.sim.requests('PostReceiverEgvRecords').at(-1)!.json as {
      SN: string;
      Egvs: { Value: number }[];
    };
    expect(posted.SN).to.equal(DEXCOM.receiver);
    expect(posted.Egvs.map((e) => e.Value)).to.deep.equal([103, 102, 101]);
    expect(await send('up', readings)).to.include({ uploaded: 0, skipped: 3 });
    expect(statuses('up').at(-1)).to.deep.equal({
      fill: 'green',
      shape: 'dot',
      text: '↑ 0 · 3 cgm-upload.status.skipped',
    });
  });

  it('a redeploy re-posts nothing: the position is in the account’s state, and the status says what was skipped', async () => {
    await load();
    const readings = readingsEvery(5 * MINUTE, 7);
    expect(await send('up', readings.slice(0, 6))).to.include({ uploaded: 6, skipped: 0 });
    const state = clouds.dexcom.state(DEXCOM.username);
    const posted = state.egvsPosted;
    const posts = clouds.sim.requests('PostReceiverEgvRecords').length;

    await helper.setFlows(flow(), 'full', dexcomCredentials());
    expect(await send('up', readings.slice(0, 6))).to.deep.equal({
      uploaded: 0,
      skipped: 6,
      lastUploaded: readings[5]!.time,
    });
    expect(clouds.sim.requests('PostReceiverEgvRecords')).to.have.length(posts);
    expect(await send('up', readings)).to.include({ uploaded: 1, skipped: 6 });
    expect(state.egvsPosted - posted).to.equal(1);
    expect(statuses('up').at(-1)).to.deep.equal({
      fill: 'green',
      shape: 'dot',
      text: '↑ 1 · 6 cgm-upload.status.skipped',
    });
    expect([...state.uploads.keys()].sort()).to.deep.equal(readings.map((r) => Date.parse(r.time)));
  });

  it('spaces a 1-minute source to one reading per 5 minutes (12–13 an hour); spacing 0 sends them all', async () => {
    await load();
    const minutes = readingsEvery(MINUTE, 60);
    const result = (await send('up', minutes)) as { uploaded: number; skipped: number };
    expect(result.uploaded).to.be.within(12, 13);
    expect(result.uploaded + result.skipped).to.equal(60);
    const times = [...clouds.dexcom.state(DEXCOM.username).uploads.keys()].sort((a, b) => a - b);
    for (let i = 1; i < times.length; i += 1) expect(times[i]! - times[i - 1]!).to.equal(5 * MINUTE);

    await helper.setFlows(flow({ serial: 'SM00001111', takeOverReceiver: true }, { spacing: 0 }), 'full', {
      acct: dexcomCredentials().acct,
    });
    expect(await send('up', minutes)).to.include({ uploaded: 60, skipped: 0 });
  });

  it('a spacing that is not 0–86400 seconds is CONFIG on the node', async () => {
    await load({}, { spacing: -5 });
    expect(statuses('up').at(-1)).to.include({ fill: 'red' });
    expect((await caughtError('up', readingsEvery(MINUTE, 1))).code).to.equal('CONFIG');
    expect(clouds.sim.requests('PostReceiverEgvRecords')).to.have.length(0);
  });

  it('a reading without a time is a reading of now', async () => {
    await load();
    const before = Math.floor(Date.now() / 1000) * 1000;
    expect(await send('up', { mgdl: 131, trend: 'fortyFiveUp' })).to.include({ uploaded: 1 });
    const [time] = [...clouds.dexcom.state(DEXCOM.username).uploads.keys()];
    expect(time).to.be.within(before, Date.now());
  });

  it('refuses to invite an existing contact at a new address (CONFIG), and removes by name or says who exists (NOT_FOUND)', async () => {
    await load();
    await send('fol', { action: 'invite', name: 'Mum', email: 'old@example.org' });
    const again = await caughtError('fol', { action: 'invite', name: 'Mum', email: 'new@example.org' });
    expect(again.code).to.equal('CONFIG');
    expect(again.message).to.include('"Mum" is already a contact').and.include('remove the contact first');
    expect(clouds.sim.requests('CreateContact')).to.have.length(1);
    expect(clouds.sim.requests('CreateSubscriptionInvitation')).to.have.length(1);

    const unknown = await caughtError('fol', { action: 'remove', name: 'Dad' });
    expect(unknown.code).to.equal('NOT_FOUND');
    expect(unknown.message).to.equal(
      'NOT_FOUND: "Dad" is not a contact of this Dexcom account (hint: the contacts are: "Mum")',
    );
    expect(statuses('fol').at(-1)).to.include({ fill: 'red' });
    expect(clouds.sim.requests('DeleteContact')).to.have.length(0);
  });

  it('uploads the single reading of a latest message (msg.reading)', async () => {
    await load();
    const got = nextMessage('out');
    receive('up', {
      payload: 104,
      reading: { time: new Date().toISOString(), mgdl: 104, trend: 'singleUp' },
    });
    expect((await got).payload).to.include({ uploaded: 1 });
  });

  it('refuses a payload that is not a reading', async () => {
    await load();
    const caught = nextMessage('caught');
    receive('up', { payload: 'hello' });
    expect(((await caught).error as { code: string }).code).to.equal('CONFIG');
    expect(statuses('up').at(-1)!.text).to.equal('CONFIG');
  });

  it('refuses impossible readings (issue 17: time 0, 1 mg/dL, 1e308, a time of -1e15) before any request', async () => {
    await load();
    const now = Date.now();
    const bad = [
      { time: 0, mgdl: 1 },
      { time: now, mgdl: 1e308 },
      { time: -1e15, mgdl: 120 },
      [
        { time: new Date(now).toISOString(), mgdl: 120 },
        { time: now + 3 * 86_400_000, mgdl: 120 },
      ],
    ];
    for (const payload of bad) {
      const caught = nextMessage('caught');
      receive('up', { payload });
      const error = (await caught).error as { code: string; message: string };
      expect(error.code, JSON.stringify(payload)).to.equal('CONFIG');
      expect(error.message).to.match(/readings\[\d\]\.(time|mgdl)/);
    }
    expect(clouds.sim.requests('PostReceiverEgvRecords')).to.have.length(0);
    expect(statuses('up').at(-1)!.text).to.equal('CONFIG');
  });

  it('answers a payload 5,000 levels deep with a Catch error, and keeps working', async () => {
    await load();
    let deep: unknown = { time: new Date().toISOString(), mgdl: 120 };
    for (let i = 0; i < 5_000; i += 1) deep = { inner: deep };
    const caught = nextMessage('caught');
    receive('up', { payload: deep });
    expect(((await caught).error as { code: string }).code).to.equal('CONFIG');
    let nested: unknown = [];
    for (let i = 0; i < 5_000; i += 1) nested = [nested];
    const again = nextMessage('caught');
    receive('up', { payload: nested });
    expect(((await again).error as { code: string }).code).to.equal('CONFIG');
    const got = nextMessage('out');
    receive('up', { payload: { time: new Date().toISOString(), mgdl: 120 } });
    expect((await got).payload).to.include({ uploaded: 1 });
  });

  it('CONFIG: uploads need a receiver serial', async () => {
    await load({ serial: '' });
    const caught = nextMessage('caught');
    receive('up', { payload: { time: new Date().toISOString(), mgdl: 120 } });
    expect(((await caught).error as { code: string }).code).to.equal('CONFIG');
  });
});
