import { expect } from 'chai';
import sinon from 'sinon';
import type { FaultSpec } from '../../src/simulator/faults';
import {
  ALL_NODES,
  type Clouds,
  DEXCOM,
  dexcomCredentials,
  dexcomFlow,
  dexcomReadFlow,
  drive,
  helper,
  nextMessage,
  receive,
  statuses,
  useRuntime,
} from './harness';

interface CaughtError {
  message: string;
  code?: string;
  source: { id: string; type: string };
}

describe('cgm nodes: every error reaches Catch nodes and the status', () => {
  let clouds: Clouds;
  let clock: sinon.SinonFakeTimers | undefined;

  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });
  useRuntime((started) => (clouds = started));

  async function readOnce(
    credentials: Record<string, Record<string, string>> = dexcomCredentials(),
    account: Record<string, unknown> = {},
  ): Promise<CaughtError> {
    const flow = dexcomReadFlow(clouds.dexcomServer, 'latest', account);
    await helper.load(ALL_NODES, flow, credentials);
    const caught = nextMessage('caught', 10_000);
    receive('read', { payload: 'go' });
    const msg = clock ? await drive(clock, caught) : await caught;
    return msg.error as CaughtError;
  }

  function expectRed(code: string): void {
    expect(statuses('read').at(-1)).to.deep.equal({ fill: 'red', shape: 'ring', text: code });
  }

  function expectNoSecret(error: CaughtError): void {
    for (const secret of [DEXCOM.password, DEXCOM.username, DEXCOM.accountId]) {
      expect(error.message).not.to.include(secret);
    }
    for (const status of statuses('read')) {
      for (const secret of [DEXCOM.password, DEXCOM.username])
        expect(status.text ?? '').not.to.include(secret);
    }
  }

  it('AUTH_INVALID: a wrong password, without a retry', async () => {
    const error = await readOnce(dexcomCredentials('wrong-password'));
    expect(error.code).to.equal('AUTH_INVALID');
    expect(error.source.id).to.equal('read');
    expectRed('AUTH_INVALID');
    expectNoSecret(error);
    expect(
      clouds.sim.requests('Authenticate').length + clouds.sim.requests('LoginPublisher').length,
    ).to.equal(1);
  });

  it('ACCOUNT_LOCKED: the account locked after wrong passwords', async () => {
    const state = clouds.dexcom.state(DEXCOM.username);
    state.lockedUntil = Date.now() + 10 * 60_000;
    const error = await readOnce();
    expect(error.code).to.equal('ACCOUNT_LOCKED');
    expectRed('ACCOUNT_LOCKED');
    expectNoSecret(error);
  });

  it('CONFIG: an account without a password, before any request', async () => {
    const error = await readOnce({ acct: { username: DEXCOM.username, password: '' } });
    expect(error.code).to.equal('CONFIG');
    expectRed('CONFIG');
    expect(clouds.sim.requests()).to.have.length(0);
  });

  it('CONFIG: a node whose account is missing', async () => {
    const flow = dexcomFlow(clouds.dexcomServer, [
      { id: 'read', type: 'cgm-read-glucose', account: '', mode: 'latest', wires: [[]] },
    ]);
    await helper.load(ALL_NODES, flow, {});
    expectRed('CONFIG');
    const caught = nextMessage('caught');
    receive('read', { payload: 'go' });
    expect(((await caught).error as CaughtError).code).to.equal('CONFIG');
  });

  it('PROTOCOL: an answer of the wrong shape is never a bad password', async () => {
    clouds.sim.faults.add({ kind: 'malformed', path: 'ReadPublisherLatestGlucoseValues', times: Infinity });
    const error = await readOnce();
    expect(error.code).to.equal('PROTOCOL');
    expectRed('PROTOCOL');
  });

  const transient: [string, FaultSpec][] = [
    ['NETWORK', { kind: 'reset', path: 'ReadPublisher', times: Infinity }],
    ['TIMEOUT', { kind: 'timeout', path: 'ReadPublisher', times: Infinity }],
    ['SERVER', { kind: 'status', status: 503, path: 'ReadPublisher', times: Infinity }],
    ['RATE_LIMITED', { kind: 'rateLimit', retryAfterSeconds: 2, path: 'ReadPublisher', times: Infinity }],
  ];
  for (const [code, fault] of transient) {
    it(`${code}: after the core's bounded retries`, async () => {
      clouds.sim.faults.add(fault);
      clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.now() });
      const error = await readOnce(dexcomCredentials(), { timeoutMs: 2_000 });
      expect(error.code).to.equal(code);
      expectRed(code);
      expectNoSecret(error);
    });
  }

  it('NO_DATA: the cloud has no reading', async () => {
    clouds.empty.dexcom = true;
    const flow = dexcomReadFlow(clouds.dexcomServer, 'latest');
    await helper.load(ALL_NODES, flow, dexcomCredentials());
    const caught = nextMessage('caught');
    receive('read', { payload: 'go' });
    const error = (await caught).error as CaughtError;
    expect(error.code).to.equal('NO_DATA');
    expectRed('NO_DATA');
  });
});
