import { LoginPolicy } from '../../../src/providers/login-policy';
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import sinon from 'sinon';
import type { LibreLinkUpConfig } from '../../../src/config';
import { HttpTransport } from '../../../src/http/transport';
import type { LibreLinkUpOptions } from '../../../src/providers/librelinkup/client';
import type { SessionState } from '../../../src/providers/provider';
import {
  LIBRE_DEMO_ACCOUNTS,
  LIBRE_DEMO_PASSWORD,
  LibreLinkUpSimulator,
} from '../../../src/simulator/librelinkup';
import { librePoint } from '../../../src/simulator/librelinkup-records';
import { Simulator } from '../../../src/simulator/server';
import { failure, makeClient, makeConfig } from './helpers';

const FAMILY = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('family@'))!;
const [MIA, LEO] = FAMILY.patients as [(typeof FAMILY.patients)[0], (typeof FAMILY.patients)[0]];
const MMOL = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('mmol@'))!;
const MINUTE = 60_000;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

describe('LibreLinkUpClient against the simulator', () => {
  let sim: Simulator;
  let libre: LibreLinkUpSimulator;
  let server: string;
  let clock: sinon.SinonFakeTimers | undefined;

  beforeEach(async () => {
    libre = new LibreLinkUpSimulator();
    sim = new Simulator({ providers: [libre] });
    await sim.listen();
    server = `${sim.urlFor('librelinkup')}/{region}`;
  });

  afterEach(async () => {
    clock?.restore();
    clock = undefined;
    await sim.close();
  });

  function client(fields: Partial<LibreLinkUpConfig> = {}, options: LibreLinkUpOptions = {}) {
    return makeClient(makeConfig({ server, ...fields }), options);
  }

  const logins = (region?: string) =>
    sim.requests('/llu/auth/login').filter((r) => region === undefined || r.path.startsWith(`/${region}/`))
      .length;

  describe('login and reading', () => {
    it('starts at global, follows the redirect, then reads the current value and 12 h of history', async () => {
      const { client: c } = client();
      const info = await c.login();
      expect(info.region).to.equal('eu');
      expect(info.subjects).to.deep.equal([
        { id: MIA.patientId, name: 'Mia Sample' },
        { id: LEO.patientId, name: 'Leo Sample' },
      ]);
      expect(sim.requests().map((r) => `${r.method} ${r.path}`)).to.deep.equal([
        'POST /global/llu/auth/login',
        'POST /eu/llu/auth/login',
        'GET /eu/llu/connections',
      ]);

      const latest = await c.latest();
      expect(latest?.subject).to.equal(MIA.patientId);
      expect(Date.now() - latest!.time.getTime()).to.be.within(0, MINUTE);
      expect(latest?.mgdl).to.equal(librePoint(MIA, latest!.time.getTime()).mgdl);

      const history = await c.history({ minutes: 720 });
      expect(history.length).to.be.within(140, 145);
      expect(history.at(-1)).to.deep.equal(latest);
      const gaps = history.slice(1, -1).map((r, i) => r.time.getTime() - history[i]!.time.getTime());
      expect(new Set(gaps)).to.deep.equal(new Set([5 * MINUTE]));
      expect(Date.now() - history[0]!.time.getTime()).to.be.at.most(720 * MINUTE);
      expect(logins()).to.equal(2);
    });

    it('sends Account-Id = SHA-256 of the follower user id on every authenticated call', async () => {
      const { client: c } = client();
      await c.latest();
      await c.history({ minutes: 60 });
      await c.logbook();
      const authed = sim.requests().filter((r) => r.method === 'GET');
      expect(authed).to.have.length(3);
      for (const request of authed) {
        expect(request.headers['account-id']).to.equal(sha256(FAMILY.userId));
        expect(request.headers['account-id']).not.to.equal(sha256(MIA.patientId));
        expect(request.headers.product).to.equal('llu.android');
        expect(request.headers.version).to.equal('4.16.0');
        expect(request.headers.authorization).to.match(/^Bearer \S+\.\S+\.\S+$/);
      }
    });

    it('shares one login between concurrent calls and reuses the token afterwards', async () => {
      const { client: c } = client();
      await Promise.all([c.latest(), c.history({ minutes: 30 }), c.subjects(), c.latest('Leo Sample')]);
      await c.latest();
      await c.logbook('leo sample');
      expect(logins('eu')).to.equal(1);
    });

    it('follows the first patient by default and names the others once in the log', async () => {
      const { client: c, logger } = client();
      await c.latest();
      await c.latest();
      const notes = logger.lines.filter((l) => l.includes('also followed'));
      expect(notes).to.deep.equal([
        'info LibreLinkUp: following Mia Sample; also followed: Leo Sample (set patient to choose)',
      ]);
    });

    it('picks the configured patient by name in any case, or by id', async () => {
      expect((await client({ patient: 'LEO sample' }).client.latest())?.subject).to.equal(LEO.patientId);
      const byId = client({ patient: LEO.patientId }).client;
      const history = await byId.history({ minutes: 20 });
      expect(history.every((r) => r.subject === LEO.patientId)).to.be.true;
    });

    it('reports an unknown patient as NOT_FOUND naming the followed patients', async () => {
      const error = await failure(client({ patient: 'Nobody Known' }).client.history({ minutes: 60 }));
      expect(error.code).to.equal('NOT_FOUND');
      expect(error.message).to.contain('Mia Sample, Leo Sample');
      expect(error.message).not.to.contain(MIA.patientId);
      expect(sim.requests('/graph')).to.have.length(0);
    });

    it('reports an account that follows nobody with the invitation hint', async () => {
      const error = await failure(client({ username: 'nobody@glucobridge.example' }).client.latest());
      expect(error.code).to.equal('NOT_FOUND');
      expect(error.hint).to.contain('invitation');
      expect(await client({ username: 'nobody@glucobridge.example' }).client.subjects()).to.deep.equal([]);
    });

    it('refuses a non-positive history span as CONFIG', async () => {
      expect((await failure(client().client.history({ minutes: 0 }))).code).to.equal('CONFIG');
    });

    it('marks the sensor LOW and HIGH from isLow/isHigh and reads mg/dL in an mmol/L account', async () => {
      const start = Date.UTC(2026, 10, 1);
      const minutes = Array.from({ length: 24 * 60 }, (_, i) => start + i * MINUTE);
      const low = minutes.find((t) => librePoint(LEO, t).limit === 'low')!;
      const noah = MMOL.patients[0]!;
      const high = minutes.find((t) => librePoint(noah, t).limit === 'high')!;
      expect(low).to.be.a('number');
      expect(high).to.be.a('number');

      clock = sinon.useFakeTimers({ now: low + 30 * 1000, toFake: ['Date'] });
      const leo = await client({ patient: 'Leo Sample' }).client.latest();
      expect(leo).to.include({ mgdl: 39, limit: 'low', trend: 'notComputable' });

      clock.setSystemTime(high + 30 * 1000);
      const mmolAccount = client({ username: MMOL.email });
      const noahLatest = await mmolAccount.client.latest();
      expect(noahLatest).to.include({ mgdl: 401, limit: 'high', mmol: 22.3 });
      const history = await mmolAccount.client.history({ minutes: 720 });
      expect(history.every((r) => Number.isInteger(r.mgdl) && r.mgdl >= 39)).to.be.true;
    });

    it('reads the logbook of alarm events, oldest first', async () => {
      const book = await client({ patient: 'Leo Sample' }).client.logbook();
      expect(book.length).to.be.greaterThan(0);
      const times = book.map((r) => r.time.getTime());
      expect(times).to.deep.equal([...times].sort((a, b) => a - b));
      expect(times[0]).to.be.at.least(Date.now() - 14 * 24 * 60 * MINUTE);
      expect(book.every((r) => r.mgdl < 70 || r.mgdl > 250)).to.be.true;
    });

    it('refuses every call after close()', async () => {
      const { client: c } = client();
      await c.close();
      expect((await failure(c.latest())).code).to.equal('CONFIG');
      expect(sim.requests()).to.have.length(0);
    });
  });

  describe('refusals and sessions', () => {
    it('sends a rejected password exactly once, even when asked again', async () => {
      const { client: c } = client({ password: 'wrong-password-for-test' });
      expect((await failure(c.login())).code).to.equal('AUTH_INVALID');
      expect((await failure(c.login())).code).to.equal('AUTH_INVALID');
      expect((await failure(c.latest())).code).to.equal('AUTH_INVALID');
      expect(logins()).to.equal(1);
    });

    it('reports the lockout after three failures in a minute, with the lock time', async () => {
      for (let i = 0; i < 3; i += 1) {
        const attempt = await failure(client({ password: `wrong-${i}-password` }).client.login());
        expect(attempt.code).to.equal('AUTH_INVALID');
      }
      const locked = await failure(client().client.login());
      expect(locked.code).to.equal('ACCOUNT_LOCKED');
      expect(locked.retryAfterMs).to.equal(300_000);
      libre.unlock(FAMILY.email);
      expect((await client().client.login()).region).to.equal('eu');
    });

    it('logs in again exactly once when the token is revoked', async () => {
      const { client: c } = client();
      await c.latest();
      libre.expireTokens();
      expect((await c.latest())?.subject).to.equal(MIA.patientId);
      expect(logins('eu')).to.equal(2);
      expect(sim.requests('/connections').filter((r) => r.path.startsWith('/eu/'))).to.have.length(3);
    });

    it('logs in again before a token runs out, without waiting for a 401', async () => {
      libre = new LibreLinkUpSimulator({ tokenLifetimeMs: 10 * MINUTE });
      await sim.close();
      sim = new Simulator({ providers: [libre] });
      await sim.listen();
      server = `${sim.urlFor('librelinkup')}/{region}`;
      clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
      const { client: c } = client();
      await c.latest();
      clock.tick(9.5 * MINUTE); // within the safety margin of the expiry
      await c.latest();
      expect(logins('eu')).to.equal(2);
      expect(sim.requests('/connections').filter((r) => r.path.startsWith('/eu/'))).to.have.length(2);
    });

    it('stops a redirect loop after two hops', async () => {
      const error = await failure(client({ username: 'loop@glucobridge.example' }).client.login());
      expect(error.code).to.equal('REGION_REDIRECT');
      expect(error.message).to.contain('global → eu → de → eu');
      expect(sim.requests('/llu/auth/login').map((r) => r.path)).to.deep.equal([
        '/global/llu/auth/login',
        '/eu/llu/auth/login',
        '/de/llu/auth/login',
      ]);
    });

    it('follows a region redirect on a later call and persists the new region', async () => {
      const { client: c } = client();
      const sessions: SessionState[] = [];
      c.onSession((s) => sessions.push(s));
      await c.latest();
      libre.moveAccount(FAMILY.email, 'de');
      expect((await c.latest())?.subject).to.equal(MIA.patientId);
      expect(sim.requests('/connections').map((r) => r.path)).to.deep.equal([
        '/eu/llu/connections',
        '/eu/llu/connections',
        '/de/llu/connections',
      ]);
      expect(logins()).to.equal(2);
      expect(sessions.at(-1)?.data.region).to.equal('de');
    });

    it('starts at the configured region without a redirect', async () => {
      await client({ region: 'eu' }).client.login();
      expect(sim.requests('/llu/auth/login').map((r) => r.path)).to.deep.equal(['/eu/llu/auth/login']);
    });

    it('restores a persisted session without logging in, and ignores one of another account', async () => {
      const first = client();
      const sessions: SessionState[] = [];
      first.client.onSession((s) => sessions.push(s));
      await first.client.login();
      const saved = sessions.at(-1)!;
      expect(saved.provider).to.equal('librelinkup');
      expect(saved.account).to.equal(sha256(FAMILY.email));
      expect(Object.keys(saved.data).sort()).to.deep.equal(['expires', 'region', 'token', 'userId']);
      expect(saved.data.userId).to.equal(FAMILY.userId);
      sim.clearRequests();

      const restored = client({}, { session: saved });
      expect((await restored.client.latest())?.subject).to.equal(MIA.patientId);
      expect(logins()).to.equal(0);
      expect(sim.requests()[0]?.path).to.equal('/eu/llu/connections');

      const other = client({ username: 'carer@glucobridge.example' }, { session: saved });
      await other.client.latest();
      expect(logins()).to.equal(1);
    });

    it('logs in once when a restored token has been revoked', async () => {
      const first = client();
      let saved: SessionState | undefined;
      first.client.onSession((s) => (saved = s));
      await first.client.login();
      libre.expireTokens();
      sim.clearRequests();
      const restored = client({}, { session: saved });
      await restored.client.latest();
      expect(logins()).to.equal(1);
    });

    it('uses and persists the refreshed ticket of each answer', async () => {
      libre.rotateTickets = true;
      const { client: c } = client();
      const sessions: SessionState[] = [];
      c.onSession((s) => sessions.push(s));
      await c.latest();
      await c.latest();
      const [first, second] = sim.requests('/connections').filter((r) => r.path.startsWith('/eu/'));
      expect(second!.headers.authorization).not.to.equal(first!.headers.authorization);
      expect(second!.headers.authorization).to.equal(`Bearer ${String(sessions[1]?.data.token)}`);
      expect(sessions).to.have.length(3);
    });

    it('adopts the minimum the service asks for over an older configured version; the next login sends it', async () => {
      const time = { now: Date.now() };
      const { client: c, logger } = client(
        { version: '4.12.0' },
        { loginGate: new LoginPolicy({ now: () => time.now }) },
      );
      const error = await failure(c.login());
      expect(error.code).to.equal('SERVER');
      expect(error.detail).to.deep.include({ minimumVersion: '4.16.0' });
      expect(c.appVersion).to.equal('4.16.0');
      time.now += 2 * MINUTE;
      await c.login();
      const posts = sim.requests('/llu/auth/login').map((r) => r.headers.version);
      expect(posts).to.deep.equal(['4.12.0', '4.16.0', '4.16.0']); // the second login is redirected once
      expect(logger.lines.filter((l) => l.includes('sending 4.16.0'))).to.have.length(1);
    });

    it('sends a configured newer version', async () => {
      await client({ version: '4.17.0' }).client.login();
      expect(sim.requests().every((r) => r.headers.version === '4.17.0')).to.be.true;
    });
  });

  describe('terms steps', () => {
    it('stops at the terms of use without acceptTerms', async () => {
      const error = await failure(client({ username: 'terms@glucobridge.example' }).client.login());
      expect(error.code).to.equal('TERMS_REQUIRED');
      expect(error.detail).to.deep.equal({ step: 'tou' });
      expect(sim.requests('/auth/continue')).to.have.length(0);
    });

    it('accepts the terms of use, then the privacy policy, when acceptTerms is on', async () => {
      const { client: c, logger } = client({ username: 'terms@glucobridge.example', acceptTerms: true });
      expect((await c.login()).region).to.equal('de');
      expect(sim.requests('/auth/continue').map((r) => r.path)).to.deep.equal([
        '/de/auth/continue/tou',
        '/de/auth/continue/pp',
      ]);
      expect(logger.lines.filter((l) => l.includes('accepted'))).to.have.length(2);
      // Accepted for good: the next client logs in straight away.
      await client({ username: 'terms@glucobridge.example' }).client.login();
    });

    it('never verifies an e-mail address for the user', async () => {
      const error = await failure(
        client({ username: 'verify@glucobridge.example', acceptTerms: true }).client.login(),
      );
      expect(error.code).to.equal('TERMS_REQUIRED');
      expect(error.detail).to.deep.equal({ step: 'verifyEmail' });
      expect(sim.requests('/auth/continue')).to.have.length(0);
    });
  });

  describe('faults', () => {
    it('retries a 503 and reads the value', async () => {
      const { client: c } = client();
      await c.login();
      sim.faults.add({ kind: 'status', provider: 'librelinkup', path: '/connections', status: 503 });
      expect((await c.latest())?.subject).to.equal(MIA.patientId);
      expect(sim.requests('/eu/llu/connections')).to.have.length(3);
    });

    it('gives SERVER for an HTML error page that does not go away', async () => {
      const { client: c } = client();
      await c.login();
      sim.faults.add({ kind: 'html', provider: 'librelinkup', path: '/connections', times: Infinity });
      expect((await failure(c.latest())).code).to.equal('SERVER');
      expect(sim.requests('/eu/llu/connections')).to.have.length(4); // the login's call, then 3 attempts
    });

    it('gives RATE_LIMITED for HTTP 430 at login, waits at least 5 minutes, and does not hammer', async () => {
      const { client: c } = client();
      sim.faults.add({ kind: 'rateLimit', provider: 'librelinkup', path: '/auth/login', status: 430 });
      const error = await failure(c.login());
      expect(error.code).to.equal('RATE_LIMITED');
      expect(error.retryAfterMs).to.equal(300_000);
      expect(error.message).to.contain('HTTP 430');
      // Asked again at once: refused by the login policy without a second post.
      expect((await failure(c.login())).message).to.match(/next login in 5 min/);
      expect(logins()).to.equal(1);
    });

    it('gives PROTOCOL for truncated and malformed bodies, never AUTH_INVALID', async () => {
      const clock = { now: Date.now() };
      const { client: c } = client({}, { loginGate: new LoginPolicy({ now: () => clock.now }) });
      sim.faults.add({ kind: 'truncated', provider: 'librelinkup', path: '/auth/login' });
      expect((await failure(c.login())).code).to.equal('PROTOCOL');
      clock.now += 60 * 60_000;
      sim.faults.add({ kind: 'malformed', provider: 'librelinkup', path: '/auth/login' });
      expect((await failure(c.login())).code).to.equal('PROTOCOL');
      clock.now += 60 * 60_000;
      await c.login();
      sim.faults.add({ kind: 'malformed', provider: 'librelinkup', path: '/graph' });
      expect((await failure(c.history({ minutes: 60 }))).code).to.equal('PROTOCOL');
    });

    it('gives NETWORK for a dropped connection and TIMEOUT for a silent server', async () => {
      const transport = new HttpTransport({ timeoutMs: 150 });
      const clock = { now: Date.now() };
      const { client: c } = client({}, { transport, loginGate: new LoginPolicy({ now: () => clock.now }) });
      sim.faults.add({ kind: 'reset', provider: 'librelinkup', times: 1 });
      expect((await failure(c.login())).code).to.equal('NETWORK');
      clock.now += 60 * 60_000;
      sim.faults.add({ kind: 'timeout', provider: 'librelinkup', times: 1 });
      expect((await failure(c.login())).code).to.equal('TIMEOUT');
      // One login POST per attempt: a lost answer is not answered by sending the password again.
      expect(sim.requests('/llu/auth/login')).to.have.length(2);
      clock.now += 60 * 60_000;
      expect((await c.login()).region).to.equal('eu');
    });
  });

  it('never puts the password, e-mail, token or user id in an error, hint or log line', async () => {
    const said: string[] = [];
    const collect = async (promise: Promise<unknown>) => {
      const error = await failure(promise);
      said.push(error.message, String(error.hint), JSON.stringify(error), JSON.stringify(error.detail));
    };
    const good = client();
    let token = '';
    good.client.onSession((s) => (token = String(s.data.token)));
    await good.client.login();
    sim.faults.add({ kind: 'html', provider: 'librelinkup', times: Infinity });
    await collect(good.client.latest());
    sim.faults.clear();
    libre.expireTokens();
    sim.faults.add({
      kind: 'status',
      provider: 'librelinkup',
      path: '/auth/login',
      status: 500,
      times: Infinity,
    });
    await collect(good.client.latest());
    sim.faults.clear();
    const bad = client({ password: 'wrong-but-secret-password' });
    await collect(bad.client.login());
    await collect(client({ username: 'terms@glucobridge.example' }).client.login());
    await collect(client({ username: 'verify@glucobridge.example' }).client.login());
    libre.requireVersion('4.17.0', 'not-a-version');
    await collect(client({ version: '4.0.0' }).client.login());
    said.push(...good.logger.lines, ...bad.logger.lines);
    const text = said.join('\n');
    expect(token).to.have.length.greaterThan(20);
    for (const secret of [
      LIBRE_DEMO_PASSWORD,
      'wrong-but-secret-password',
      FAMILY.email,
      token,
      FAMILY.userId,
    ]) {
      expect(text).not.to.contain(secret);
    }
    expect(text).not.to.contain('glucobridge.example');
  });
});
