import { expect } from 'chai';
import sinon from 'sinon';
import type { Measurement } from '../../../src/model/measurement';
import { MINUTE_MS } from '../../../src/providers/vitadock/constants';
import { VITADOCK_DEMO } from '../../../src/simulator/vitadock';
import { tracePoint } from '../../../src/simulator/trace';
import { demoConfig, makeClient, recordingLogger, rejection, startVitaDock, type Harness } from './helpers';

// 2026-03-02 10:07 UTC: a fixed "now" so the simulated records are the same every run.
const NOW = Date.UTC(2026, 2, 2, 10, 7, 0);

describe('vitadock data (against the simulator)', () => {
  let h: Harness;
  let clock: sinon.SinonFakeTimers;
  beforeEach(async () => {
    // Only Date is faked: sockets and timers stay real, the simulator and client share the instant.
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date'] });
    h = await startVitaDock({ seed: 'data-test' });
  });
  afterEach(async () => {
    await h.close();
    clock.restore();
  });

  it('reads glucose history with start, max and date_since on every page, oldest first', async () => {
    const client = makeClient(demoConfig(h.server, { name: 'Sam' }));
    const readings = await client.history({ minutes: 36 * 60 });
    // One reading every 15 minutes over 36 hours.
    expect(readings).to.have.length(144);
    expect(readings[0]!.time.getTime()).to.be.greaterThan(NOW - 36 * 60 * MINUTE_MS);
    for (let i = 1; i < readings.length; i += 1) {
      expect(readings[i]!.time.getTime()).to.equal(readings[i - 1]!.time.getTime() + 15 * MINUTE_MS);
    }
    const last = readings.at(-1)!;
    expect(last.time.toISOString()).to.equal('2026-03-02T10:00:00.000Z');
    expect(last).to.include({ provider: 'vitadock', subject: 'Sam', trend: 'none', arrow: '-' });
    expect(last.mgdl).to.equal(tracePoint('data-test', last.time.getTime()).mgdl);

    const pages = h.sim.requests('/data/glucodockglucoses');
    expect(pages.map((r) => r.query)).to.deep.equal([
      { start: '0', max: '100', date_since: String(NOW - 36 * 60 * MINUTE_MS) },
      { start: '100', max: '100', date_since: String(NOW - 36 * 60 * MINUTE_MS) },
    ]);
    for (const page of pages) {
      expect(page.headers.accept).to.equal('application/json');
      expect(String(page.headers.authorization)).to.match(
        /^OAuth oauth_consumer_key=.*oauth_signature="[^"]+"$/,
      );
      expect(String(page.headers.authorization)).not.to.match(/date_since|start|max/);
    }
  });

  it('pages through three days and stops at the first short page', async () => {
    const client = makeClient(demoConfig(h.server));
    h.vitadock.records('glucodockglucoses'); // generate before counting
    const history = await client.history({ minutes: 3 * 24 * 60 });
    expect(history).to.have.length(288);
    expect(h.sim.requests('/data/glucodockglucoses').map((r) => r.query.start)).to.deep.equal([
      '0',
      '100',
      '200',
    ]);
  });

  it('drops deleted records, in history and in latest', async () => {
    const client = makeClient(demoConfig(h.server));
    const before = await client.latest();
    expect(before?.time.toISOString()).to.equal('2026-03-02T10:00:00.000Z');
    const records = h.vitadock.records('glucodockglucoses');
    const newest = records.reduce((a, b) => (a.measurementDate > b.measurementDate ? a : b));
    expect(h.vitadock.deleteRecord('glucodockglucoses', newest.id)).to.equal(true);

    const sync = await client.sync('glucodockglucoses');
    expect(sync.deletedIds).to.deep.equal([newest.id]);
    const after = await client.latest();
    expect(after?.time.toISOString()).to.equal('2026-03-02T09:45:00.000Z');
    const history = await client.history({ minutes: 60 });
    expect(history.map((r) => r.time.toISOString())).to.deep.equal([
      '2026-03-02T09:15:00.000Z',
      '2026-03-02T09:30:00.000Z',
      '2026-03-02T09:45:00.000Z',
    ]);
  });

  it('keeps latest current through /sync from its cursor, one short request per poll', async () => {
    const client = makeClient(demoConfig(h.server));
    await client.latest();
    h.sim.clearRequests();
    clock.tick(15 * MINUTE_MS);
    const next = await client.latest();
    expect(next?.time.toISOString()).to.equal('2026-03-02T10:15:00.000Z');
    const syncs = h.sim.requests('/sync');
    expect(syncs).to.have.length(1);
    // From the newest update seen, less the overlap.
    expect(syncs[0]!.query).to.deep.equal({
      start: '0',
      max: '100',
      date_since: String(Date.UTC(2026, 2, 2, 10, 0) - MINUTE_MS),
    });
    const change = await client.sync('glucodockglucoses');
    expect(change.readings).to.deep.equal([]);
  });

  it('reads every other module as typed measurements with units', async () => {
    const client = makeClient(demoConfig(h.server));
    const day = 24 * 60;
    const byModule: Record<string, Measurement[]> = {};
    for (const module of [
      'cardiodocks',
      'targetscales',
      'thermodocks',
      'glucodockinsulins',
      'glucodockmeals',
      'tracker/activity',
      'tracker/stats',
      'activitydocks',
    ]) {
      byModule[module] = await client.measurements({ module, minutes: 2 * day });
    }
    const bp = byModule.cardiodocks!;
    expect(bp.map((m) => m.time.toISOString())).to.deep.equal([
      '2026-02-28T20:00:00.000Z',
      '2026-03-01T08:00:00.000Z',
      '2026-03-01T20:00:00.000Z',
      '2026-03-02T08:00:00.000Z',
    ]);
    const wire = h.vitadock.records('cardiodocks').find((r) => r.id === bp[3]!.id)!;
    expect(bp[3]).to.deep.include({
      kind: 'bloodPressure',
      provider: 'vitadock',
      subject: 'vitadock',
      module: 'cardiodocks',
      systolic: wire.systole,
      diastolic: wire.diastole,
      pulse: wire.pulse,
    });
    expect(byModule.targetscales![0]).to.include({
      kind: 'weight',
      muscleMassPercent: null,
      boneMassKg: null,
    });
    expect(byModule.targetscales![0]!.kind === 'weight' && byModule.targetscales![0]!.weightKg).to.be.within(
      71,
      73.5,
    );
    expect(
      byModule.thermodocks![0]!.kind === 'temperature' && byModule.thermodocks![0]!.celsius,
    ).to.be.within(36.4, 37.3);
    const insulin = byModule.glucodockinsulins!;
    expect(insulin.map((m) => m.kind === 'insulin' && m.insulinType)).to.include.members([
      'rapid-acting',
      'long-acting',
    ]);
    expect(byModule.glucodockmeals![0]).to.include({ kind: 'meal', note: null });
    for (const module of ['tracker/activity', 'tracker/stats', 'activitydocks']) {
      const [first] = byModule[module]!;
      expect(first?.kind, module).to.equal('activity');
      if (first?.kind === 'activity') {
        expect(first.steps, module).to.be.a('number');
        expect(first.distanceMeters, module).to.be.a('number');
        expect(first.kcal, module).to.be.a('number');
      }
    }
  });

  it('counts with a signed date_since and nothing else', async () => {
    const client = makeClient(demoConfig(h.server));
    const count = await client.count('targetscales', NOW - 3 * 24 * 60 * MINUTE_MS);
    expect(count).to.equal(3);
    expect(h.sim.requests('/count')[0]!.query).to.deep.equal({
      date_since: String(NOW - 3 * 24 * 60 * MINUTE_MS),
    });
  });

  it('stops calling after a 401: AUTH_INVALID with the hint to authorise again', async () => {
    const logger = recordingLogger();
    const client = makeClient(demoConfig(h.server), { logger });
    await client.latest();
    h.vitadock.revoke(VITADOCK_DEMO.accessToken);
    const error = await rejection(client.history({ minutes: 60 }));
    expect(error.code).to.equal('AUTH_INVALID');
    expect(error.hint).to.contain('glucobridge vitadock authorize');
    const calls = h.sim.requests('/data').length;
    expect((await rejection(client.latest())).code).to.equal('AUTH_INVALID');
    expect((await rejection(client.measurements({ module: 'cardiodocks', minutes: 60 }))).code).to.equal(
      'AUTH_INVALID',
    );
    expect(h.sim.requests('/data')).to.have.length(calls);
    const secrets = [VITADOCK_DEMO.accessToken, VITADOCK_DEMO.accessSecret, VITADOCK_DEMO.consumerSecret];
    for (const text of [error.message, error.hint ?? '', ...logger.lines]) {
      for (const secret of secrets) expect(text).not.to.contain(secret);
    }
  });

  it('is refused (401 → AUTH_INVALID) when its clock is far off', async () => {
    const client = makeClient(demoConfig(h.server), { now: () => Date.now() - 10 * MINUTE_MS });
    expect((await rejection(client.count('cardiodocks'))).code).to.equal('AUTH_INVALID');
  });

  it('keeps timestamps in order when calls overlap', async () => {
    const client = makeClient(demoConfig(h.server));
    const results = await Promise.all([
      client.latest(),
      client.history({ minutes: 120 }),
      client.measurements({ module: 'thermodocks', minutes: 3 * 24 * 60 }),
      client.count('glucodockmeals'),
    ]);
    expect(results[1]).to.have.length(8);
    const stamps = h.sim
      .requests('/data')
      .map((r) => Number(/oauth_timestamp="(\d+)"/.exec(String(r.headers.authorization))?.[1]));
    expect(stamps).to.deep.equal([...stamps].sort((a, b) => a - b));
    expect(new Set(stamps).size).to.equal(stamps.length);
  });

  it('tells schema mismatches (PROTOCOL) from server trouble (SERVER), retrying the latter', async () => {
    const client = makeClient(demoConfig(h.server));
    h.sim.faults.add({ kind: 'malformed', provider: 'vitadock', path: '/data/' });
    expect((await rejection(client.history({ minutes: 60 }))).code).to.equal('PROTOCOL');
    h.sim.faults.add({ kind: 'truncated', provider: 'vitadock', path: '/data/' });
    expect((await rejection(client.history({ minutes: 60 }))).code).to.equal('PROTOCOL');
    h.sim.faults.add({ kind: 'html', provider: 'vitadock', path: '/data/', times: 2 });
    expect((await rejection(client.history({ minutes: 60 }))).code).to.equal('SERVER');
    h.sim.faults.add({ kind: 'status', status: 503, provider: 'vitadock', path: '/data/' });
    expect(await client.history({ minutes: 60 })).to.have.length(4);
  });

  it('refuses calls after close without touching the network', async () => {
    const client = makeClient(demoConfig(h.server));
    await client.close();
    expect((await rejection(client.latest())).code).to.equal('CONFIG');
    expect(h.sim.requests()).to.have.length(0);
  });

  it('rejects unknown modules and glucose through measurements() as CONFIG', async () => {
    const client = makeClient(demoConfig(h.server));
    expect((await rejection(client.measurements({ module: 'oxymeters', minutes: 60 }))).code).to.equal(
      'CONFIG',
    );
    expect(
      (await rejection(client.measurements({ module: 'glucodockglucoses', minutes: 60 }))).code,
    ).to.equal('CONFIG');
    const bp = makeClient(demoConfig(h.server, { module: 'cardiodocks' }));
    expect((await rejection(bp.latest())).code).to.equal('CONFIG');
    expect(await bp.measurements({ minutes: 24 * 60 })).to.have.length(2);
    expect(h.sim.requests('/data')).to.have.length(1);
  });
});
