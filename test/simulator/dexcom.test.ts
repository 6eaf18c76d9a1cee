import { expect } from 'chai';
import sinon from 'sinon';
import { HttpTransport, type HttpResponse } from '../../src/http/transport';
import { DEXCOM_APPLICATION_ID, NULL_UUID } from '../../src/providers/dexcom/constants';
import { parseDexcomDate } from '../../src/providers/dexcom/timestamp';
import { DEXCOM_DEMO_ACCOUNTS } from '../../src/simulator/dexcom';
import { fixtureJson, startSim, type SimRig, US } from '../providers/dexcom/helpers';

const MINUTE = 60_000;
const http = new HttpTransport({ timeoutMs: 2_000 });

async function post(
  rig: SimRig,
  region: string,
  endpoint: string,
  body?: unknown,
  query = '',
): Promise<HttpResponse> {
  return http.send({
    method: 'POST',
    url: `${rig.url}/dexcom/${region}/ShareWebServices/Services/${endpoint}${query}`,
    ...(body === undefined ? { headers: { 'Content-Type': 'application/json' } } : { body }),
  });
}

const PYDEXCOM_ACCOUNT = {
  username: 'u$ern@me',
  password: 'p@$$w0rd',
  accountId: '99999999-9999-9999-9999-999999999999',
  region: 'us' as const,
};

