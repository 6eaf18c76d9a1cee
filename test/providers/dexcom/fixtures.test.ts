// Every Dexcom fixture of the follower read replayed byte for byte by a loopback server.
import { expect } from 'chai';
import { HttpTransport } from '../../../src/http/transport';
import { CgmError } from '../../../src/model/errors';
import { DexcomClient } from '../../../src/providers/dexcom/client';
import { DEXCOM_APPLICATION_ID } from '../../../src/providers/dexcom/constants';
import {
  FAST_RETRY,
  dexcomConfig,
  fixture,
  fixtureJson,
  fixtureServer,
  fromFixture,
  rejection,
} from './helpers';

const AUTH = 'General/AuthenticatePublisherAccount';
const LOGIN = 'General/LoginPublisherAccountById';
const READ = 'Publisher/ReadPublisherLatestGlucoseValues';
const USERNAME = 'u$ern@me';
const PASSWORD = 'p@$$w0rd';

const loginRoutes = {
  [AUTH]: fromFixture('pydexcom-authenticate-publisher-account.200.json'),
  [LOGIN]: fromFixture('pydexcom-login-publisher-account-by-id.200.json'),
};

function clientFor(url: string, overrides: Parameters<typeof dexcomConfig>[0] = {}): DexcomClient {
  return new DexcomClient(
    dexcomConfig({ server: url, username: USERNAME, password: PASSWORD, ...overrides }),
    {
      retry: FAST_RETRY,
      transport: new HttpTransport({ timeoutMs: 1_000 }),
    },
  );
}

/** One record fixture served as the read answer. */
function recordRoute(name: string) {
  return { status: 200, body: `[${fixture(name).trim()}]` };
}

