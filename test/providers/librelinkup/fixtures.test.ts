import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import sinon from 'sinon';
import type { LibreLinkUpConfig } from '../../../src/config';
import type { SessionState } from '../../../src/providers/provider';
import {
  failure,
  fixture,
  FIXTURES,
  FixtureServer,
  makeClient,
  makeConfig,
  type FixtureRoute,
} from './helpers';

// Every captured LibreLinkUp answer, served byte for byte from a loopback server, through the client.

const JOHN = '7ad66b40-ba9b-401e-9845-4f49f998cf16';
const JANE = '77179667-ba4b-11eb-ad1f-0242ac110004';
const JOHN_CONNECTION = '0714c937-0bc2-4be4-9e93-ddfe736b2b1f';
const SMALL_PATIENT = '9dfd0d64-4863-4775-9438-712fa68787df';
const EMAIL = 'john.doe@example.com';
const PASSWORD = 'fixture-password-not-real';

const LOGIN = { method: 'POST', path: '/eu/llu/auth/login' } as const;
const CONNECTIONS = { method: 'GET', path: '/eu/llu/connections' } as const;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Replays during the fixtures' own time, so their tokens are still valid. */
function atTime(iso: string): sinon.SinonFakeTimers {
  return sinon.useFakeTimers({ now: Date.parse(iso), toFake: ['Date'] });
}