describe('DexcomSimulator', () => {
  let rig: SimRig;
  afterEach(async () => {
    sinon.restore();
    await rig.close();
  });

  it('answers the pydexcom request fixtures with the fixtures’ answers', async () => {
    rig = await startSim({ accounts: [PYDEXCOM_ACCOUNT] });
    const auth = await post(
      rig,
      'us',
      'General/AuthenticatePublisherAccount',
      fixtureJson('pydexcom-authenticate-publisher-account.request.json'),
    );
    expect(auth.status).to.equal(200);
    expect(auth.json).to.equal(fixtureJson('pydexcom-authenticate-publisher-account.200.json'));
    const login = await post(
      rig,
      'us',
      'General/LoginPublisherAccountById',
      fixtureJson('pydexcom-login-publisher-account-by-id.request.json'),
    );
    expect(login.status).to.equal(200);
    expect(login.text).to.match(/^"[0-9a-f-]{36}"$/);
    const empty = await post(
      rig,
      'us',
      'General/LoginPublisherAccountById',
      fixtureJson('pydexcom-login-by-id-empty-account-id.request.json'),
    );
    expect(empty.json)
      .to.equal(fixtureJson('pydexcom-login-by-id-empty-account-id.200.json'))
      .and.equal(NULL_UUID);
  });

  it('answers errors in the fixtures’ shape: 500 with Code, Message, SubCode, TypeName', async () => {
    rig = await startSim({ accounts: [PYDEXCOM_ACCOUNT] });
    const cases: [string, unknown, string][] = [
      [
        'General/AuthenticatePublisherAccount',
        { accountName: 'username', password: 'password', applicationId: DEXCOM_APPLICATION_ID },
        'pydexcom-error-account-password-invalid.500.json',
      ],
      [
        'General/LoginPublisherAccountById',
        { accountId: '1', password: 'p@$$w0rd', applicationId: DEXCOM_APPLICATION_ID },
        'pydexcom-error-invalid-argument-uuid.500.json',
      ],
      [
        'General/LoginPublisherAccountById',
        {
          accountId: '55555555-5555-5555-5555-555555555555',
          password: 'p@$$w0rd',
          applicationId: DEXCOM_APPLICATION_ID,
        },
        'pydexcom-error-sso-internal-error-account-id.500.json',
      ],
    ];
    for (const [endpoint, body, name] of cases) {
      const answer = await post(rig, 'us', endpoint, body);
      const expected = fixtureJson(name) as Record<string, string>;
      expect(answer.status, name).to.equal(500);
      expect(Object.keys(answer.json as object).sort()).to.deep.equal(Object.keys(expected).sort());
      const got = answer.json as Record<string, string>;
      expect(got.Code).to.equal(expected.Code);
      expect(got.TypeName).to.equal('FaultException');
      expect(got.SubCode).to.match(/^<OnlineException .*ErrorCode="\w+".*\/>$/);
      if (expected.Code !== 'SSO_InternalError') expect(got.Message).to.equal(expected.Message);
      else expect(got.Message).to.include("Cannot Authenticate by AccountId='55555555");
    }
    const stale = await post(
      rig,
      'us',
      'Publisher/ReadPublisherLatestGlucoseValues',
      undefined,
      '?sessionId=33333333-3333-3333-3333-333333333333&minutes=10&maxCount=1',
    );
    expect(stale.json).to.deep.include({
      Code: 'SessionIdNotFound',
      Message: (fixtureJson('pydexcom-error-session-id-not-found.500.json') as { Message: string }).Message,
    });
    const garbage = await post(
      rig,
      'us',
      'Publisher/ReadPublisherLatestGlucoseValues',
      undefined,
      '?sessionId=bad',
    );
    expect(garbage.status).to.equal(400);
    const nullSession = await post(
      rig,
      'us',
      'Publisher/ReadPublisherLatestGlucoseValues',
      undefined,
      `?sessionID=${NULL_UUID}&minutes=10&maxCount=1`,
    );
    expect([nullSession.status, nullSession.text]).to.deep.equal([200, '']);
  });

  it('serves the modern wire format on a 5-minute grid up to now minus the lag, newest first', async () => {
    const now = Date.UTC(2026, 2, 1, 8, 2, 10);
    sinon.useFakeTimers({ now, toFake: ['Date'] });
    rig = await startSim({ lagMs: 20_000 });
    const client = rig.client();
    await client.login();
    const login = rig.sim.requests('LoginPublisherAccountById')[0]!;
    expect(login.json).to.deep.include({ accountId: US.accountId });
    const history = await client.history({ minutes: 30 });
    expect(history.map((r) => r.time.getTime())).to.deep.equal(
      [25, 20, 15, 10, 5, 0].map((m) => Date.UTC(2026, 2, 1, 8, 0) - m * MINUTE),
    );
    // The raw answer: Date(ms), DT with the account's offset, Trend as a name, newest first.
    const read = await post(
      rig,
      'us',
      'Publisher/ReadPublisherLatestGlucoseValues',
      undefined,
      `?sessionId=${String(rig.sim.requests('ReadPublisher')[0]!.query.sessionId)}&minutes=10&maxCount=5`,
    );
    const records = read.json as Record<string, unknown>[];
    expect(records).to.have.length(2);
    const [newest] = records;
    expect(Object.keys(newest!)).to.deep.equal(['WT', 'ST', 'DT', 'Value', 'Trend']);
    expect(newest!.WT).to.equal(`Date(${Date.UTC(2026, 2, 1, 8, 0)})`);
    expect(newest!.DT).to.equal(`Date(${Date.UTC(2026, 2, 1, 8, 0)}-0400)`);
    expect(parseDexcomDate(String(newest!.DT))!.offsetMinutes).to.equal(-240);
    expect(newest!.Trend).to.be.oneOf([
      'DoubleUp',
      'SingleUp',
      'FortyFiveUp',
      'Flat',
      'FortyFiveDown',
      'SingleDown',
      'DoubleDown',
      'NotComputable',
    ]);
  });

  it('expires sessions after the ttl (the client then logs in once more)', async () => {
    const clock = sinon.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date'] });
    rig = await startSim({ sessionTtlMs: 60 * MINUTE });
    const client = rig.client();
    await client.latest();
    clock.tick(61 * MINUTE);
    rig.sim.clearRequests();
    await client.latest();
    const reads = rig.sim.requests('ReadPublisher');
    expect(reads).to.have.length(2);
    expect(rig.sim.requests('LoginPublisherAccountById')).to.have.length(1);
  });

  it('locks after wrong passwords until the lock time has passed', async () => {
    const clock = sinon.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date'] });
    rig = await startSim({ lockoutAfter: 3, lockoutMs: 15 * MINUTE });
    const codes: unknown[] = [];
    const attempt = async (password: string) => {
      const answer = await post(rig, 'us', 'General/AuthenticatePublisherAccount', {
        accountName: US.username,
        password,
        applicationId: DEXCOM_APPLICATION_ID,
      });
      codes.push(answer.status === 200 ? 'ok' : (answer.json as { Code: string }).Code);
    };
    await attempt('x1-wrong');
    await attempt('x2-wrong');
    await attempt('x3-wrong');
    await attempt(US.password);
    clock.tick(15 * MINUTE + 1);
    await attempt(US.password);
    expect(codes).to.deep.equal([
      'AccountPasswordInvalid',
      'AccountPasswordInvalid',
      'SSO_AuthenticateMaxAttemptsExceeed',
      'SSO_AuthenticateMaxAttemptsExceeed',
      'ok',
    ]);
  });

  it('describes its demo accounts with obviously fake passwords', async () => {
    rig = await startSim();
    const lines = rig.dexcom.describe(`${rig.url}/dexcom`);
    expect(lines).to.have.length(DEXCOM_DEMO_ACCOUNTS.length);
    expect(lines[0]).to.include(`${rig.url}/dexcom/us`);
    for (const account of DEXCOM_DEMO_ACCOUNTS) expect(account.password).to.match(/not-a-real-password/);
  });

  it('names each demo account’s receiver serial, which uploads need (issue 11)', async () => {
    rig = await startSim();
    const lines = rig.dexcom.describe(`${rig.url}/dexcom`);
    DEXCOM_DEMO_ACCOUNTS.forEach((account, i) => {
      expect(lines[i]).to.include(account.username);
      if (account.receiver) expect(lines[i]).to.include(`receiver serial ${account.receiver}`);
      else expect(lines[i]).to.include('no receiver (upload with --take-over-receiver');
    });
    expect(DEXCOM_DEMO_ACCOUNTS.filter((a) => a.receiver)).to.have.length(2);
  });

  describe('PostReceiverEgvRecords with a reading already stored', () => {
    const egv = (ms: number) => ({ Trend: 4, ST: `/Date(${ms})/`, DT: `/Date(${ms})/`, Value: 120 });
    const base = Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE - 30 * MINUTE;

    async function postEgvs(body: unknown): Promise<HttpResponse> {
      const client = rig.client({ serial: US.receiver! });
      await client.call('Publisher/StartRemoteMonitoringSession', { query: { serialNumber: US.receiver! } });
      try {
        return await client.call('Publisher/PostReceiverEgvRecords', { body });
      } catch (error) {
        return { status: 500, json: { Code: (error as { vendorCode?: string }).vendorCode } } as HttpResponse;
      } finally {
        await client.close();
      }
    }

    it('store-new (default): stores the new ones of a mixed batch; nothing new is DuplicateEgvPosted', async () => {
      rig = await startSim();
      const body = (times: number[]) => ({ SN: US.receiver, Egvs: times.map(egv), TA: -5 });
      expect((await postEgvs(body([base]))).status).to.equal(200);
      expect((await postEgvs(body([base, base + 5 * MINUTE]))).status).to.equal(200);
      expect((await postEgvs(body([base, base + 5 * MINUTE]))).json).to.deep.equal({
        Code: 'DuplicateEgvPosted',
      });
      const state = rig.dexcom.state(US.username);
      expect([...state.uploads.keys()]).to.deep.equal([base, base + 5 * MINUTE]);
      expect(state.egvsPosted).to.equal(5);
    });

    it('refuse-batch: refuses a batch holding any stored reading, and stores none of it', async () => {
      rig = await startSim({ duplicates: 'refuse-batch' });
      const body = (times: number[]) => ({ SN: US.receiver, Egvs: times.map(egv), TA: -5 });
      expect((await postEgvs(body([base]))).status).to.equal(200);
      expect((await postEgvs(body([base, base + 5 * MINUTE]))).json).to.deep.equal({
        Code: 'DuplicateEgvPosted',
      });
      expect([...rig.dexcom.state(US.username).uploads.keys()]).to.deep.equal([base]);
      expect((await postEgvs(body([base + 5 * MINUTE]))).status).to.equal(200);
      expect(rig.dexcom.state(US.username).egvsPosted).to.equal(4);
    });
  });
});
