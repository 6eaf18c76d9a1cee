import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import sinon from 'sinon';
import { parseFactoryTimestamp } from '../../src/providers/librelinkup/timestamp';
import {
  LIBRE_DEMO_ACCOUNTS,
  LIBRE_DEMO_PASSWORD,
  LibreLinkUpSimulator,
  type LibreLinkUpSimulatorOptions,
} from '../../src/simulator/librelinkup';
import { Simulator } from '../../src/simulator/server';

type Json = Record<string, unknown>;

const FAMILY = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('family@'))!;
const CARER = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('carer@'))!;
const MMOL = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('mmol@'))!;
const MIA = FAMILY.patients[0]!;
const MINUTE = 60_000;
const HEADERS = { product: 'llu.android', version: '4.16.0', 'content-type': 'application/json' };

function fixtureJson(name: string): Json {
  return JSON.parse(readFileSync(join(__dirname, '../providers/librelinkup/fixtures', name), 'utf8')) as Json;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

describe('LibreLinkUpSimulator', () => {
  let sim: Simulator;
  let base: string;
  let clock: sinon.SinonFakeTimers | undefined;

  async function start(options: LibreLinkUpSimulatorOptions = {}): Promise<LibreLinkUpSimulator> {
    const libre = new LibreLinkUpSimulator(options);
    sim = new Simulator({ providers: [libre] });
    await sim.listen();
    base = sim.urlFor('librelinkup');
    return libre;
  }

  afterEach(async () => {
    clock?.restore();
    clock = undefined;
    await sim.close();
  });

  async function call(
    method: string,
    path: string,
    options: { headers?: Record<string, string>; body?: unknown } = {},
  ): Promise<{ status: number; json: Json }> {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: options.headers ?? HEADERS,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    return { status: response.status, json: (await response.json()) as Json };
  }

  async function login(email = FAMILY.email, region = FAMILY.region, password = LIBRE_DEMO_PASSWORD) {
    return call('POST', `/${region}/llu/auth/login`, { body: { email, password } });
  }

  async function tokenOf(email = FAMILY.email, region = FAMILY.region) {
    const { json } = await login(email, region);
    const data = json.data as { authTicket: { token: string }; user: { id: string } };
    return {
      product: 'llu.android',
      version: '4.16.0',
      authorization: `Bearer ${data.authTicket.token}`,
      'account-id': sha256(data.user.id),
    };
  }

  describe('login', () => {
    it('redirects a login at global to the account region, and serves it there', async () => {
      await start();
      const global = await login(FAMILY.email, 'global');
      expect(global).to.deep.equal({
        status: 200,
        json: { status: 0, data: { redirect: true, region: 'eu' } },
      });
      const eu = await login();
      expect(eu.json.status).to.equal(0);
      const data = eu.json.data as Json;
      expect(Object.keys(data).sort()).to.deep.equal(
        Object.keys(fixtureJson('login-success.timoschlueter.json').data as Json).sort(),
      );
      const user = data.user as Json;
      expect(user.id).to.equal(FAMILY.userId);
      expect(Object.keys(user)).to.include.members([
        'id',
        'country',
        'uom',
        'consents',
        'twoFactor',
        'devices',
      ]);
      expect((data.authTicket as Json).duration).to.equal(15_552_000_000);
    });

    it('serves a US account at the global host without a redirect', async () => {
      await start();
      expect((await login(CARER.email, 'global')).json.status).to.equal(0);
    });

    it('answers status 2 to a wrong password and locks logins for 300 s after three in a minute', async () => {
      await start();
      clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
      expect((await login(FAMILY.email, 'eu', 'wrong-1')).json).to.deep.equal(
        fixtureJson('login-bad-credentials-status2.json'),
      );
      clock.tick(61_000); // the first failure leaves the window
      await login(FAMILY.email, 'eu', 'wrong-2');
      await login(FAMILY.email, 'eu', 'wrong-3');
      expect((await login()).json.status).to.equal(0);
      await login(FAMILY.email, 'eu', 'wrong-4');
      await login(FAMILY.email, 'eu', 'wrong-5');
      await login(FAMILY.email, 'eu', 'wrong-6');
      const locked = await login();
      expect(locked.json).to.deep.equal(fixtureJson('login-locked-status429.json'));
      clock.tick(299_000);
      expect((await login()).json.status).to.equal(429);
      clock.tick(2_000);
      expect((await login()).json.status).to.equal(0);
    });

    it('asks for the terms of use, then the privacy policy, each accepted with its step token', async () => {
      await start();
      const first = await login('terms@glucobridge.example', 'de');
      const step = first.json.data as { step: Json; authTicket: { token: string; duration: number } };
      expect(first.json.status).to.equal(4);
      expect(step.step).to.deep.equal((fixtureJson('login-step-tou.fokkezb.json').data as Json).step);
      expect(step.authTicket.duration).to.equal(3_600_000);
      const auth = { ...HEADERS, authorization: `Bearer ${step.authTicket.token}` };
      const wrong = await call('POST', '/de/auth/continue/pp', { headers: auth });
      expect((wrong.json.data as { step: Json }).step.type).to.equal('tou');
      const pp = await call('POST', '/de/auth/continue/tou', { headers: auth });
      const ppStep = pp.json.data as { step: Json; authTicket: { token: string } };
      expect(ppStep.step).to.deep.equal((fixtureJson('login-step-pp.pylibrelinkup.json').data as Json).step);
      const done = await call('POST', '/de/auth/continue/pp', {
        headers: { ...HEADERS, authorization: `Bearer ${ppStep.authTicket.token}` },
      });
      expect(done.json.status).to.equal(0);
      // A step token is no login token.
      const connections = await call('GET', '/de/llu/connections', {
        headers: { ...auth, 'account-id': sha256('anything') },
      });
      expect(connections.status).to.equal(401);
    });

    it('never completes a verifyEmail step', async () => {
      await start();
      const first = await login('verify@glucobridge.example', 'fr');
      const data = first.json.data as { step: Json; authTicket: { token: string } };
      expect(data.step).to.deep.include({ type: 'verifyEmail', componentName: 'VerifyEmail' });
      const again = await call('POST', '/fr/auth/continue/verifyEmail', {
        headers: { ...HEADERS, authorization: `Bearer ${data.authTicket.token}` },
      });
      expect(again.json.status).to.equal(4);
    });
  });

  describe('headers and tokens', () => {
    it('refuses a version below the minimum with HTTP 403 and status 920', async () => {
      await start({ minVersion: '4.16.0' });
      const old = await call('POST', '/eu/llu/auth/login', {
        headers: { ...HEADERS, version: '4.12.0' },
        body: { email: FAMILY.email, password: LIBRE_DEMO_PASSWORD },
      });
      expect(old).to.deep.equal({ status: 403, json: { data: { minimumVersion: '4.16.0' }, status: 920 } });
      const newer = await call('POST', '/eu/llu/auth/login', {
        headers: { ...HEADERS, version: '4.17.0' },
        body: { email: FAMILY.email, password: LIBRE_DEMO_PASSWORD },
      });
      expect(newer.json.status).to.equal(0);
    });

    it('answers RequiredHeaderMissing without Account-Id (or with a wrong one) or without product', async () => {
      await start();
      const auth = await tokenOf();
      const missing = fixtureJson('error-required-header-missing-http400.json');
      const { 'account-id': _ignored, ...noAccount } = auth;
      expect(await call('GET', '/eu/llu/connections', { headers: noAccount })).to.deep.equal({
        status: 400,
        json: missing,
      });
      const wrong = { ...auth, 'account-id': sha256(MIA.patientId) };
      expect((await call('GET', '/eu/llu/connections', { headers: wrong })).status).to.equal(400);
      const { product: _p, ...noProduct } = auth;
      expect((await call('GET', '/eu/llu/connections', { headers: noProduct })).status).to.equal(400);
      expect((await call('GET', '/eu/llu/connections', { headers: auth })).status).to.equal(200);
    });

    it('answers 401 to an unknown, revoked or expired token', async () => {
      const libre = await start({ tokenLifetimeMs: 10 * MINUTE });
      clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
      const jwt = fixtureJson('error-invalid-jwt-http401.json');
      const auth = await tokenOf();
      const bogus = { ...auth, authorization: 'Bearer not.a.token' };
      expect(await call('GET', '/eu/llu/connections', { headers: bogus })).to.deep.equal({
        status: 401,
        json: jwt,
      });
      expect((await call('GET', '/eu/llu/connections', { headers: auth })).status).to.equal(200);
      clock.tick(10 * MINUTE);
      expect((await call('GET', '/eu/llu/connections', { headers: auth })).status).to.equal(401);
      const fresh = await tokenOf();
      libre.expireTokens(FAMILY.email);
      expect((await call('GET', '/eu/llu/connections', { headers: fresh })).status).to.equal(401);
    });

    it('redirects data calls to the region the account moved to', async () => {
      const libre = await start();
      const auth = await tokenOf();
      libre.moveAccount(FAMILY.email, 'de');
      const moved = await call('GET', '/eu/llu/connections', { headers: auth });
      expect(moved.json).to.deep.equal({ status: 0, data: { redirect: true, region: 'de' } });
      expect((await call('GET', '/de/llu/connections', { headers: auth })).json.status).to.equal(0);
    });

    it('hands out a fresh ticket per answer only when asked to', async () => {
      const libre = await start();
      const auth = await tokenOf();
      const same = await call('GET', '/eu/llu/connections', { headers: auth });
      expect(`Bearer ${(same.json.ticket as { token: string }).token}`).to.equal(auth.authorization);
      libre.rotateTickets = true;
      const rotated = await call('GET', '/eu/llu/connections', { headers: auth });
      const next = (rotated.json.ticket as { token: string }).token;
      expect(`Bearer ${next}`).not.to.equal(auth.authorization);
      const withNext = { ...auth, authorization: `Bearer ${next}` };
      expect((await call('GET', '/eu/llu/connections', { headers: withNext })).status).to.equal(200);
      expect((await call('GET', '/eu/llu/connections', { headers: auth })).status).to.equal(200);
    });
  });

  describe('glucose', () => {
    it('serves connections shaped like the captured ones, a new current value every minute', async () => {
      await start();
      clock = sinon.useFakeTimers({ now: Date.UTC(2026, 5, 1, 12, 0, 0), toFake: ['Date'] });
      const auth = await tokenOf();
      const { json } = await call('GET', '/eu/llu/connections', { headers: auth });
      const [mia] = json.data as Json[];
      const template = (fixtureJson('connections-two-patients.json').data as Json[])[0]!;
      expect(mia).to.include.all.keys(Object.keys(template));
      const current = mia!.glucoseMeasurement as Json;
      expect(current).to.have.all.keys(Object.keys(template.glucoseMeasurement as Json));
      expect(mia!.glucoseItem).to.deep.equal(current);
      const factory = parseFactoryTimestamp(String(current.FactoryTimestamp))!.getTime();
      const local = parseFactoryTimestamp(String(current.Timestamp))!.getTime();
      expect(local - factory).to.equal(MIA.utcOffsetMinutes * MINUTE);
      expect(Date.now() - factory).to.be.within(0, MINUTE - 1);

      clock.tick(MINUTE);
      const later = await call('GET', '/eu/llu/connections', { headers: auth });
      const next = ((later.json.data as Json[])[0]!.glucoseMeasurement as Json).FactoryTimestamp;
      expect(parseFactoryTimestamp(String(next))!.getTime() - factory).to.equal(MINUTE);
    });

    it('serves ~12 h of 5-minute graph points, oldest first, without trend, lagging ~15 min', async () => {
      await start();
      const auth = await tokenOf();
      const { json } = await call('GET', `/eu/llu/connections/${MIA.patientId}/graph`, { headers: auth });
      const data = json.data as { connection: Json; graphData: Json[]; activeSensors: Json[] };
      const template = fixtureJson('graph-141-points-mgdl.json').data as { graphData: Json[] };
      expect(data).to.have.all.keys(Object.keys(template));
      expect(data.graphData[0]).to.have.all.keys(Object.keys(template.graphData[0]!));
      expect(data.graphData.length).to.be.within(140, 142);
      const times = data.graphData.map((p) => parseFactoryTimestamp(String(p.FactoryTimestamp))!.getTime());
      expect(times.slice(1).map((t, i) => t - times[i]!)).to.satisfy((gaps: number[]) =>
        gaps.every((g) => g === 5 * MINUTE),
      );
      const current = parseFactoryTimestamp(
        String((data.connection.glucoseMeasurement as Json).FactoryTimestamp),
      )!;
      expect(current.getTime() - times.at(-1)!).to.be.within(15 * MINUTE, 20 * MINUTE);
      expect(data.graphData.every((p) => p.type === 0 && !('TrendArrow' in p))).to.be.true;
    });

    it('writes Value in the account unit and ValueInMgPerDl always in mg/dL', async () => {
      await start();
      const auth = await tokenOf(MMOL.email, MMOL.region);
      const { json } = await call('GET', '/eu2/llu/connections', { headers: auth });
      const current = (json.data as Json[])[0]!.glucoseMeasurement as Json;
      expect(current.GlucoseUnits).to.equal(0);
      expect(Number.isInteger(current.ValueInMgPerDl)).to.be.true;
      expect(current.Value).to.be.closeTo(Number(current.ValueInMgPerDl) / 18.0156, 0.06);
    });

    it('answers couldNotLoadPatient for a patient the account does not follow', async () => {
      await start();
      const auth = await tokenOf();
      const { json } = await call('GET', `/eu/llu/connections/${CARER.patients[0]!.patientId}/graph`, {
        headers: auth,
      });
      expect(json).to.deep.equal(fixtureJson('graph-error-couldNotLoadPatient-status4.json'));
    });

    it('serves logbook alarm events with alarm types, newest first', async () => {
      await start();
      const auth = await tokenOf();
      const leo = FAMILY.patients[1]!;
      const { json } = await call('GET', `/eu/llu/connections/${leo.patientId}/logbook`, { headers: auth });
      const entries = json.data as Json[];
      expect(entries.length).to.be.greaterThan(3);
      const times = entries.map((e) => parseFactoryTimestamp(String(e.FactoryTimestamp))!.getTime());
      expect(times).to.deep.equal([...times].sort((a, b) => b - a));
      for (const entry of entries) {
        expect(entry.type).to.equal(3);
        expect([0, 1, 2]).to.include(entry.alarmType);
        expect(entry).to.include.keys('TrendArrow', 'MeasurementColor');
      }
    });
  });

  it('describes its server and demo accounts', async () => {
    const libre = await start();
    const lines = libre.describe('http://127.0.0.1:9/librelinkup');
    expect(lines[0]).to.contain('http://127.0.0.1:9/librelinkup/{region}');
    expect(lines.join('\n')).to.contain(`${FAMILY.email} / ${LIBRE_DEMO_PASSWORD} (region eu)`);
    expect(lines.join('\n')).to.contain('Mia Sample, Leo Sample');
    expect(lines.join('\n')).to.contain('tou then pp');
  });
});
