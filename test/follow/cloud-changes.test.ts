// The follower through LibreLinkUp's changes: an app version adopted and kept across restarts, a blocked
// login posted once and waited out, the sensor and the cloud's own limits in each person's state.
import { join } from 'node:path';
import { expect } from 'chai';
import { useFollowerTestbed } from './testbed';
import sinon from 'sinon';
import { parseSourceConfig } from '../../src/source';
import { MemoryAccountStore } from '../../src/follow/account-state';
import { AccountFollower, type FollowerOptions } from '../../src/follow/follower';
import type { SubjectState } from '../../src/follow/subject-state';
import { HttpTransport } from '../../src/http/transport';
import type { CgmError } from '../../src/model/errors';
import { silentLogger } from '../../src/model/logger';
import { LIBRE_DEMO_ACCOUNTS, LibreLinkUpSimulator } from '../../src/simulator/librelinkup';
import { sensorSerial, sensorStart } from '../../src/simulator/librelinkup-records';
import type { FaultSpec } from '../../src/simulator/faults';
import { Simulator } from '../../src/simulator/server';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const FAMILY = LIBRE_DEMO_ACCOUNTS[0]!;
const [MIA, LEO] = FAMILY.patients as [(typeof FAMILY.patients)[0], (typeof FAMILY.patients)[0]];

