import { join } from 'node:path';
import { expect } from 'chai';
import { settle, useFollowerTestbed } from './testbed';
import sinon from 'sinon';
import type { SourceConfig } from '../../src/config';
import { MemoryAccountStore } from '../../src/follow/account-state';
import { AccountFollower, type FollowerOptions } from '../../src/follow/follower';
import type { SubjectState } from '../../src/follow/subject-state';
import { HttpTransport } from '../../src/http/transport';
import type { CgmError } from '../../src/model/errors';
import { silentLogger, type Logger } from '../../src/model/logger';
import { parseSourceConfig } from '../../src/source';
import { DEXCOM_DEMO_ACCOUNTS, DexcomSimulator } from '../../src/simulator/dexcom';
import { LIBRE_DEMO_ACCOUNTS, LibreLinkUpSimulator } from '../../src/simulator/librelinkup';
import { Simulator } from '../../src/simulator/server';
import { VITADOCK_DEMO, VitaDockSimulator } from '../../src/simulator/vitadock';

const MINUTE = 60_000;
const SAM = DEXCOM_DEMO_ACCOUNTS[1]!; // ous
const FAMILY = LIBRE_DEMO_ACCOUNTS[0]!; // Mia and Leo Sample
const SMITHS = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('smiths@'))!; // Ben and Anna Smith