describe('Dexcom fixtures replayed', () => {
  it('logs in with the exact pydexcom request bodies and reads the 2025 reading', async () => {
    const server = await fixtureServer({
      ...loginRoutes,
      [READ]: fromFixture('pydexcom-read-publisher-latest-glucose-values.200.json'),
    });
    try {
      const reading = await clientFor(server.url).latest();
      const [auth, login, read] = server.requests;
      expect(auth!.path).to.equal(`/ShareWebServices/Services/${AUTH}`);
      expect(JSON.parse(auth!.body)).to.deep.equal(
        fixtureJson('pydexcom-authenticate-publisher-account.request.json'),
      );
      expect(JSON.parse(login!.body)).to.deep.equal(
        fixtureJson('pydexcom-login-publisher-account-by-id.request.json'),
      );
      expect(read!.query.get('sessionId')).to.equal('55555555-5555-5555-5555-555555555555');
      expect(read!.query.get('minutes')).to.equal('1440');
      expect(read!.query.get('maxCount')).to.equal('1');
      expect(read!.body).to.equal('');
      expect(reading).to.include({
        provider: 'dexcom',
        subject: USERNAME,
        mgdl: 175,
        trend: 'flat',
        arrow: '→',
      });
      // WT's milliseconds; DT's -0400 is not applied.
      expect(reading!.time.getTime()).to.equal(1750022969925);
      expect(reading!.mmol).to.equal(9.7);
    } finally {
      await server.close();
    }
  });

  it('reads [] as no data: latest null, history empty', async () => {
    const server = await fixtureServer({
      ...loginRoutes,
      [READ]: fromFixture('pydexcom-read-publisher-latest-glucose-values-empty.200.json'),
    });
    try {
      const client = clientFor(server.url);
      expect(await client.latest()).to.equal(null);
      expect(await client.history({ minutes: 60 })).to.deep.equal([]);
      expect(server.count(AUTH)).to.equal(1);
    } finally {
      await server.close();
    }
  });

  it('reads the 2015 form: escaped /Date()/ slashes, numeric trend, WT as the instant', async () => {
    const server = await fixtureServer({
      ...loginRoutes,
      [READ]: fromFixture('gist-2015-read-publisher-latest-glucose-values.200.json'),
    });
    try {
      const reading = await clientFor(server.url).latest();
      expect(reading!.time.getTime()).to.equal(1426769941000);
      expect(reading).to.include({ mgdl: 99, trend: 'flat' });
    } finally {
      await server.close();
    }
  });

  for (const [name, ms, mgdl] of [
    ['pydexcom-readme-glucose-reading.json', 1691455258000, 85],
    ['xdrip-test-glucose-record-trend-text.json', 1638396953000, 167],
  ] as const) {
    it(`reads the record of ${name}`, async () => {
      const server = await fixtureServer({ ...loginRoutes, [READ]: recordRoute(name) });
      try {
        const [reading] = await clientFor(server.url).history({ minutes: 30 });
        expect(reading!.time.getTime()).to.equal(ms);
        expect(reading).to.include({ mgdl, trend: 'flat' });
      } finally {
        await server.close();
      }
    });
  }

  for (const [name, step] of [
    ['pydexcom-error-account-password-invalid.500.json', AUTH],
    ['pydexcom-error-sso-internal-error-account-id.500.json', LOGIN],
    ['pydexcom-error-invalid-argument-uuid.500.json', LOGIN],
  ] as const) {
    it(`maps ${name} on ${step} to AUTH_INVALID after one attempt, never repeated`, async () => {
      const server = await fixtureServer({ ...loginRoutes, [step]: fromFixture(name) });
      try {
        const client = clientFor(server.url);
        const first = await rejection(client.latest());
        const second = await rejection(client.latest());
        expect(first).to.be.instanceOf(CgmError);
        expect((first as CgmError).code).to.equal('AUTH_INVALID');
        expect((first as CgmError).vendorCode).to.equal((fixtureJson(name) as { Code: string }).Code);
        expect((first as CgmError).hint).to.match(/region/);
        expect(second).to.equal(first);
        expect(server.count(step)).to.equal(1);
        expect(server.count(READ)).to.equal(0);
        expect(first.message).not.to.include(PASSWORD);
        expect(first.message).not.to.include('55555555-5555-5555-5555-555555555555');
      } finally {
        await server.close();
      }
    });
  }

  it('treats the null session of an empty account id as a failed login', async () => {
    const server = await fixtureServer({
      ...loginRoutes,
      [LOGIN]: fromFixture('pydexcom-login-by-id-empty-account-id.200.json'),
    });
    try {
      const error = (await rejection(clientFor(server.url).login())) as CgmError;
      expect(error.code).to.equal('AUTH_INVALID');
      expect(server.count(READ)).to.equal(0);
      // The request shape of that fixture: the same three fields, only the account id differs.
      const sent = JSON.parse(server.requests[1]!.body) as Record<string, string>;
      const recorded = fixtureJson('pydexcom-login-by-id-empty-account-id.request.json') as Record<
        string,
        string
      >;
      expect(Object.keys(sent).sort()).to.deep.equal(Object.keys(recorded).sort());
      expect(sent.applicationId).to.equal(recorded.applicationId).and.equal(DEXCOM_APPLICATION_ID);
    } finally {
      await server.close();
    }
  });

  it('logs in again once and retries once on SessionIdNotFound', async () => {
    const server = await fixtureServer({
      ...loginRoutes,
      [READ]: [
        fromFixture('pydexcom-error-session-id-not-found.500.json'),
        fromFixture('pydexcom-read-publisher-latest-glucose-values.200.json'),
      ],
    });
    try {
      const reading = await clientFor(server.url).latest();
      expect(reading!.mgdl).to.equal(175);
      expect(server.count(READ)).to.equal(2);
      // The account id is kept: the second login skips AuthenticatePublisherAccount.
      expect(server.count(AUTH)).to.equal(1);
      expect(server.count(LOGIN)).to.equal(2);
    } finally {
      await server.close();
    }
  });

  it('gives up with SESSION_EXPIRED when the new session fails too (no loop)', async () => {
    const server = await fixtureServer({
      ...loginRoutes,
      [READ]: fromFixture('pydexcom-error-session-id-not-found.500.json'),
    });
    try {
      const error = (await rejection(clientFor(server.url).latest())) as CgmError;
      expect(error.code).to.equal('SESSION_EXPIRED');
      expect(error.message).not.to.include('55555555-5555-5555-5555-555555555555');
      expect(error.message).not.to.include('33333333-3333-3333-3333-333333333333');
      expect(server.count(READ)).to.equal(2);
      expect(server.count(LOGIN)).to.equal(2);
    } finally {
      await server.close();
    }
  });
});