describe('AccountFollower through LibreLinkUp changes', function () {
  this.timeout(60_000);
  let sim: Simulator;
  let libre: LibreLinkUpSimulator;
  const bed = useFollowerTestbed('glucobridge-changes-');

  beforeEach(async () => {
    libre = new LibreLinkUpSimulator();
    sim = new Simulator({ providers: [libre] });
    await sim.listen();
  });
  afterEach(async () => {
    await sim.close();
  });

  function follower(options: Partial<FollowerOptions> = {}, fields: Record<string, unknown> = {}) {
    const created = new AccountFollower({
      key: 'family',
      store: new MemoryAccountStore(),
      logger: silentLogger,
      config: parseSourceConfig({
        provider: 'librelinkup',
        server: `${sim.urlFor('librelinkup')}/{region}`,
        username: FAMILY.email,
        password: FAMILY.password,
        ...fields,
      }),
      clientOptions: { transport: new HttpTransport({ timeoutMs: 6 * 60 * MINUTE }) },
      ...options,
    });
    return bed.track(created);
  }

  const loginPosts = () => sim.requests('/llu/auth/login');

  describe('the app version', () => {
    it('adopted mid-run keeps the readings coming, and survives a restart', async () => {
      const file = join(bed.dir, 'state.json');
      const store = bed.fileStore(file);
      // Watched mode: no poller runs alongside, so every request here is one of these reads.
      const first = follower({ store: store.account('family'), follow: 'watched' }, { patient: 'Mia' });
      await first.start();
      const mia = first.subjects[0]!;
      expect(await first.latest(mia)).to.not.equal(null);
      libre.requireVersion('4.17.0');
      const before = sim.requests('/llu/connections').length;
      expect(await first.latest(mia)).to.not.equal(null);
      expect(first.problem).to.equal(undefined);
      expect(
        sim
          .requests('/llu/connections')
          .slice(before)
          .map((r) => r.headers.version),
      ).to.deep.equal(['4.16.0', '4.17.0']);
      await first.stop();
      await store.flush();

      sim.clearRequests();
      const again = bed.fileStore(file);
      expect((await again.account('family').load()).versions).to.deep.equal({ librelinkup: '4.17.0' });
      const second = follower({ store: again.account('family'), follow: 'watched' }, { patient: 'Mia' });
      await second.start();
      expect(await second.latest(second.subjects[0]!)).to.not.equal(null);
      // Not one 920 in the second run: every request carried the adopted version.
      expect(sim.requests().length).to.be.greaterThan(1);
      expect(sim.requests().every((r) => r.headers.version === '4.17.0')).to.equal(true);
    });
  });

  describe('a blocked login', () => {
    const blocks = {
      'HTTP 430': { kind: 'rateLimit', status: 430 },
      'HTTP 429': { kind: 'rateLimit', status: 429 },
      'a Cloudflare 403 page': { kind: 'html', status: 403 },
      'body status 429': { kind: 'answer', response: { status: 200, body: { status: 429 } } },
    } as const;
    for (const [name, fault] of Object.entries(blocks)) {
      it(`${name}: exactly 1 login post in the next minute, the problem says why, one more after the wait`, async () => {
        bed.clock = sinon.useFakeTimers({
          now: Date.UTC(2026, 10, 30, 3, 1),
          toFake: ['Date', 'setTimeout', 'clearTimeout'],
        });
        sim.faults.add({ ...fault, provider: 'librelinkup', path: '/auth/login', times: 1 });
        const f = follower();
        const problems: (CgmError | undefined)[] = [];
        f.on('problem', (p) => problems.push(p));
        await f.start();
        await bed.advance(MINUTE);
        expect(loginPosts()).to.have.length(1);
        expect(f.problem?.code).to.equal('RATE_LIMITED');
        expect(f.problem?.message).to.contain('LibreLinkUp refused the login for now');
        expect(f.problem?.hint).to.contain('stop other apps');
        expect(f.problem?.retryAfterMs).to.be.at.least(5 * MINUTE);
        // Polls asked for meanwhile (a host's input) post nothing either.
        await f.pollNow();
        await bed.advance(3 * MINUTE);
        expect(loginPosts()).to.have.length(1);
        await bed.advance(3 * MINUTE);
        expect(loginPosts().length).to.be.within(2, 3); // one login again (a redirect may add its hop)
        expect(loginPosts().filter((r) => r.path.startsWith('/global/'))).to.have.length(2);
        expect(f.problem).to.equal(undefined);
        expect(problems.at(-1)).to.equal(undefined);
      });
    }
  });

  describe('what the connection says besides glucose', () => {
    it("puts each person's sensor in their state: serial, start, end after 14 days or sensorDays", async () => {
      const f = follower({}, { sensorDays: 15 });
      const changed: string[] = [];
      f.on('details', (s: SubjectState) => changed.push(s.name));
      await f.start();
      const now = Date.now();
      for (const patient of [MIA, LEO]) {
        const state = f.subjects.find((s) => s.id === patient.patientId)!;
        const start = sensorStart(patient, now);
        expect(state.sensor?.serial).to.equal(sensorSerial(patient, start));
        expect(state.sensor?.activated.getTime()).to.equal(start);
        const status = state.sensorStatus(now)!;
        expect(status.ends).to.equal(new Date(start + 15 * DAY).toISOString());
        expect(status.warmingUp).to.equal(now - start < 60 * MINUTE);
        expect(status.daysLeft).to.be.closeTo((start + 15 * DAY - now) / DAY, 0.1);
      }
      expect(changed.sort()).to.deep.equal(['Leo Sample', 'Mia Sample']);
      // Nothing changed on the next answer: no event.
      await f.latest(f.subjects[0]!);
      expect(changed).to.have.length(2);
    });

    /** Every connection the cloud lists carries this target range (mg/dL). */
    const targetRange = (targetLow: number, targetHigh: number): FaultSpec => ({
      kind: 'rewrite',
      provider: 'librelinkup',
      path: /\/llu\/connections$/,
      times: Infinity,
      rewrite: (response) => {
        const body = response.body as { data: Record<string, unknown>[] };
        return {
          ...response,
          body: { ...body, data: body.data.map((c) => ({ ...c, targetLow, targetHigh })) },
        };
      },
    });

    it('with cloudThresholds, takes low and high from the target range and urgent low from the alarms', async () => {
      sim.faults.add(targetRange(80, 150));
      const configured = { urgentLow: 50, low: 65, high: 240 };
      const cloud = follower({ thresholds: configured, cloudThresholds: true });
      await cloud.start();
      expect(cloud.subjects[0]!.thresholds).to.deep.equal({ urgentLow: 55, low: 80, high: 150 });
      const fixed = follower({ thresholds: configured, key: 'other' });
      await fixed.start();
      expect(fixed.subjects[0]!.thresholds).to.deep.equal(configured);
      // Limits that do not rise are not used.
      sim.faults.clear();
      sim.faults.add(targetRange(200, 150));
      const odd = follower({ thresholds: configured, cloudThresholds: true, key: 'odd' });
      await odd.start();
      expect(odd.subjects[0]!.thresholds).to.deep.equal(configured);
    });
  });
});
