import { createHash } from 'node:crypto';
import { expect } from 'chai';
import sinon from 'sinon';
import { NIGHTSCOUT_DEMO_SITES, NightscoutSimulator } from '../../src/simulator/nightscout';
import { permits } from '../../src/simulator/nightscout-auth';
import { Simulator } from '../../src/simulator/server';

const hash = (algorithm: string, text: string) => createHash(algorithm).update(text).digest('hex');
const MIA = NIGHTSCOUT_DEMO_SITES.find((s) => s.site === 'mia')!;
const RELAY = NIGHTSCOUT_DEMO_SITES.find((s) => s.site === 'relay')!;
const tokenOf = (site: typeof MIA, role: 'readable' | 'admin') =>
  site.tokens.find((t) => t.roles.includes(role))!.token;
const NOW = Date.UTC(2026, 5, 10, 12, 2, 30);

interface Answer {
  status: number;
  body: unknown;
}

describe('Nightscout simulator', () => {
  let sim: Simulator;
  let nightscout: NightscoutSimulator;
  let clock: sinon.SinonFakeTimers;

  before(async () => {
    nightscout = new NightscoutSimulator({ jwtLifetimeMs: 3600_000 });
    sim = new Simulator({ providers: [nightscout] });
    await sim.listen();
  });
  after(() => sim.close());
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date'] });
    nightscout.reset();
  });
  afterEach(() => clock.restore());

  async function call(
    site: string,
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
  ): Promise<Answer> {
    const response = await fetch(`${sim.urlFor('nightscout')}/${site}${path}`, {
      method: init.method ?? 'GET',
      headers: { 'Content-Type': 'application/json', ...init.headers },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      // An HTML page.
    }
    return { status: response.status, body };
  }

  async function jwt(site: string, token: string): Promise<string> {
    const answer = await call(site, `/api/v2/authorization/request/${token}`);
    expect(answer.status).to.equal(200);
    return (answer.body as { token: string }).token;
  }

  describe('API v1 authentication (as lib/authorization resolves it)', () => {
    const ways: [string, string, { headers?: Record<string, string> }][] = [
      [
        'SHA-1 of the API secret in api-secret',
        '',
        { headers: { 'api-secret': hash('sha1', MIA.apiSecret) } },
      ],
      ['SHA-1 in upper case', '', { headers: { 'api-secret': hash('sha1', MIA.apiSecret).toUpperCase() } }],
      ['SHA-512 of the API secret', '', { headers: { 'api-secret': hash('sha512', MIA.apiSecret) } }],
      ['?secret=<sha1>', `&secret=${hash('sha1', MIA.apiSecret)}`, {}],
      ['?token=<token>', `&token=${tokenOf(MIA, 'readable')}`, {}],
      ['a token in api-secret', '', { headers: { 'api-secret': tokenOf(MIA, 'readable') } }],
      [
        'the SHA-1 of a token in api-secret',
        '',
        { headers: { 'api-secret': hash('sha1', tokenOf(MIA, 'readable')) } },
      ],
    ];
    for (const [what, query, init] of ways) {
      it(`accepts ${what}`, async () => {
        const answer = await call('mia', `/api/v1/entries.json?count=2${query}`, init);
        expect(answer.status).to.equal(200);
        expect(answer.body).to.have.length(2);
      });
    }

    it('accepts a JWT from the exchange as Bearer on v1 too', async () => {
      const token = await jwt('mia', tokenOf(MIA, 'readable'));
      const answer = await call('mia', '/api/v1/entries.json?count=1', {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(answer.status).to.equal(200);
    });

    it('refuses the plain API secret, a wrong one, and nothing at all on a site that is not readable', async () => {
      const attempts: Record<string, string>[] = [
        { 'api-secret': MIA.apiSecret },
        { 'api-secret': hash('sha1', 'wrong-secret-123') },
        {},
      ];
      for (const headers of attempts) {
        const answer = await call('mia', '/api/v1/entries.json', { headers });
        expect(answer).to.deep.equal({
          status: 401,
          body: { status: 401, message: 'Unauthorized', description: 'Invalid/Missing' },
        });
      }
    });

    it('lets anyone read a readable site, but not upload to it', async () => {
      expect((await call('leo', '/api/v1/entries.json')).status).to.equal(200);
      const upload = await call('leo', '/api/v1/entries', {
        method: 'POST',
        body: [{ type: 'sgv', sgv: 100, date: NOW }],
      });
      expect(upload.status).to.equal(401);
    });

    it('answers 404 with an HTML page for paths and sites it does not have', async () => {
      const wrongPath = await call('leo', '/api/v1/api/v1/entries.json');
      expect(wrongPath.status).to.equal(404);
      expect(wrongPath.body).to.match(
        /<pre>Cannot GET \/nightscout\/leo\/api\/v1\/api\/v1\/entries\.json<\/pre>/,
      );
      expect((await call('nobody', '/api/v1/entries.json')).status).to.equal(404);
    });
  });

  describe('API v1 entries', () => {
    const readable = { headers: { 'api-secret': hash('sha1', tokenOf(MIA, 'readable')) } };

    it('answers newest first, count 10 by default, only entries already uploaded (after the lag)', async () => {
      const answer = await call('mia', '/api/v1/entries.json', readable);
      const entries = answer.body as { date: number; type: string; device: string }[];
      expect(entries).to.have.length(10);
      // Juggluco uploads 20 s after each minute: at 12:02:30 the 12:02 reading is there.
      expect(entries[0]?.date).to.equal(Date.UTC(2026, 5, 10, 12, 2));
      expect(entries.map((e) => e.date)).to.deep.equal([...entries.map((e) => e.date)].sort((a, b) => b - a));
      expect(entries[0]).to.include({ type: 'sgv', device: 'Juggluco' });
      expect(entries[0]).not.to.have.property('identifier');
    });

    it('filters by find[date][$gte]/[$lt] and find[type]', async () => {
      const from = Date.UTC(2026, 5, 10, 11, 0);
      const to = Date.UTC(2026, 5, 10, 11, 30);
      const answer = await call(
        'mia',
        `/api/v1/entries.json?find[type]=sgv&find[date][$gte]=${from}&find[date][$lt]=${to}&count=1000`,
        readable,
      );
      const dates = (answer.body as { date: number }[]).map((e) => e.date);
      expect(dates).to.have.length(30);
      expect(Math.min(...dates)).to.equal(from);
      expect(Math.max(...dates)).to.equal(to - 60_000);
      const meters = await call('mia', '/api/v1/entries.json?find[type]=mbg', readable);
      expect(meters.body).to.deep.equal([]);
    });

    it('upserts uploads on the instant and type, and records each document received', async () => {
      const headers = { 'api-secret': hash('sha1', RELAY.apiSecret) };
      const doc = { type: 'sgv', sgv: 120, date: NOW - 60_000, device: 'test', direction: 'Flat' };
      const first = await call('relay', '/api/v1/entries', {
        method: 'POST',
        headers,
        body: [doc, { ...doc, date: NOW }],
      });
      expect(first.status).to.equal(200);
      expect((first.body as { _id: string }[]).map((e) => e._id)).to.have.length(2);
      await call('relay', '/api/v1/entries', { method: 'POST', headers, body: { ...doc, sgv: 121 } });
      expect(nightscout.stored('relay').map((e) => [e.date, e.sgv])).to.deep.equal([
        [NOW - 60_000, 121],
        [NOW, 120],
      ]);
      expect(nightscout.uploads('relay').map((u) => u.outcome)).to.deep.equal([
        'created',
        'created',
        'updated',
      ]);
    });
  });

  describe('token exchange and API v3', () => {
    it('exchanges a token for a JWT that expires after its lifetime', async () => {
      const answer = await call('mia', `/api/v2/authorization/request/${tokenOf(MIA, 'readable')}`);
      const body = answer.body as { token: string; sub: string; iat: number; exp: number };
      expect(body.sub).to.equal('glucobridge');
      expect(body.iat).to.equal(Math.floor(NOW / 1000));
      expect(body.exp - body.iat).to.equal(3600);
      const headers = { Authorization: `Bearer ${body.token}` };
      expect((await call('mia', '/api/v3/entries?limit=1', { headers })).status).to.equal(200);
      clock.tick(3600_000);
      const expired = await call('mia', '/api/v3/entries?limit=1', { headers });
      expect(expired).to.deep.equal({
        status: 401,
        body: { status: 401, message: 'Bad access token or JWT' },
      });
      expect(
        (await call('mia', '/api/v2/authorization/request/glucobridge-0000000000000000')).status,
      ).to.equal(401);
    });

    it('wants a JWT for v3 (not the API secret) and a permission for each operation', async () => {
      const missing = await call('mia', '/api/v3/entries', {
        headers: { 'api-secret': hash('sha1', MIA.apiSecret) },
      });
      expect(missing).to.deep.equal({
        status: 401,
        body: { status: 401, message: 'Missing or bad access token or JWT' },
      });
      const reader = await jwt('relay', tokenOf(RELAY, 'readable'));
      const refused = await call('relay', '/api/v3/entries', {
        method: 'POST',
        headers: { Authorization: `Bearer ${reader}` },
        body: { date: NOW, app: 'test', device: 'test', type: 'sgv', sgv: 100, utcOffset: 0 },
      });
      expect(refused).to.deep.equal({
        status: 403,
        body: { status: 403, message: 'Missing permission api:entries:create' },
      });
    });

    it('searches newest first with filters, a limit of at most 1000, and fields', async () => {
      const headers = { Authorization: `Bearer ${await jwt('mia', tokenOf(MIA, 'readable'))}` };
      const answer = await call('mia', `/api/v3/entries?type=sgv&sort$desc=date&limit=3&fields=date,sgv`, {
        headers,
      });
      const body = answer.body as { status: number; result: Record<string, unknown>[] };
      expect(body.status).to.equal(200);
      expect(body.result).to.have.length(3);
      expect(Object.keys(body.result[0]!).sort()).to.deep.equal(['date', 'sgv']);
      const tooMany = await call('mia', '/api/v3/entries?limit=1001', { headers });
      expect(tooMany.status).to.equal(400);
    });

    it('creates (201), deduplicates by identifier (200), and refuses changing an immutable field (400)', async () => {
      const headers = { Authorization: `Bearer ${await jwt('relay', tokenOf(RELAY, 'admin'))}` };
      const doc = {
        identifier: 'ab5e1f0c-0000-5000-8000-000000000001',
        date: NOW,
        app: 'test',
        device: 'one',
        type: 'sgv',
        sgv: 100,
        utcOffset: 0,
      };
      const created = await call('relay', '/api/v3/entries', { method: 'POST', headers, body: doc });
      expect(created.status).to.equal(201);
      expect(created.body).to.deep.include({ status: 201, identifier: doc.identifier });
      const again = await call('relay', '/api/v3/entries', {
        method: 'POST',
        headers,
        body: { ...doc, sgv: 101 },
      });
      expect(again.status).to.equal(200);
      expect(again.body).to.deep.include({ isDeduplication: true, identifier: doc.identifier });
      const otherDevice = await call('relay', '/api/v3/entries', {
        method: 'POST',
        headers,
        body: { ...doc, device: 'two' },
      });
      expect(otherDevice).to.deep.equal({
        status: 400,
        body: { status: 400, message: 'Field device cannot be modified by the client' },
      });
      const noApp = await call('relay', '/api/v3/entries', {
        method: 'POST',
        headers,
        body: { ...doc, identifier: undefined, app: '' },
      });
      expect(noApp.status).to.equal(400);
      expect(nightscout.uploads('relay').map((u) => u.outcome)).to.deep.equal(['created', 'deduplicated']);
      expect(nightscout.stored('relay')).to.have.length(1);
    });
  });

  it('tells the demo sites, their secrets and uploaders in the banner', () => {
    const lines = nightscout.describe('http://127.0.0.1:8080/nightscout');
    expect(lines[0]).to.match(/Nightscout/);
    for (const site of NIGHTSCOUT_DEMO_SITES) {
      expect(lines.join('\n')).to.contain(`server http://127.0.0.1:8080/nightscout/${site.site}`);
      expect(lines.join('\n')).to.contain(site.apiSecret);
    }
    expect(lines.join('\n')).to.match(/Juggluco every 1 min/);
    expect(lines.join('\n')).to.match(/xDrip-DexcomG7 every 5 min \+ AAPS-Watch every 5 min/);
  });

  it('checks permissions the Shiro way', () => {
    expect(permits(['*'], 'api:entries:create')).to.equal(true);
    expect(permits(['*:*:read'], 'api:entries:read')).to.equal(true);
    expect(permits(['*:*:read'], 'api:entries:create')).to.equal(false);
    expect(permits(['api:status:read'], 'api:entries:read')).to.equal(false);
    expect(permits(['api:entries'], 'api:entries:create')).to.equal(true);
    expect(permits(['api:entries:read,create'], 'api:entries:create')).to.equal(true);
    expect(permits([], 'api:status:read')).to.equal(false);
  });
});
