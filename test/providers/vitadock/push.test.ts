import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import sinon from 'sinon';
import { vitaDockAccount } from '../../../src/providers/vitadock/account';
import { ReplayCache, verifyPush, type PushSecrets } from '../../../src/providers/vitadock/push';
import { VITADOCK_DEMO } from '../../../src/simulator/vitadock';
import { deliverPush } from '../../../src/simulator/vitadock-push';
import { startVitaDock, type Harness } from './helpers';

const MONITORING_URL = 'https://bridge.example.invalid/vitadock/push';

const SECRETS: PushSecrets = {
  consumerKey: VITADOCK_DEMO.consumerKey,
  consumerSecret: VITADOCK_DEMO.consumerSecret,
  accounts: [
    { accessToken: VITADOCK_DEMO.accessToken, accessSecret: VITADOCK_DEMO.accessSecret, name: 'Kim' },
  ],
};

describe('vitadock push verification', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startVitaDock();
  });
  afterEach(() => h.close());

  it('accepts a genuine notification: sync that module for that account', () => {
    const push = h.vitadock.signPush(MONITORING_URL, 1, VITADOCK_DEMO.accessToken);
    expect(push.url).to.equal(`${MONITORING_URL}?module_id=1`);
    expect(verifyPush(push, SECRETS, new ReplayCache())).to.deep.equal({
      ok: true,
      action: 'sync',
      moduleId: 1,
      module: 'glucodockglucoses',
      account: vitaDockAccount(VITADOCK_DEMO.consumerKey, VITADOCK_DEMO.accessToken),
      name: 'Kim',
    });
    const scale = verifyPush(h.vitadock.signPush(MONITORING_URL, 4), SECRETS, new ReplayCache());
    expect(scale).to.include({ ok: true, module: 'targetscales' });
    const unknown = verifyPush(h.vitadock.signPush(MONITORING_URL, 42), SECRETS, new ReplayCache());
    expect(unknown).to.include({ ok: true, action: 'sync', moduleId: 42, module: null });
  });

  it('turns module_id -1 into AUTH_INVALID with the hint to authorise again', () => {
    const verdict = verifyPush(h.vitadock.signPush(MONITORING_URL, -1), SECRETS, new ReplayCache());
    expect(verdict.ok && verdict.action).to.equal('reauthorize');
    if (verdict.ok && verdict.action === 'reauthorize') {
      expect(verdict.error.code).to.equal('AUTH_INVALID');
      expect(verdict.error.hint).to.contain('authorize');
    }
  });

  it('rejects a forged notification (changed query, wrong secret, other application)', () => {
    const push = h.vitadock.signPush(MONITORING_URL, 1);
    const changed = { ...push, url: push.url.replace('module_id=1', 'module_id=-1') };
    expect(verifyPush(changed, SECRETS, new ReplayCache())).to.include({
      ok: false,
      reason: 'forged',
      status: 401,
    });
    const otherSecret: PushSecrets = {
      ...SECRETS,
      accounts: [{ accessToken: VITADOCK_DEMO.accessToken, accessSecret: 'not-the-secret' }],
    };
    expect(verifyPush(push, otherSecret, new ReplayCache())).to.include({ ok: false, reason: 'forged' });
    expect(verifyPush(push, { ...SECRETS, consumerSecret: 'x' }, new ReplayCache())).to.include({
      reason: 'forged',
    });
    expect(verifyPush(push, { ...SECRETS, consumerKey: 'other-app' }, new ReplayCache())).to.include({
      reason: 'unknown-consumer',
    });
    expect(verifyPush(push, { ...SECRETS, accounts: [] }, new ReplayCache())).to.include({
      reason: 'unknown-token',
    });
    // A notification signed for one URL and delivered to another is not ours either.
    const elsewhere = { ...push, url: push.url.replace('/vitadock/push', '/other') };
    expect(verifyPush(elsewhere, SECRETS, new ReplayCache())).to.include({ reason: 'forged' });
  });

  it('rejects a stale notification', () => {
    const clock = sinon.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date'] });
    try {
      const push = h.vitadock.signPush(MONITORING_URL, 0);
      clock.tick(6 * 60_000);
      expect(verifyPush(push, SECRETS, new ReplayCache())).to.include({ ok: false, reason: 'stale' });
      expect(verifyPush(push, { ...SECRETS, maxAgeMs: 10 * 60_000 }, new ReplayCache())).to.include({
        ok: true,
      });
    } finally {
      clock.restore();
    }
  });

  it('rejects a replayed nonce, and a forgery does not use up the genuine one', () => {
    const replay = new ReplayCache();
    const push = h.vitadock.signPush(MONITORING_URL, 5);
    const forged = { ...push, url: push.url.replace('module_id=5', 'module_id=0') };
    expect(verifyPush(forged, SECRETS, replay)).to.include({ reason: 'forged' });
    expect(verifyPush(push, SECRETS, replay)).to.include({ ok: true, module: 'thermodocks' });
    expect(verifyPush(push, SECRETS, replay)).to.include({ ok: false, reason: 'replayed', status: 401 });
  });

  it('rejects unsigned, non-GET and malformed notifications without throwing', () => {
    const replay = new ReplayCache();
    const push = h.vitadock.signPush(MONITORING_URL, 1);
    expect(verifyPush({ ...push, headers: {} }, SECRETS, replay)).to.include({
      reason: 'unsigned',
      status: 401,
    });
    expect(verifyPush({ ...push, method: 'POST' }, SECRETS, replay)).to.include({
      reason: 'method',
      status: 405,
    });
    const garbage = [
      { method: 'GET', url: '::::', headers: { authorization: push.headers.authorization } },
      { method: 'GET', url: '/push?module_id=1', headers: { authorization: push.headers.authorization } },
      { method: 'GET', url: MONITORING_URL, headers: { authorization: 'OAuth ,,,=' } },
      { method: 'GET', url: MONITORING_URL, headers: { authorization: ['OAuth oauth_signature="x"'] } },
    ];
    for (const request of garbage) expect(verifyPush(request, SECRETS, replay).ok).to.equal(false);
    const noModule = h.vitadock.signPush(MONITORING_URL, 1);
    const stripped = { ...noModule, url: MONITORING_URL };
    // Dropping module_id breaks the signature first: no unsigned field gets through.
    expect(verifyPush(stripped, SECRETS, replay)).to.include({ reason: 'forged' });
  });

  it('verifies a relative URL with the Host header, or the registered Monitoring URL behind a proxy', () => {
    const push = h.vitadock.signPush('http://127.0.0.1:1880/vitadock/push', 3);
    const relative = {
      method: 'GET',
      url: '/vitadock/push?module_id=3',
      headers: { ...push.headers, host: '127.0.0.1:1880' },
    };
    expect(verifyPush(relative, SECRETS, new ReplayCache())).to.include({
      ok: true,
      module: 'glucodockmeals',
    });
    const proxied = {
      method: 'GET',
      url: '/internal/hook?module_id=3',
      headers: { ...push.headers, host: 'node-red:1880' },
    };
    expect(
      verifyPush(
        proxied,
        { ...SECRETS, monitoringUrl: 'http://127.0.0.1:1880/vitadock/push' },
        new ReplayCache(),
      ),
    ).to.include({ ok: true, module: 'glucodockmeals' });
  });

  it('receives the simulator’s pushes over HTTP and refuses the same delivery twice', async () => {
    const replay = new ReplayCache();
    const verdicts: unknown[] = [];
    const receiver: Server = createServer((req, res) => {
      const verdict = verifyPush(
        { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers },
        SECRETS,
        replay,
      );
      verdicts.push(verdict);
      res.statusCode = verdict.ok ? 200 : verdict.status;
      res.end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const address = receiver.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
      expect((await h.vitadock.sendPush(url, 'cardiodocks')).status).to.equal(200);
      const push = h.vitadock.signPush(url, 2);
      expect((await deliverPush(push)).status).to.equal(200);
      expect((await deliverPush(push)).status).to.equal(401);
      expect(
        verdicts.map(
          (v) => (v as { module?: string; reason?: string }).module ?? (v as { reason: string }).reason,
        ),
      ).to.deep.equal(['cardiodocks', 'glucodockinsulins', 'replayed']);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('forgets nonces after its window, and bounds its size', () => {
    const cache = new ReplayCache(1_000, 3);
    expect(cache.check('a', 0)).to.equal(false);
    expect(cache.check('a', 500)).to.equal(true);
    expect(cache.check('a', 2_000)).to.equal(false);
    for (const key of ['b', 'c', 'd', 'e']) cache.check(key, 2_001);
    expect(cache.size).to.equal(3);
  });
});