describe('AccountFollower (through the simulated clouds)', function () {
  this.timeout(60_000);
  let sim: Simulator;
  let dexcom: DexcomSimulator;
  let libre: LibreLinkUpSimulator;
  const bed = useFollowerTestbed('glucobridge-follow-');

  beforeEach(async () => {
    dexcom = new DexcomSimulator();
    libre = new LibreLinkUpSimulator();
    sim = new Simulator({ providers: [dexcom, libre, new VitaDockSimulator()] });
    await sim.listen();
  });

  afterEach(async () => {
    await sim.close();
  });

  function dexcomConfig(password = SAM.password): SourceConfig {
    return parseSourceConfig({
      provider: 'dexcom',
      name: 'Sam',
      region: 'ous',
      server: `${sim.urlFor('dexcom')}/ous`,
      username: SAM.username,
      password,
    });
  }

  function libreConfig(account = FAMILY, patient?: string): SourceConfig {
    return parseSourceConfig({
      provider: 'librelinkup',
      server: `${sim.urlFor('librelinkup')}/{region}`,
      username: account.email,
      password: account.password,
      ...(patient === undefined ? {} : { patient }),
    });
  }

  function follower(options: Partial<FollowerOptions> & Pick<FollowerOptions, 'config'>): AccountFollower {
    const created = new AccountFollower({
      key: 'acct',
      store: new MemoryAccountStore(),
      logger: silentLogger,
      // Longer than any fake-time step, so a jump of the fake clock never times a loopback request out.
      clientOptions: { transport: new HttpTransport({ timeoutMs: 6 * 60 * MINUTE }) },
      ...options,
    });
    return bed.track(created);
  }

  const logins = () =>
    sim.requests('AuthenticatePublisherAccount').length + sim.requests('LoginPublisherAccountById').length;

  describe('a refused password', () => {
    it('is sent once across three restarts, and once more after the password changes', async () => {
      const file = join(bed.dir, 'state.json');
      for (let run = 0; run < 3; run += 1) {
        const store = bed.fileStore(file);
        const f = follower({
          config: dexcomConfig('a-wrong-password'),
          store: store.account('acct'),
          name: 'Sam',
        });
        const problem = new Promise<CgmError | undefined>((resolve) => f.once('problem', resolve));
        await f.start();
        expect((await problem)?.code, `run ${run}`).to.equal('AUTH_INVALID');
        await f.stop();
        await store.flush();
      }
      expect(logins()).to.equal(1);
      expect(dexcom.state(SAM.username).lockedUntil).to.equal(0);

      const store = bed.fileStore(file);
      const f = follower({ config: dexcomConfig(), store: store.account('acct'), name: 'Sam' });
      const reading = new Promise((resolve) => f.once('reading', resolve));
      await f.start();
      await reading;
      expect(sim.requests('AuthenticatePublisherAccount')).to.have.length(2);
      expect(f.problem).to.equal(undefined);
    });

    it('is remembered without the secret: the file holds a salted fingerprint only', async () => {
      const file = join(bed.dir, 'state.json');
      const store = bed.fileStore(file);
      const f = follower({ config: dexcomConfig('a-wrong-password'), store: store.account('acct') });
      const problem = new Promise((resolve) => f.once('problem', resolve));
      await f.start();
      await problem;
      await store.flush();
      const text = (await import('node:fs')).readFileSync(file, 'utf8');
      expect(text).not.to.include('a-wrong-password');
      expect(text).not.to.include(SAM.username);
      expect(text).to.match(/"fingerprint": "[0-9a-f]{64}"/);
    });

    it('says once, with the hint and the way out, and keeps the person with the problem', async () => {
      const said: string[] = [];
      const logger: Logger = { ...silentLogger, error: (m) => said.push(m), warn: (m) => said.push(m) };
      const f = follower({ config: dexcomConfig('a-wrong-password'), logger, name: 'Sam' });
      const problem = new Promise((resolve) => f.once('problem', resolve));
      await f.start();
      await problem;
      await settle(100);
      expect(said.filter((line) => line.includes('AUTH_INVALID'))).to.have.length(1);
      expect(said[0]).to.match(
        /AUTH_INVALID: .*\(check the "username" and "password".*\)\. Not trying again until the configuration changes\./,
      );
      expect(f.subjects.map((s) => [s.name, s.problem?.code])).to.deep.equal([['Sam', 'AUTH_INVALID']]);
    });
  });

  describe('locks and failing logins', () => {
    it('waits out a lock (at least 15 min for Dexcom), then resumes on its own', async () => {
      bed.clock = sinon.useFakeTimers({
        now: Date.UTC(2026, 10, 30, 3, 1),
        toFake: ['Date', 'setTimeout', 'clearTimeout'],
      });
      dexcom.state(SAM.username).lockedUntil = Date.now() + 10 * MINUTE;
      const f = follower({ config: dexcomConfig(), name: 'Sam' });
      const readings: number[] = [];
      f.on('reading', (_s, r) => readings.push(r.time.getTime()));
      await f.start();
      await bed.advance(MINUTE);
      expect(f.problem?.code).to.equal('ACCOUNT_LOCKED');
      expect(logins()).to.equal(1);
      await bed.advance(14 * MINUTE);
      expect(logins()).to.equal(1);
      await bed.advance(3 * MINUTE);
      expect(logins()).to.equal(3); // the two login steps, once
      expect(readings.length).to.be.greaterThan(0);
      expect(f.problem).to.equal(undefined);
    });

    it('doubles the wait while the account stays locked', async () => {
      bed.clock = sinon.useFakeTimers({
        now: Date.UTC(2026, 10, 30, 3, 1),
        toFake: ['Date', 'setTimeout', 'clearTimeout'],
      });
      dexcom.state(SAM.username).lockedUntil = Date.now() + 20 * MINUTE;
      const f = follower({ config: dexcomConfig(), name: 'Sam' });
      await f.start();
      await bed.advance(60 * MINUTE, 30_000);
      const times = sim
        .requests('AuthenticatePublisherAccount')
        .map((r) => Math.round((r.at - Date.UTC(2026, 10, 30, 3, 1)) / MINUTE));
      // Locked at 0, still locked after 15 min, then 30 min more: the third try gets through.
      expect(times).to.have.length(3);
      expect(times[1]! - times[0]!).to.be.within(15, 16);
      expect(times[2]! - times[1]!).to.be.within(30, 31);
    });

    it('backs a login that fails for a server reason off to an hour: about 30 passwords a day, not 99', async () => {
      bed.clock = sinon.useFakeTimers({
        now: Date.UTC(2026, 10, 30, 3, 1),
        toFake: ['Date', 'setTimeout', 'clearTimeout'],
      });
      sim.faults.add({ kind: 'status', status: 500, path: 'AuthenticatePublisherAccount', times: Infinity });
      const f = follower({ config: dexcomConfig(), name: 'Sam' });
      await f.start();
      await bed.advance(24 * 60 * MINUTE, 60_000);
      const sent = sim.requests('AuthenticatePublisherAccount');
      expect(sent.length).to.be.within(26, 34);
      const gaps = sent.slice(1).map((r, i) => r.at - sent[i]!.at);
      expect(Math.max(...gaps)).to.be.at.most(61 * MINUTE);
    });
  });

  describe('choosing people', () => {
    it('never shows another person: "Anna Smyth" is NOT_FOUND naming who is followed', async () => {
      const f = follower({ config: libreConfig(SMITHS, 'Anna Smyth'), name: 'Anna' });
      const readings: string[] = [];
      f.on('reading', (s) => readings.push(s.name));
      await f.start();
      await settle(300);
      expect(f.problem?.code).to.equal('NOT_FOUND');
      expect(f.problem?.message).to.include('Ben Smith').and.include('Anna Smith');
      expect(f.subjects.map((s) => s.id)).to.deep.equal(['account:acct']);
      expect(readings).to.deep.equal([]);
    });

    it('takes a unique first name, in any case, and the exact name', async () => {
      for (const wanted of ['anna', 'Anna Smith', 'ANNA SMITH']) {
        const f = follower({ config: libreConfig(SMITHS, wanted), name: 'Anna', key: wanted });
        const reading = new Promise<SubjectState>((resolve) => f.once('reading', (s) => resolve(s)));
        await f.start();
        const subject = await reading;
        expect(subject.id, wanted).to.equal(SMITHS.patients[1]!.patientId);
        expect(subject.name).to.equal('Anna');
      }
    });

    it('follows everyone when no patient is set, each under their own name and slug', async () => {
      const f = follower({ config: libreConfig(), name: 'Family' });
      await f.start();
      expect(f.subjects.map((s) => [s.name, s.slug]).sort()).to.deep.equal([
        ['Leo Sample', 'leo_sample'],
        ['Mia Sample', 'mia_sample'],
      ]);
    });

    it('keeps a person missing from one answer, faulted, and shows them again when they return', async () => {
      bed.clock = sinon.useFakeTimers({
        now: Date.UTC(2026, 10, 30, 3, 1),
        toFake: ['Date', 'setTimeout', 'clearTimeout'],
      });
      const store = new MemoryAccountStore();
      const f = follower({ config: libreConfig(), name: 'Family', store });
      const removed: string[] = [];
      f.on('removed', (s) => removed.push(s.name));
      await f.start();
      await bed.advance(2 * MINUTE);
      const mia = f.subjects.find((s) => s.name === 'Mia Sample')!;
      const before = mia.last!.time.getTime();
      // Answers without Mia for a while (the connection list changed), then she is back.
      const without = (body: unknown) => {
        const b = body as { data: { firstName: string }[] };
        return { ...b, data: b.data.filter((c) => c.firstName !== 'Mia') };
      };
      sim.faults.add({
        kind: 'rewrite',
        path: '/llu/connections',
        times: Infinity,
        rewrite: (response) => ({ ...response, body: without(response.body) }),
      });
      await bed.advance(5 * MINUTE);
      expect(mia.problem?.code).to.equal('NOT_FOUND');
      expect(f.subjects.map((s) => s.name)).to.include('Mia Sample');
      sim.faults.clear();
      await bed.advance(10 * MINUTE);
      expect(mia.problem).to.equal(undefined);
      expect(mia.last!.time.getTime()).to.be.greaterThan(before);
      expect(removed).to.deep.equal([]);
      expect(store.current.subjects?.map((s) => s.name).sort()).to.deep.equal(['Leo Sample', 'Mia Sample']);
    });

    it('shows the people it knew at the last start while the cloud is down, with the problem', async () => {
      const store = new MemoryAccountStore();
      await follower({ config: libreConfig(), name: 'Family', store, key: 'family' }).start();
      sim.faults.add({ kind: 'status', status: 503, provider: 'librelinkup', times: Infinity });
      const next = follower({ config: libreConfig(), name: 'Family', store, key: 'family' });
      const seen: string[] = [];
      next.on('subject', (s) => seen.push(s.slug));
      await next.start();
      expect(seen.sort()).to.deep.equal(['leo_sample', 'mia_sample']);
      expect(next.subjects.every((s) => s.problem?.code === 'SERVER')).to.equal(true);
    });
  });

  describe('stale data', () => {
    it('never calls a spot-check meter stale (VitaDock measures when its owner does)', async () => {
      bed.clock = sinon.useFakeTimers({
        now: Date.UTC(2026, 10, 30, 3, 1),
        toFake: ['Date', 'setTimeout', 'clearTimeout'],
      });
      const config = parseSourceConfig({
        provider: 'vitadock',
        name: 'Oma',
        server: sim.urlFor('vitadock'),
        consumerKey: VITADOCK_DEMO.consumerKey,
        consumerSecret: VITADOCK_DEMO.consumerSecret,
        accessToken: VITADOCK_DEMO.accessToken,
        accessSecret: VITADOCK_DEMO.accessSecret,
      });
      const f = follower({ config, name: 'Oma', staleMinutes: 15 });
      const statuses: boolean[] = [];
      f.on('status', (s) => statuses.push(s.stale));
      await f.start();
      await bed.advance(3 * 60 * MINUTE, 60_000);
      const [oma] = f.subjects;
      expect(oma!.continuous).to.equal(false);
      expect(oma!.stale).to.equal(false);
      expect(statuses).to.not.include(true);
    });

    it('calls a continuous sensor stale after staleMinutes without a new reading', async () => {
      bed.clock = sinon.useFakeTimers({
        now: Date.UTC(2026, 10, 30, 3, 1),
        toFake: ['Date', 'setTimeout', 'clearTimeout'],
      });
      const f = follower({ config: dexcomConfig(), name: 'Sam', staleMinutes: 15 });
      await f.start();
      await bed.advance(2 * MINUTE);
      sim.faults.add({ kind: 'status', status: 503, provider: 'dexcom', times: Infinity });
      await bed.advance(20 * MINUTE);
      expect(f.subjects[0]!.stale).to.equal(true);
    });
  });
});