describe('LibreLinkUp fixtures replayed through the client', () => {
  const used = new Set<string>();
  let server: FixtureServer | undefined;
  let clock: sinon.SinonFakeTimers | undefined;

  async function serve(routes: FixtureRoute[], fields: Partial<LibreLinkUpConfig> = {}) {
    for (const route of routes) if (route.file) used.add(route.file);
    server = new FixtureServer(routes);
    const base = await server.listen();
    const config = makeConfig({
      server: `${base}/{region}`,
      region: 'eu',
      username: EMAIL,
      password: PASSWORD,
      ...fields,
    });
    return { server, ...makeClient(config) };
  }

  afterEach(async () => {
    clock?.restore();
    clock = undefined;
    await server?.close();
    server = undefined;
  });

  after(() => {
    // The Done-when of issue 2: no captured answer is left unreplayed.
    const all = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    expect(all.filter((f) => !used.has(f))).to.deep.equal([]);
  });

  describe('login, connections, Account-Id', () => {
    it('logs in once, sends the product/version headers and the SHA-256 of the user id as Account-Id', async () => {
      clock = atTime('2022-12-30T17:00:00Z');
      const { server, client } = await serve([
        { ...LOGIN, file: 'login-success.timoschlueter.json' },
        { ...CONNECTIONS, file: 'connections-two-patients.json' },
      ]);
      const info = await client.login();
      expect(info).to.deep.equal({
        provider: 'librelinkup',
        region: 'eu',
        subjects: [
          { id: JOHN, name: 'John Doe' },
          { id: JANE, name: 'Jane Doe' },
        ],
      });
      const [login, connections] = server.seen;
      expect(JSON.parse(login!.body)).to.deep.equal({ email: EMAIL, password: PASSWORD });
      expect(login!.headers.product).to.equal('llu.android');
      expect(login!.headers.version).to.equal('4.16.0');
      expect(login!.headers.authorization).to.equal(undefined);
      const token = (
        JSON.parse(fixture('login-success.timoschlueter.json')) as { data: { authTicket: { token: string } } }
      ).data.authTicket.token;
      expect(connections!.headers.authorization).to.equal(`Bearer ${token}`);
      expect(connections!.headers['account-id']).to.equal(sha256(JOHN));
      expect(connections!.headers['account-id']).to.match(/^[0-9a-f]{64}$/);
      expect(connections!.headers.version).to.equal('4.16.0');
      expect(connections!.headers.product).to.equal('llu.android');
    });

    it('reads the current value of each patient from the connections, by id or by name in any case', async () => {
      clock = atTime('2022-12-30T17:00:00Z');
      const { server, client } = await serve([
        { ...LOGIN, file: 'login-success.timoschlueter.json' },
        { ...CONNECTIONS, file: 'connections-two-patients.json' },
      ]);
      const john = await client.latest();
      expect(john).to.deep.equal({
        provider: 'librelinkup',
        subject: JOHN,
        time: new Date('2022-12-30T16:47:40.000Z'),
        mgdl: 115,
        mmol: 6.4,
        trend: 'flat',
        arrow: '→',
      });
      const jane = await client.latest('jane DOE');
      expect(jane?.time.toISOString()).to.equal('2022-03-13T18:53:10.000Z');
      expect(jane?.mgdl).to.equal(103);
      expect((await client.latest(JANE))?.subject).to.equal(JANE);
      expect(server.count(LOGIN.method, LOGIN.path)).to.equal(1);
    });

    it('gives null, not an error, when a patient has no current measurement', async () => {
      clock = atTime('2022-12-30T17:00:00Z');
      const body = JSON.parse(fixture('connections-two-patients.json')) as {
        data: { glucoseMeasurement: unknown }[];
      };
      body.data[0]!.glucoseMeasurement = null;
      const { client } = await serve([
        { ...LOGIN, file: 'login-success.timoschlueter.json' },
        { ...CONNECTIONS, text: JSON.stringify(body) },
      ]);
      expect(await client.latest()).to.equal(null);
      expect((await client.latest('Jane Doe'))?.mgdl).to.equal(103);
    });

    it('names the followed patients (never their ids) for an unknown patient', async () => {
      clock = atTime('2022-12-30T17:00:00Z');
      const { client } = await serve(
        [
          { ...LOGIN, file: 'login-success.timoschlueter.json' },
          { ...CONNECTIONS, file: 'connections-two-patients.json' },
        ],
        { patient: 'Max Mustermann' },
      );
      const error = await failure(client.latest());
      expect(error.code).to.equal('NOT_FOUND');
      expect(error.message).to.contain('John Doe, Jane Doe');
      expect(error.message).not.to.contain(JOHN);
      expect(error.hint).to.contain('Jane Doe');
    });

    it('accepts the other captured success bodies (consents, censored ids)', async () => {
      clock = atTime('2024-11-03T10:00:00Z');
      const { server, client } = await serve([
        { ...LOGIN, file: 'login-success-consents-llu.json' },
        { ...CONNECTIONS, file: 'connections-two-patients.json' },
      ]);
      await client.subjects();
      expect(server.seen[1]!.headers.authorization).to.equal('Bearer parp');
      expect(server.seen[1]!.headers['account-id']).to.equal(sha256('xx'));
    });
  });

  describe('history and logbook', () => {
    it('merges 141 graph points with the current value, oldest first, as UTC from FactoryTimestamp', async () => {
      clock = atTime('2022-12-30T16:50:00Z');
      const { client } = await serve([
        { ...LOGIN, file: 'login-success.timoschlueter.json' },
        { ...CONNECTIONS, file: 'connections-two-patients.json' },
        { method: 'GET', path: `/eu/llu/connections/${JOHN}/graph`, file: 'graph-141-points-mgdl.json' },
      ]);
      const history = await client.history({ minutes: 720 });
      expect(history).to.have.length(142);
      expect(history[0]).to.include({ mgdl: 173, trend: 'notComputable', arrow: '?', subject: JOHN });
      expect(history[0]!.time.toISOString()).to.equal('2022-12-30T04:50:40.000Z');
      expect(history[140]!.time.toISOString()).to.equal('2022-12-30T16:30:41.000Z');
      expect(history[140]!.mgdl).to.equal(103);
      expect(history[141]).to.include({ mgdl: 115, trend: 'flat' });
      expect(history[141]!.time.toISOString()).to.equal('2022-12-30T16:47:40.000Z');
      const times = history.map((r) => r.time.getTime());
      expect(times).to.deep.equal([...times].sort((a, b) => a - b));
      expect(new Set(times).size).to.equal(times.length);
      expect(history.every((r) => r.limit === undefined)).to.be.true;

      const lastHalfHour = await client.history({ minutes: 30 });
      expect(lastHalfHour.map((r) => r.time.toISOString())).to.deep.equal([
        '2022-12-30T16:20:40.000Z',
        '2022-12-30T16:25:40.000Z',
        '2022-12-30T16:30:41.000Z',
        '2022-12-30T16:47:40.000Z',
      ]);
    });

    it('reads the graph with three active sensors; its current value carries the edited falling-fast arrow', async () => {
      clock = atTime('2022-05-21T14:00:00Z');
      const small = JSON.parse(fixture('graph-small-3-active-sensors.json')) as {
        data: { connection: unknown };
        ticket: unknown;
      };
      const { client } = await serve(
        [
          { ...LOGIN, file: 'login-success.timoschlueter.json' },
          // The connections answer for this account: the graph's own connection.
          {
            ...CONNECTIONS,
            text: JSON.stringify({ status: 0, data: [small.data.connection], ticket: small.ticket }),
          },
          {
            method: 'GET',
            path: `/eu/llu/connections/${SMALL_PATIENT}/graph`,
            file: 'graph-small-3-active-sensors.json',
          },
        ],
        { patient: SMALL_PATIENT },
      );
      const history = await client.history({ minutes: 750 });
      expect(history.map((r) => r.mgdl)).to.deep.equal([117, 115, 115, 116, 116, 118, 118, 115, 91]);
      expect(history[0]!.time.toISOString()).to.equal('2022-05-21T01:39:50.000Z');
      expect(history[8]).to.include({ trend: 'singleDown', arrow: '↓' });
      expect(history[8]!.time.toISOString()).to.equal('2022-05-21T13:38:50.000Z');
    });

    it('reads the logbook oldest first, in mg/dL whatever the account unit, mmol/L by our one formula', async () => {
      // The logbook's own time: its entries are from November 2024, and a reading more than a day
      // ahead of the clock is refused. The login fixture's token is older, so the client logs in again.
      clock = atTime('2024-11-10T18:00:00Z');
      const { client } = await serve([
        { ...LOGIN, file: 'login-success.timoschlueter.json' },
        { ...CONNECTIONS, file: 'connections-two-patients.json' },
        { method: 'GET', path: `/eu/llu/connections/${JOHN}/logbook`, file: 'logbook-3-entries-mmol.json' },
      ]);
      const book = await client.logbook();
      expect(book.map((r) => [r.time.toISOString(), r.mgdl, r.mmol, r.trend])).to.deep.equal([
        ['2024-11-09T15:19:00.000Z', 159, 8.8, 'flat'],
        ['2024-11-10T13:08:19.000Z', 181, 10, 'fortyFiveUp'],
        ['2024-11-10T17:13:36.000Z', 197, 10.9, 'flat'],
      ]);
    });

    it('maps couldNotLoadPatient for a followed patient to NO_DATA', async () => {
      clock = atTime('2022-12-30T17:00:00Z');
      const { client } = await serve([
        { ...LOGIN, file: 'login-success.timoschlueter.json' },
        { ...CONNECTIONS, file: 'connections-two-patients.json' },
        {
          method: 'GET',
          path: `/eu/llu/connections/${JOHN}/graph`,
          file: 'graph-error-couldNotLoadPatient-status4.json',
        },
      ]);
      const error = await failure(client.history({ minutes: 60 }));
      expect(error.code).to.equal('NO_DATA');
      expect(error.vendorCode).to.equal('4:couldNotLoadPatient');
    });

    it('reads the alarm thresholds from the notification settings and keeps the refreshed ticket', async () => {
      clock = atTime('2022-12-30T17:00:00Z');
      const { client } = await serve([
        { ...LOGIN, file: 'login-success.timoschlueter.json' },
        { ...CONNECTIONS, file: 'connections-two-patients.json' },
        {
          method: 'GET',
          path: `/eu/llu/notifications/settings/${JOHN_CONNECTION}`,
          file: 'notification-settings.fokkezb.json',
        },
      ]);
      const sessions: SessionState[] = [];
      client.onSession((s) => sessions.push(s));
      expect(await client.alarmSettings()).to.deep.equal({
        connectionId: ':censored:',
        lowMgdl: 70,
        highMgdl: 250,
        urgentLowMgdl: 55,
      });
      expect(sessions.at(-1)?.data).to.include({ token: ':censored:', expires: 1702366476, region: 'eu' });
    });

    it('reads the account profile and the country configuration', async () => {
      clock = atTime('2023-06-20T10:00:00Z');
      const { server, client } = await serve([
        { ...LOGIN, file: 'login-success.timoschlueter.json' },
        { method: 'GET', path: '/eu/account', file: 'account.fokkezb.json' },
        { method: 'GET', path: '/eu/llu/config/country', file: 'config-country.fokkezb.json' },
      ]);
      expect(await client.account()).to.deep.equal({
        userId: '1fd5514c-8345-11eb-9fbc-0242ac110003',
        country: 'NL',
        units: 'mmol',
      });
      const config = await client.countryConfig('nl');
      expect(config.minimumVersion).to.equal('4.7.0');
      expect(config.regions.eu2).to.equal('https://api-eu2.libreview.io');
      expect(Object.keys(config.regions)).to.include.members([
        'ae',
        'ap',
        'au',
        'ca',
        'de',
        'eu',
        'fr',
        'jp',
        'us',
      ]);
      const configRequest = server.seen.find((r) => r.path === '/eu/llu/config/country')!;
      expect(configRequest.headers.authorization).to.equal(undefined);
    });
  });

  describe('login refusals', () => {
    it('tries a rejected password exactly once, however often it is asked again', async () => {
      const { server, client, logger } = await serve([
        { ...LOGIN, file: 'login-bad-credentials-status2.json' },
      ]);
      const first = await failure(client.login());
      expect(first.code).to.equal('AUTH_INVALID');
      expect(first.hint).to.contain('LibreLinkUp');
      expect((await failure(client.login())).code).to.equal('AUTH_INVALID');
      expect((await failure(client.latest())).code).to.equal('AUTH_INVALID');
      expect((await failure(client.history({ minutes: 60 }))).code).to.equal('AUTH_INVALID');
      expect(server.count(LOGIN.method, LOGIN.path)).to.equal(1);
      const said = [first.message, String(first.hint), ...logger.lines].join('\n');
      expect(said).not.to.contain(PASSWORD);
      expect(said).not.to.contain(EMAIL);
    });

    it('reports the 300 s lockout and sends no login until it has passed', async () => {
      clock = atTime('2024-07-01T10:00:00Z');
      const { server, client } = await serve([{ ...LOGIN, file: 'login-locked-status429.json' }]);
      const error = await failure(client.login());
      expect(error.code).to.equal('ACCOUNT_LOCKED');
      expect(error.retryAfterMs).to.equal(300_000);
      expect(error.detail).to.deep.include({ lockoutSeconds: 300, failures: 3, intervalSeconds: 60 });
      clock.tick(299_000);
      const again = await failure(client.login());
      expect(again.code).to.equal('ACCOUNT_LOCKED');
      expect(again.retryAfterMs).to.equal(1_000);
      expect(server.count(LOGIN.method, LOGIN.path)).to.equal(1);
      clock.tick(2_000);
      await failure(client.login());
      expect(server.count(LOGIN.method, LOGIN.path)).to.equal(2);
    });

    it('names the LibreLinkUp 5 error as CONFIG, not a wrong password, and waits for the settings to change', async () => {
      const { server, client } = await serve([
        { ...LOGIN, status: 400, file: 'llu5-error-unsupported-country-http400.json' },
      ]);
      const error = await failure(client.login());
      expect(error.code).to.equal('CONFIG');
      expect(error.vendorCode).to.equal('llu5:5');
      expect(error.message).to.contain('unsupported country in API region');
      expect(await failure(client.login())).to.equal(error);
      expect(server.count(LOGIN.method, LOGIN.path)).to.equal(1);
    });
  });

  describe('region redirect', () => {
    it('follows the redirect to eu and logs in there', async () => {
      clock = atTime('2022-12-30T17:00:00Z');
      const { server, client } = await serve(
        [
          { method: 'POST', path: '/global/llu/auth/login', file: 'login-redirect-eu.fokkezb.json' },
          { ...LOGIN, file: 'login-success.timoschlueter.json' },
          { ...CONNECTIONS, file: 'connections-two-patients.json' },
        ],
        { region: undefined },
      );
      const sessions: SessionState[] = [];
      client.onSession((s) => sessions.push(s));
      expect((await client.login()).region).to.equal('eu');
      expect(server.seen.map((r) => `${r.method} ${r.path}`)).to.deep.equal([
        'POST /global/llu/auth/login',
        'POST /eu/llu/auth/login',
        'GET /eu/llu/connections',
      ]);
      expect(sessions[0]?.data.region).to.equal('eu');
    });

    it('reports REGION_REDIRECT naming the region when the server cannot switch regions', async () => {
      used.add('login-redirect-eu.fokkezb.json');
      server = new FixtureServer([
        { method: 'POST', path: '/fixed/llu/auth/login', file: 'login-redirect-eu.fokkezb.json' },
      ]);
      const base = await server.listen();
      const { client } = makeClient(
        makeConfig({ server: `${base}/fixed`, username: EMAIL, password: PASSWORD }),
      );
      const error = await failure(client.login());
      expect(error.code).to.equal('REGION_REDIRECT');
      expect(error.detail).to.deep.equal({ region: 'eu' });
      expect(error.hint).to.contain('{region}');
      expect(server.seen).to.have.length(1);
    });
  });

  describe('terms steps', () => {
    it('reports the tou step with its name and accepts nothing by default', async () => {
      const { server, client } = await serve([{ ...LOGIN, file: 'login-step-tou.fokkezb.json' }]);
      const error = await failure(client.login());
      expect(error.code).to.equal('TERMS_REQUIRED');
      expect(error.detail).to.deep.equal({ step: 'tou' });
      expect(error.hint).to.contain('"accept new terms of use automatically"');
      expect(server.seen.filter((r) => r.path.includes('/auth/continue'))).to.have.length(0);
    });

    it('accepts tou with the step token when acceptTerms is on, then uses the new login', async () => {
      clock = atTime('2023-06-15T08:00:00Z');
      const { server, client } = await serve(
        [
          { ...LOGIN, file: 'login-step-tou.fokkezb.json' },
          { method: 'POST', path: '/eu/auth/continue/tou', file: 'login-success-user.fokkezb.json' },
          { ...CONNECTIONS, file: 'connections-two-patients.json' },
        ],
        { acceptTerms: true },
      );
      await client.login();
      const accept = server.seen.find((r) => r.path === '/eu/auth/continue/tou')!;
      expect(accept.method).to.equal('POST');
      expect(accept.headers.authorization).to.equal('Bearer :censored:');
      expect(accept.body).to.equal('');
      const connections = server.seen.find((r) => r.path === CONNECTIONS.path)!;
      expect(connections.headers['account-id']).to.equal(sha256(':censored:'));
    });

    it('accepts the privacy policy step the same way', async () => {
      clock = atTime('2024-11-02T17:00:00Z');
      const { server, client } = await serve(
        [
          { ...LOGIN, file: 'login-step-pp.pylibrelinkup.json' },
          { method: 'POST', path: '/eu/auth/continue/pp', file: 'login-success-consents-llu.json' },
          { ...CONNECTIONS, file: 'connections-two-patients.json' },
        ],
        { acceptTerms: true },
      );
      await client.subjects();
      expect(server.count('POST', '/eu/auth/continue/pp')).to.equal(1);
      expect(server.seen.at(-1)!.headers.authorization).to.equal('Bearer parp');
    });

    it('reports a pp step without acceptTerms', async () => {
      const { client } = await serve([{ ...LOGIN, file: 'login-step-pp.pylibrelinkup.json' }]);
      const error = await failure(client.login());
      expect(error.code).to.equal('TERMS_REQUIRED');
      expect(error.detail).to.deep.equal({ step: 'pp' });
      expect(error.message).to.contain('privacy policy');
    });

    it('reports a truncated tou step (no step token) as TERMS_REQUIRED even when accepting is on', async () => {
      const { server, client } = await serve([{ ...LOGIN, file: 'login-step-tou.pylibrelinkup.json' }], {
        acceptTerms: true,
      });
      const error = await failure(client.login());
      expect(error.code).to.equal('TERMS_REQUIRED');
      expect(error.detail).to.deep.equal({ step: 'tou' });
      expect(server.seen).to.have.length(1);
    });

    it('never verifies an e-mail automatically, and does not echo the address', async () => {
      const { server, client } = await serve([{ ...LOGIN, file: 'login-step-verify-email.json' }], {
        acceptTerms: true,
      });
      const error = await failure(client.login());
      expect(error.code).to.equal('TERMS_REQUIRED');
      expect(error.detail).to.deep.equal({ step: 'verifyEmail' });
      expect(error.hint).to.contain('verify');
      expect(`${error.message} ${String(error.hint)}`).not.to.contain('test@example.com');
      expect(server.seen).to.have.length(1);
    });
  });

  describe('token and header errors', () => {
    it('logs in again exactly once on an invalid JWT, then reports SESSION_EXPIRED', async () => {
      clock = atTime('2022-12-30T17:00:00Z');
      const { server, client } = await serve([
        { ...LOGIN, file: 'login-success.timoschlueter.json' },
        { ...CONNECTIONS, status: 401, file: 'error-invalid-jwt-http401.json' },
      ]);
      const error = await failure(client.latest());
      expect(error.code).to.equal('SESSION_EXPIRED');
      expect(server.count(LOGIN.method, LOGIN.path)).to.equal(2);
      expect(server.count(CONNECTIONS.method, CONNECTIONS.path)).to.equal(2);
    });

    it('recovers from one invalid JWT with one new login', async () => {
      clock = atTime('2022-12-30T17:00:00Z');
      const { server, client } = await serve([
        { ...LOGIN, file: 'login-success.timoschlueter.json' },
        { ...CONNECTIONS, status: 401, file: 'error-invalid-jwt-http401.json', times: 1 },
        { ...CONNECTIONS, file: 'connections-two-patients.json' },
      ]);
      expect((await client.latest())?.mgdl).to.equal(115);
      expect(server.count(LOGIN.method, LOGIN.path)).to.equal(2);
    });

    it('reports RequiredHeaderMissing as PROTOCOL without logging in again', async () => {
      clock = atTime('2022-12-30T17:00:00Z');
      const { server, client } = await serve([
        { ...LOGIN, file: 'login-success.timoschlueter.json' },
        { ...CONNECTIONS, status: 400, file: 'error-required-header-missing-http400.json' },
      ]);
      const error = await failure(client.latest());
      expect(error.code).to.equal('PROTOCOL');
      expect(error.vendorCode).to.equal('RequiredHeaderMissing');
      expect(error.retryable).to.be.false;
      expect(server.count(LOGIN.method, LOGIN.path)).to.equal(1);
    });
  });
});
