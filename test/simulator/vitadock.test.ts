import { expect } from 'chai';
import { HttpTransport, type HttpResponse } from '../../src/http/transport';
import { makeNonce, signRequest, type OAuthCredentials } from '../../src/providers/vitadock/oauth1';
import { Simulator } from '../../src/simulator/server';
import { VITADOCK_DEMO, VitaDockSimulator } from '../../src/simulator/vitadock';

const DEMO: OAuthCredentials = {
  consumerKey: VITADOCK_DEMO.consumerKey,
  consumerSecret: VITADOCK_DEMO.consumerSecret,
  token: VITADOCK_DEMO.accessToken,
  tokenSecret: VITADOCK_DEMO.accessSecret,
};

describe('VitaDock simulator', () => {
  let sim: Simulator;
  let vitadock: VitaDockSimulator;
  let base: string;
  const transport = new HttpTransport({ timeoutMs: 2_000 });

  beforeEach(async () => {
    vitadock = new VitaDockSimulator({ historyDays: 2 });
    sim = new Simulator({ providers: [vitadock] });
    await sim.listen();
    base = sim.urlFor('vitadock');
  });
  afterEach(() => sim.close());

  /** A request signed with `credentials`; `as` lets a test send something else than what was signed. */
  function signed(
    method: 'GET' | 'POST',
    pathAndQuery: string,
    credentials: OAuthCredentials = DEMO,
    options: { timestamp?: number; nonce?: string; sendPath?: string } = {},
  ): Promise<HttpResponse> {
    const signedRequest = signRequest(
      {
        method,
        url: `${base}${pathAndQuery}`,
        timestamp: options.timestamp ?? Date.now(),
        nonce: options.nonce ?? makeNonce(),
      },
      credentials,
    );
    return transport.send({
      method,
      url: `${base}${options.sendPath ?? pathAndQuery}`,
      headers: {
        Authorization: signedRequest.authorization,
        // An empty body with a JSON content type would go out as `""` (axios quotes non-JSON strings).
        ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(method === 'POST' ? { rawBody: '' } : {}),
    });
  }

  const LIST = '/data/glucodockglucoses?start=0&max=100&date_since=0';

  it('answers a correctly signed request', async () => {
    const response = await signed('GET', LIST);
    expect(response.status).to.equal(200);
    expect(response.json).to.be.an('array').with.length(100);
  });

  it('answers 401 to a wrong signature, secret, token, stale timestamp or reused nonce', async () => {
    expect((await signed('GET', LIST, { ...DEMO, consumerSecret: 'wrong' })).status, 'secret').to.equal(401);
    expect((await signed('GET', LIST, { ...DEMO, tokenSecret: 'wrong' })).status, 'token secret').to.equal(
      401,
    );
    expect((await signed('GET', LIST, { ...DEMO, token: 'unknown-token' })).status, 'token').to.equal(401);
    expect((await signed('GET', LIST, { ...DEMO, consumerKey: 'unknown-key' })).status, 'key').to.equal(401);
    const { token: _t, tokenSecret: _s, ...consumerOnly } = DEMO;
    expect((await signed('GET', LIST, consumerOnly)).status, 'no token').to.equal(401);
    // Signed for one query, sent with another: the query is part of the signature.
    expect(
      (await signed('GET', LIST, DEMO, { sendPath: LIST.replace('date_since=0', 'date_since=1') })).status,
      'query',
    ).to.equal(401);
    expect(
      (await signed('GET', LIST, DEMO, { timestamp: Date.now() - 10 * 60_000 })).status,
      'stale',
    ).to.equal(401);
    const nonce = makeNonce();
    expect((await signed('GET', LIST, DEMO, { nonce })).status).to.equal(200);
    expect((await signed('GET', LIST, DEMO, { nonce })).status, 'nonce').to.equal(401);
    const response = await transport.send({ method: 'GET', url: `${base}${LIST}` });
    expect(response.status, 'unsigned').to.equal(401);
  });

  it('refuses a timestamp below the previous one of the same credentials', async () => {
    const now = Date.now();
    expect((await signed('GET', LIST, DEMO, { timestamp: now })).status).to.equal(200);
    expect((await signed('GET', LIST, DEMO, { timestamp: now - 1_000 })).status).to.equal(401);
    expect((await signed('GET', LIST, DEMO, { timestamp: now })).status).to.equal(200);
  });

  it('requires start, max and date_since on lists and refuses repeated parameters', async () => {
    expect((await signed('GET', '/data/cardiodocks?max=100&date_since=0')).status).to.equal(400);
    expect((await signed('GET', '/data/cardiodocks/sync?start=0&date_since=0')).status).to.equal(400);
    expect((await signed('GET', '/data/cardiodocks?start=0&max=100&date_since=0&max=5')).status).to.equal(
      400,
    );
    expect((await signed('GET', '/data/oxymeters?start=0&max=100&date_since=0')).status).to.equal(404);
  });

  it('pages oldest first from start, and /sync shows deletions as active:false', async () => {
    const first = (await signed('GET', '/data/cardiodocks?start=0&max=2&date_since=0')).json as {
      id: string;
      measurementDate: number;
    }[];
    const second = (await signed('GET', '/data/cardiodocks?start=2&max=2&date_since=0')).json as typeof first;
    const all = [...first, ...second];
    expect(all.map((r) => r.measurementDate)).to.deep.equal([...all.map((r) => r.measurementDate)].sort());
    expect(new Set(all.map((r) => r.id)).size).to.equal(4);

    const since = Date.now() - 1_000;
    expect(vitadock.deleteRecord('cardiodocks', first[0]!.id)).to.equal(true);
    const sync = (await signed('GET', `/data/cardiodocks/sync?start=0&max=100&date_since=${since}`)).json;
    expect(sync).to.deep.equal([
      { ...vitadock.records('cardiodocks').find((r) => r.id === first[0]!.id), active: false, version: 2 },
    ]);
  });

  it('issues verifiers through the consent page, and the access token only once', async () => {
    const consumer = { consumerKey: DEMO.consumerKey, consumerSecret: DEMO.consumerSecret };
    const request = await signed('POST', '/auth/unauthorizedaccesses', consumer);
    const [, token, secret] = /^oauth_token=(\w+)&oauth_token_secret=(\w+)$/.exec(request.text) ?? [];
    const page = await transport.send({
      method: 'GET',
      url: `${base}/desiredaccessrights/request?oauth_token=${token}&approve=1`,
    });
    const verifier = /oauth_verifier=(\w+)/.exec(page.text)?.[1];
    const credentials = { ...consumer, token: token!, tokenSecret: secret!, verifier: verifier! };
    expect(
      (await signed('POST', '/auth/accesses/verify', { ...credentials, verifier: 'nope' })).status,
    ).to.equal(401);
    const access = await signed('POST', '/auth/accesses/verify', credentials);
    expect(access.text).to.match(/^oauth_token=acc\w+&oauth_token_secret=\w+$/);
    expect((await signed('POST', '/auth/accesses/verify', credentials)).status).to.equal(401);
  });
});
