import { LoginPolicy } from '../../../src/providers/login-policy';
import { expect } from 'chai';
import sinon from 'sinon';
import { HttpTransport } from '../../../src/http/transport';
import type { CgmError } from '../../../src/model/errors';
import { DexcomClient } from '../../../src/providers/dexcom/client';
import { DEXCOM_JP_APPLICATION_ID, dexcomServicesUrl } from '../../../src/providers/dexcom/constants';
import type { SessionState } from '../../../src/providers/provider';
import { FAST_RETRY, JP, OUS, US, dexcomConfig, rejection, startSim, type SimRig } from './helpers';

const AUTH = 'AuthenticatePublisherAccount';
const LOGIN = 'LoginPublisherAccountById';
const READ = 'ReadPublisherLatestGlucoseValues';
const MINUTE = 60_000;

describe('DexcomClient against the simulator', () => {
  let rig: SimRig;
  afterEach(async () => {
    sinon.restore();
    await rig.close();
  });

  describe('login and sessions', () => {
    beforeEach(async () => {
      rig = await startSim();
    });

    it('logs in in two steps, reuses the session and reads the latest reading', async () => {
      const client = rig.client();
      const info = await client.login();
      expect(info).to.deep.equal({
        provider: 'dexcom',
        region: 'us',
        // Named by the configured name, never by the login.
        subjects: [{ id: US.username, name: 'Dexcom' }],
      });
      const first = await client.latest();
      await client.history({ minutes: 60 });
      expect(rig.sim.requests(AUTH)).to.have.length(1);
      expect(rig.sim.requests(LOGIN)).to.have.length(1);
      const [auth] = rig.sim.requests(AUTH);
      expect(auth!.path).to.equal(`/us/ShareWebServices/Services/General/${AUTH}`);
      expect(auth!.json).to.deep.equal({
        accountName: US.username,
        password: US.password,
        applicationId: 'd89443d2-327c-4a6f-89e5-496bbb0317db',
      });
      const [login] = rig.sim.requests(LOGIN);
      expect(login!.json).to.deep.equal({
        accountId: US.accountId,
        password: US.password,
        applicationId: 'd89443d2-327c-4a6f-89e5-496bbb0317db',
      });
      const reads = rig.sim.requests(READ);
      expect(reads).to.have.length(2);
      expect(reads[0]!.query).to.include({ minutes: '1440', maxCount: '1' });
      expect(reads[0]!.query.sessionId).to.equal(reads[1]!.query.sessionId);
      expect(reads[0]!.body).to.equal('');
      expect(reads[0]!.headers['content-length']).to.equal('0');
      expect(first!.provider).to.equal('dexcom');
      expect(Date.now() - first!.time.getTime()).to.be.lessThan(5 * MINUTE + 30_000);
    });

    it('uses the configured name as subject and skips the first step with an account id', async () => {
      const client = rig.client({ username: undefined, accountId: US.accountId, name: 'Alex' });
      expect(await client.subjects()).to.deep.equal([{ id: 'Alex', name: 'Alex' }]);
      const reading = await client.latest();
      expect(reading!.subject).to.equal('Alex');
      expect(rig.sim.requests(AUTH)).to.have.length(0);
      expect(rig.sim.requests(LOGIN)).to.have.length(1);
    });

    it('refuses a malformed account id before any request', async () => {
      const error = (await rejection(rig.client({ accountId: 'not-a-uuid' }).login())) as CgmError;
      expect(error.code).to.equal('CONFIG');
      expect(rig.sim.requests()).to.have.length(0);
    });

    it('runs one login for concurrent calls', async () => {
      const client = rig.client();
      await Promise.all([client.latest(), client.latest(), client.history({ minutes: 30 }), client.login()]);
      expect(rig.sim.requests(AUTH)).to.have.length(1);
      expect(rig.sim.requests(LOGIN)).to.have.length(1);
    });

    it('makes exactly one login attempt for a rejected password, even when called again', async () => {
      const client = rig.client({ password: 'wrong-password-123' });
      const first = (await rejection(client.latest())) as CgmError;
      const again = (await rejection(client.latest())) as CgmError;
      await rejection(client.login());
      expect(first.code).to.equal('AUTH_INVALID');
      expect(first.vendorCode).to.equal('AccountPasswordInvalid');
      expect(first.retryable).to.equal(false);
      expect(again).to.equal(first);
      expect(rig.sim.requests(AUTH)).to.have.length(1);
      expect(rig.sim.requests(LOGIN)).to.have.length(0);
    });

    it('answers a wrong region like a wrong password, with a hint about the region', async () => {
      const client = rig.client({ username: OUS.username, password: OUS.password });
      const error = (await rejection(client.latest())) as CgmError;
      expect(error.code).to.equal('AUTH_INVALID');
      expect(error.hint)
        .to.match(/ous = everywhere else/)
        .and.match(/"account ID"/);
      const right = rig.client({ username: OUS.username, password: OUS.password, server: rig.server(OUS) });
      expect(await right.latest()).to.not.equal(null);
    });

    it('sends the Japanese application id for jp', async () => {
      const client = rig.client({
        region: 'jp',
        username: JP.username,
        password: JP.password,
        server: rig.server(JP),
      });
      expect(await client.latest()).to.not.equal(null);
      expect((rig.sim.requests(AUTH)[0]!.json as { applicationId: string }).applicationId).to.equal(
        DEXCOM_JP_APPLICATION_ID,
      );
      // A jp account asked with the us application id is refused by the jp server.
      const wrongId = rig.client({ username: JP.username, password: JP.password, server: rig.server(JP) });
      expect(((await rejection(wrongId.latest())) as CgmError).code).to.equal('AUTH_INVALID');
    });

    it('logs in again exactly once when the session expired, then retries the read', async () => {
      const client = rig.client();
      await client.latest();
      rig.dexcom.expireSessions();
      rig.sim.clearRequests();
      expect(await client.latest()).to.not.equal(null);
      expect(rig.sim.requests(AUTH)).to.have.length(0);
      expect(rig.sim.requests(LOGIN)).to.have.length(1);
      expect(rig.sim.requests(READ)).to.have.length(2);
    });

    it('emits the session and restores it without logging in', async () => {
      const states: SessionState[] = [];
      const client = rig.client();
      client.onSession((state) => states.push(state));
      await client.login();
      expect(states).to.have.length(1);
      const [state] = states;
      expect(state!.provider).to.equal('dexcom');
      expect(state!.account).to.match(/^[0-9a-f]{64}$/);
      expect(state!.account).not.to.include(US.username);
      expect(state!.data.accountId).to.equal(US.accountId);
      expect(state!.data.sessionId).to.be.a('string');
      rig.sim.clearRequests();
      const restored = rig.client({}, { session: state! });
      await restored.login();
      await restored.latest();
      expect(rig.sim.requests(AUTH)).to.have.length(0);
      expect(rig.sim.requests(LOGIN)).to.have.length(0);
      expect(rig.sim.requests(READ)[0]!.query.sessionId).to.equal(state!.data.sessionId);
      // Another account's state is ignored.
      const other = rig.client({ username: 'someone-else' }, { session: state! });
      await rejection(other.latest());
      expect(rig.sim.requests(AUTH)).to.have.length(1);
    });

    it('reads the history of a window, oldest first, clamped to 24 h and 288 records', async () => {
      const client = rig.client();
      const hour = await client.history({ minutes: 60 });
      expect(hour.length).to.be.within(11, 12);
      for (let i = 1; i < hour.length; i += 1) {
        expect(hour[i]!.time.getTime() - hour[i - 1]!.time.getTime()).to.equal(5 * MINUTE);
      }
      const day = await client.history({ minutes: 5000 });
      expect(day.length).to.be.within(287, 288);
      const reads = rig.sim.requests(READ);
      expect(reads[0]!.query).to.include({ minutes: '60', maxCount: '288' });
      expect(reads[1]!.query).to.include({ minutes: '1440', maxCount: '288' });
      expect(await client.history({ minutes: 0 })).to.deep.equal([]);
      expect(rig.sim.requests(READ)).to.have.length(2);
    });

    it('refuses a subject that is not this account', async () => {
      const error = (await rejection(rig.client().latest('someone'))) as CgmError;
      expect(error.code).to.equal('NOT_FOUND');
    });
  });

  describe('lockout', () => {
    it('maps too many attempts to ACCOUNT_LOCKED and does not log in for 15 minutes', async () => {
      const clock = sinon.useFakeTimers({ now: Date.UTC(2026, 0, 5, 12), toFake: ['Date'] });
      rig = await startSim({ lockoutMs: 16 * MINUTE });
      rig.dexcom.state(US.username).lockedUntil = Date.now() + 16 * MINUTE;
      const client = rig.client();
      const error = (await rejection(client.latest())) as CgmError;
      expect(error.code).to.equal('ACCOUNT_LOCKED');
      expect(error.vendorCode).to.equal('SSO_AuthenticateMaxAttemptsExceeed');
      expect(error.retryAfterMs).to.be.at.least(15 * MINUTE);
      expect(rig.sim.requests(AUTH)).to.have.length(1);
      clock.tick(14 * MINUTE);
      const still = (await rejection(client.latest())) as CgmError;
      expect(still.code).to.equal('ACCOUNT_LOCKED');
      expect(still.retryAfterMs).to.be.within(MINUTE - 1000, MINUTE);
      expect(rig.sim.requests(AUTH)).to.have.length(1);
      clock.tick(2 * MINUTE + 1);
      expect(await client.latest()).to.not.equal(null);
      expect(rig.sim.requests(AUTH)).to.have.length(2);
    });

    it('locks the simulated account after repeated wrong passwords, for every client', async () => {
      rig = await startSim({ lockoutAfter: 2 });
      const first = (await rejection(rig.client({ password: 'wrong-1' }).latest())) as CgmError;
      const second = (await rejection(rig.client({ password: 'wrong-2' }).latest())) as CgmError;
      const right = (await rejection(rig.client().latest())) as CgmError;
      expect([first.code, second.code, right.code]).to.deep.equal([
        'AUTH_INVALID',
        'ACCOUNT_LOCKED',
        'ACCOUNT_LOCKED',
      ]);
    });
  });

  describe('faults', () => {
    beforeEach(async () => {
      rig = await startSim();
    });

    async function codeOf(promise: Promise<unknown>): Promise<string> {
      return ((await rejection(promise)) as CgmError).code;
    }

    it('retries a 5xx on a read and succeeds', async () => {
      const client = rig.client();
      await client.login();
      rig.sim.faults.add({ kind: 'status', status: 503, path: READ });
      expect(await client.latest()).to.not.equal(null);
      expect(rig.sim.requests(READ)).to.have.length(2);
    });

    it('gives TIMEOUT, SERVER (HTML, bare 500), PROTOCOL (truncated, malformed) after bounded retries', async () => {
      const client = new DexcomClient(dexcomConfig({ server: rig.server() }), {
        retry: FAST_RETRY,
        transport: new HttpTransport({ timeoutMs: 150 }),
      });
      await client.login();
      rig.sim.faults.add({ kind: 'timeout', path: READ, times: 3 });
      expect(await codeOf(client.latest())).to.equal('TIMEOUT');
      expect(rig.sim.requests(READ)).to.have.length(3);
      rig.sim.faults.add({ kind: 'html', path: READ, times: 3 });
      expect(await codeOf(client.latest())).to.equal('SERVER');
      rig.sim.faults.add({ kind: 'status', status: 500, path: READ, times: 3 });
      expect(await codeOf(client.latest())).to.equal('SERVER');
      rig.sim.faults.add({ kind: 'truncated', path: READ });
      expect(await codeOf(client.latest())).to.equal('PROTOCOL');
      rig.sim.faults.add({ kind: 'malformed', path: READ });
      expect(await codeOf(client.history({ minutes: 30 }))).to.equal('PROTOCOL');
      rig.sim.faults.add({ kind: 'reset', path: READ, times: 3 });
      expect(await codeOf(client.latest())).to.equal('NETWORK');
      // The session survived all of it.
      expect(rig.sim.requests(LOGIN)).to.have.length(1);
      expect(await client.latest()).to.not.equal(null);
    });

    it('gives RATE_LIMITED with the Retry-After time and does not hammer', async () => {
      const client = rig.client();
      await client.login();
      rig.sim.faults.add({ kind: 'rateLimit', path: READ, retryAfterSeconds: 120 });
      const error = (await rejection(client.latest())) as CgmError;
      expect(error.code).to.equal('RATE_LIMITED');
      expect(error.retryAfterMs).to.equal(120_000);
      expect(rig.sim.requests(READ)).to.have.length(1);
    });

    it('never retries a login request; the next login waits out the backoff, then goes through', async () => {
      rig.sim.faults.add({ kind: 'html', path: AUTH });
      const clock = { now: Date.now() };
      const client = rig.client(
        {},
        { loginGate: new LoginPolicy({ now: () => clock.now, random: () => 0 }) },
      );
      const error = (await rejection(client.latest())) as CgmError;
      expect(error.code).to.equal('SERVER');
      expect(error.retryAfterMs).to.equal(48_000);
      expect(rig.sim.requests(AUTH)).to.have.length(1);
      const early = (await rejection(client.latest())) as CgmError;
      expect([early.code, early.retryAfterMs]).to.deep.equal(['SERVER', 48_000]);
      expect(rig.sim.requests(AUTH)).to.have.length(1);
      clock.now += 48_000;
      expect(await client.latest()).to.not.equal(null);
      expect(rig.sim.requests(AUTH)).to.have.length(2);
    });

    it('reads a non-JSON 200 on login as PROTOCOL, never as a bad password', async () => {
      rig.sim.faults.add({ kind: 'truncated', path: LOGIN });
      const clock = { now: Date.now() };
      const client = rig.client({}, { loginGate: new LoginPolicy({ now: () => clock.now }) });
      expect(await codeOf(client.latest())).to.equal('PROTOCOL');
      clock.now += 60_000;
      expect(await client.latest()).to.not.equal(null);
    });
  });

  describe('wire variants', () => {
    it('understands JSON SubCodes and the 2015 reading format', async () => {
      rig = await startSim({
        subCode: 'json',
        accounts: [{ ...US, format: 'legacy', utcOffsetMinutes: -420 }],
      });
      const bad = (await rejection(rig.client({ password: 'nope-nope' }).latest())) as CgmError;
      expect(bad.code).to.equal('AUTH_INVALID');
      const readings = await rig.client().history({ minutes: 30 });
      expect(readings.length).to.be.within(5, 6);
      expect(rig.sim.requests(READ).length).to.equal(1);
      // The -0700 offset of DT is informational: times stay on the UTC 5-minute grid.
      for (const reading of readings) expect(reading.time.getTime() % (5 * MINUTE)).to.equal(0);
    });
  });

  describe('secrets', () => {
    it('keeps password, username, account and session ids out of every error message', async () => {
      rig = await startSim();
      const errors: CgmError[] = [];
      const collect = async (promise: Promise<unknown>) =>
        errors.push((await rejection(promise)) as CgmError);
      const client = rig.client();
      const states: SessionState[] = [];
      client.onSession((s) => states.push(s));
      await client.login();
      for (const kind of ['html', 'truncated', 'malformed', 'reset'] as const) {
        rig.sim.faults.add({ kind, path: READ, times: 3 });
        await collect(client.latest());
      }
      rig.dexcom.expireSessions();
      rig.sim.faults.add({ kind: 'status', status: 500, path: LOGIN });
      await collect(client.latest());
      await collect(rig.client({ password: 'Secret-Wrong-1' }).latest());
      await collect(rig.client({ username: US.accountId }).latest());
      await collect(
        rig.client({ username: undefined, accountId: '0a1e0c5a-9999-4d5e-8a6b-00000000d0ff' }).latest(),
      );
      const secrets = [
        US.password,
        US.username,
        US.accountId,
        'Secret-Wrong-1',
        String(states[0]!.data.sessionId),
      ];
      expect(errors).to.have.length(8);
      for (const error of errors) {
        const text = `${error.message} ${error.hint ?? ''} ${JSON.stringify(error)}`;
        for (const secret of secrets) expect(text).not.to.include(secret);
      }
    });
  });

  it('builds the region URLs and a custom server with a prefix', () => {
    expect(dexcomServicesUrl('us')).to.equal('https://share2.dexcom.com/ShareWebServices/Services');
    expect(dexcomServicesUrl('ous')).to.equal('https://shareous1.dexcom.com/ShareWebServices/Services');
    expect(dexcomServicesUrl('jp')).to.equal('https://share.dexcom.jp/ShareWebServices/Services');
    expect(dexcomServicesUrl('jp', 'http://127.0.0.1:9/proxy/')).to.equal(
      'http://127.0.0.1:9/proxy/ShareWebServices/Services',
    );
    rig = { close: () => Promise.resolve() } as SimRig;
  });
});
