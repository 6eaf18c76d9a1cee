import { expect } from 'chai';
import { getNoRedirect } from '../../net';
import { createServer, type Server } from 'node:http';
import type { SessionState } from '../../../src/providers/provider';
import { vitaDockAccount } from '../../../src/providers/vitadock/client';
import { verifierFrom } from '../../../src/providers/vitadock/verifier';
import {
  APP,
  appConfig,
  makeClient,
  recordingLogger,
  rejection,
  startVitaDock,
  type Harness,
} from './helpers';

describe('vitadock authorisation flow (against the simulator)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startVitaDock();
  });
  afterEach(() => h.close());

  it('runs request token → consent page → verifier → access token, then reads data', async () => {
    const logger = recordingLogger();
    const client = makeClient(appConfig(h.server), { logger });
    const sessions: SessionState[] = [];
    client.onSession((s) => sessions.push(s));

    const request = await client.requestAuthorization();
    expect(request.authorizeUrl).to.equal(
      `${h.server}/desiredaccessrights/request?oauth_token=${request.requestToken}`,
    );
    expect(request.signupUrl).to.equal(`${h.server}/signup?oauth_token=${request.requestToken}`);
    const page = await getNoRedirect(request.authorizeUrl);
    expect(page.status).to.equal(200);
    expect(page.body).to.contain('approve=1');

    // No callback URL registered: the page shows the verifier for the user to paste.
    const approved = await getNoRedirect(`${request.authorizeUrl}&approve=1`);
    const shown = /oauth_verifier=([A-Za-z0-9]+)/.exec(approved.body)?.[1];
    expect(shown).to.be.a('string');

    const session = await client.authorize(shown!);
    expect(sessions).to.deep.equal([session]);
    expect(session.provider).to.equal('vitadock');
    const accessToken = String(session.data.accessToken);
    expect(session.account).to.equal(vitaDockAccount(APP.key, accessToken));
    expect(session.account).not.to.contain(accessToken);
    expect(session.data.accessSecret).to.be.a('string');

    const info = await client.login();
    expect(info.subjects).to.deep.equal([{ id: 'vitadock', name: 'vitadock' }]);
    const reading = await client.latest();
    expect(reading?.provider).to.equal('vitadock');

    // The exact requests: the verify call carried the request token and verifier in the header only.
    const verify = h.sim.requests('/auth/accesses/verify')[0];
    expect(verify?.method).to.equal('POST');
    expect(verify?.headers['content-type']).to.equal('application/x-www-form-urlencoded');
    expect(String(verify?.headers.authorization)).to.match(/oauth_token="req\w+",oauth_verifier="\w+"/);
    expect(verify?.query).to.deep.equal({});

    // No secret in any log line.
    const secrets = [
      APP.secret,
      accessToken,
      String(session.data.accessSecret),
      shown!,
      request.requestToken,
    ];
    for (const line of logger.lines) for (const secret of secrets) expect(line).not.to.contain(secret);
  });

  it('takes the verifier from the callback the consent page redirects to', async () => {
    const callback: Server = createServer((req, res) => res.end('thanks'));
    await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
    const address = callback.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      h.vitadock.setCallbackUrl(APP.key, `http://127.0.0.1:${port}/vitadock/callback`);
      const client = makeClient(appConfig(h.server));
      const request = await client.requestAuthorization();
      const redirect = await getNoRedirect(`${request.authorizeUrl}&approve=1`);
      expect(redirect.status).to.equal(302);
      expect(redirect.location).to.match(
        /^http:\/\/127\.0\.0\.1:\d+\/vitadock\/callback\?oauth_token=req\w+&oauth_verifier=\w+$/,
      );
      const session = await client.authorize(redirect.location!);
      expect(session.data.accessToken).to.be.a('string');
      expect(await client.count('cardiodocks')).to.be.greaterThan(0);
    } finally {
      await new Promise<void>((resolve) => callback.close(() => resolve()));
    }
  });

  it('reports a refusal on the consent page as AUTH_INVALID', async () => {
    h.vitadock.setCallbackUrl(APP.key, 'http://127.0.0.1:9/cb');
    const client = makeClient(appConfig(h.server));
    const request = await client.requestAuthorization();
    const redirect = await getNoRedirect(`${request.authorizeUrl}&deny=1`);
    expect(redirect.location).to.contain('deny=true');
    const error = await rejection(client.authorize(redirect.location!));
    expect(error.code).to.equal('AUTH_INVALID');
    expect(h.sim.requests('/auth/accesses/verify')).to.have.length(0);
  });

  it('rejects a wrong verifier with AUTH_INVALID and never a PROTOCOL error', async () => {
    const client = makeClient(appConfig(h.server));
    const request = await client.requestAuthorization();
    h.vitadock.approve(request.requestToken);
    const error = await rejection(client.authorize('WRONGVERIFIER'));
    expect(error.code).to.equal('AUTH_INVALID');
    expect(error.message).not.to.contain('WRONGVERIFIER');
  });

  it('reports a wrong application secret as AUTH_INVALID with a hint, secret-free', async () => {
    const client = makeClient(appConfig(h.server, { consumerSecret: 'not-the-secret-at-all' }));
    const error = await rejection(client.requestAuthorization());
    expect(error.code).to.equal('AUTH_INVALID');
    expect(error.hint).to.contain('consumer key and secret');
    expect(error.message).not.to.contain('not-the-secret-at-all');
  });

  it('registers a device first when a deviceId is set, and signs with the device pair', async () => {
    const client = makeClient(appConfig(h.server, { deviceId: 'glucobridge-test-device-1' }));
    const request = await client.requestAuthorization();
    const devices = h.sim.requests('/auth/devices');
    expect(devices).to.have.length(1);
    expect(devices[0]?.headers.device_id).to.equal('glucobridge-test-device-1');
    const unauthorised = h.sim.requests('/auth/unauthorizedaccesses')[0];
    expect(String(unauthorised?.headers.authorization)).to.match(/oauth_consumer_key="dev\w+"/);
    const session = await client.authorize(h.vitadock.approve(request.requestToken));
    expect(session.data.deviceToken).to.match(/^dev/);
    expect(session.account).to.equal(vitaDockAccount(APP.key, String(session.data.accessToken)));

    // A restart with the stored session needs no new registration or authorisation.
    const restarted = makeClient(appConfig(h.server, { deviceId: 'glucobridge-test-device-1' }), { session });
    expect(await restarted.count('glucodockglucoses')).to.be.greaterThan(0);
    expect(h.sim.requests('/auth/devices')).to.have.length(1);
  });

  it('logs out: the token is dead at the server and forgotten here', async () => {
    const client = makeClient(appConfig(h.server));
    const request = await client.requestAuthorization();
    const session = await client.authorize(h.vitadock.approve(request.requestToken));
    await client.logout();
    expect(client.sessionState()).to.equal(undefined);
    const other = makeClient(appConfig(h.server), { session });
    expect((await rejection(other.latest())).code).to.equal('AUTH_INVALID');
  });

  it('ignores a stored session of another application', async () => {
    const stale: SessionState = {
      provider: 'vitadock',
      account: vitaDockAccount('someone-else', 'tok'),
      data: { accessToken: 'tok', accessSecret: 'sec' },
    };
    const client = makeClient(appConfig(h.server), { session: stale });
    const error = await rejection(client.latest());
    expect(error.code).to.equal('AUTH_INVALID');
    expect(error.message).to.contain('not authorised yet');
    expect(h.sim.requests('/data')).to.have.length(0);
  });
});

describe('vitadock verifier input', () => {
  it('accepts a bare code, a callback URL, or its query', () => {
    expect(verifierFrom(' abc123 ')).to.deep.equal({ verifier: 'abc123' });
    expect(verifierFrom('http://x/cb?oauth_token=T1&oauth_verifier=V1')).to.deep.equal({
      verifier: 'V1',
      requestToken: 'T1',
    });
    expect(verifierFrom('oauth_verifier=V2')).to.deep.equal({ verifier: 'V2' });
  });

  it('rejects empty or unreadable input as CONFIG', () => {
    for (const input of ['', 'http://x/cb?oauth_token=T1', 'two words']) {
      expect(() => verifierFrom(input))
        .to.throw()
        .with.property('code', 'CONFIG');
    }
  });
});
