import { createHash } from 'node:crypto';
import { expect } from 'chai';
import sinon from 'sinon';
import { nightscoutConfigSchema } from '../../../src/config';
import { CgmError } from '../../../src/model/errors';
import { LoginPolicy, type LoginMemory } from '../../../src/providers/login-policy';
import { NightscoutClient, siteSubjectId, siteThresholds } from '../../../src/providers/nightscout/client';
import { uploaderEntry } from '../../../src/simulator/nightscout-entries';
import { fixtureServer } from '../dexcom/helpers';
import { tracePoint } from '../../../src/simulator/trace';
import {
  demoSite,
  FAST_RETRY,
  readToken,
  rejection,
  startNightscout,
  uploadToken,
  type NightscoutRig,
} from './helpers';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// 2½ minutes past a five-minute mark: the 5-minute uploaders' newest reading (xDrip lag 15–30 s,
// the watch 45 s) is on the site.
const NOW = Date.UTC(2026, 5, 10, 12, 2, 30);
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

describe('Nightscout client (against the simulated sites)', function () {
  this.timeout(30_000);
  let rig: NightscoutRig;
  let clock: sinon.SinonFakeTimers;

  before(async () => {
    rig = await startNightscout();
  });
  after(() => rig.close());
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: NOW, toFake: ['Date'] });
    rig.sim.clearRequests();
    rig.sim.faults.clear();
  });
  afterEach(() => clock.restore());

  describe('API v1', () => {
    it('reads a site that is readable without a secret: no auth header, sgv entries, date as the instant', async () => {
      const { client } = rig.client({ site: 'leo' });
      const reading = await client.latest();
      const grid = Date.UTC(2026, 5, 10, 12, 0);
      const point = tracePoint('nightscout-leo', grid, 'brittle');
      expect(reading?.time.getTime()).to.equal(grid);
      expect(reading?.mgdl).to.equal(point.mgdl);
      expect(reading?.provider).to.equal('nightscout');
      expect(reading?.subject).to.equal(client.subjectId);
      const [request] = rig.sim.requests('/api/v1/entries');
      expect(request?.headers['api-secret']).to.equal(undefined);
      expect(request?.query).to.include({ 'find[type]': 'sgv', count: '10' });
    });

    it('sends the SHA-1 hex of the API secret in api-secret, and no secret in the URL', async () => {
      const secret = demoSite('mia').apiSecret;
      const { client } = rig.client({ site: 'mia', apiSecret: secret });
      expect(await client.latest()).to.not.equal(null);
      const [request] = rig.sim.requests('/api/v1/entries');
      expect(request?.headers['api-secret']).to.equal(sha1(secret));
      expect(JSON.stringify(request?.query)).not.to.contain(secret);
    });

    it('sends the SHA-1 hex of an access token in api-secret, never ?token=', async () => {
      const token = readToken('mia');
      const { client } = rig.client({ site: 'mia', token });
      expect(await client.latest()).to.not.equal(null);
      const [request] = rig.sim.requests('/api/v1/entries');
      expect(request?.headers['api-secret']).to.equal(sha1(token));
      expect(request?.query.token).to.equal(undefined);
      expect(request?.headers.authorization).to.equal(undefined);
    });

    it('reads a 1-minute uploader: oldest first, one per minute, and the cadence follows it', async () => {
      const { client } = rig.client({ site: 'mia', token: readToken('mia') });
      expect(client.cadence.readingIntervalMs).to.equal(5 * MINUTE);
      expect(client.observedIntervalMs).to.equal(undefined);
      const readings = await client.history({ minutes: 30 });
      const times = readings.map((r) => r.time.getTime());
      const expected = Array.from({ length: 30 }, (_, i) => Date.UTC(2026, 5, 10, 11, 33) + i * MINUTE);
      expect(times).to.deep.equal(expected);
      expect(client.observedIntervalMs).to.equal(MINUTE);
      expect(client.cadence.readingIntervalMs).to.equal(MINUTE);
      expect(client.cadence.latestIntervalMs).to.equal(MINUTE);
      const [request] = rig.sim.requests('/api/v1/entries');
      expect(Number(request?.query['find[date][$gte]'])).to.equal(NOW - 30 * MINUTE);
      expect(Number(request?.query.count)).to.be.at.least(60);
    });

    it('observes the spacing from the latest entries too, before any history was read', async () => {
      const minute = rig.client({ site: 'mia', token: readToken('mia') }).client;
      await minute.latest();
      expect(minute.cadence.readingIntervalMs).to.equal(MINUTE);
      const five = rig.client({ site: 'leo' }).client;
      await five.latest();
      expect(five.observedIntervalMs).to.equal(5 * MINUTE);
      expect((await five.history({ minutes: 120 })).length).to.equal(24);
      expect(five.cadence.readingIntervalMs).to.equal(5 * MINUTE);
    });

    it('takes date as the instant even where dateString is local time without a zone', async () => {
      const token = readToken('mia');
      const response = await fetch(`${rig.server('mia')}/api/v1/entries.json?count=3`, {
        headers: { 'api-secret': sha1(token) },
      });
      const raw = (await response.json()) as { date: number; dateString: string }[];
      expect(raw).to.have.length(3);
      // The site writes its uploader's wall time (UTC+2) without a zone: read as UTC it is 2 hours off.
      for (const entry of raw) expect(Date.parse(`${entry.dateString}Z`) - entry.date).to.equal(120 * 60_000);
      const { client } = rig.client({ site: 'mia', token });
      const readings = await client.history({ minutes: 3 });
      expect(readings.map((r) => r.time.getTime())).to.deep.equal(raw.map((e) => e.date).reverse());
    });
  });

  describe('API v3', () => {
    it('exchanges the token once for a JWT and sends it as Bearer', async () => {
      const { client } = rig.client({ site: 'leo', api: 'v3', token: readToken('leo') });
      const first = await client.latest();
      const second = await client.latest();
      expect(first?.time.getTime()).to.equal(Date.UTC(2026, 5, 10, 12, 0));
      expect(second?.mgdl).to.equal(first?.mgdl);
      expect(rig.sim.requests('/api/v2/authorization/request/')).to.have.length(1);
      const reads = rig.sim.requests('/api/v3/entries');
      expect(reads).to.have.length(2);
      for (const read of reads) {
        expect(read.headers.authorization).to.match(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
        expect(read.headers['api-secret']).to.equal(undefined);
        expect(read.query).to.include({ type: 'sgv', sort$desc: 'date', limit: '10' });
      }
    });

    it('renews the JWT five minutes before it expires (the site signs it for 8 hours)', async () => {
      const { client } = rig.client({ site: 'leo', api: 'v3', token: readToken('leo') });
      await client.latest();
      clock.tick(7 * HOUR + 50 * MINUTE);
      await client.latest();
      expect(rig.sim.requests('/api/v2/authorization/request/')).to.have.length(1);
      clock.tick(6 * MINUTE);
      await client.latest();
      expect(rig.sim.requests('/api/v2/authorization/request/')).to.have.length(2);
      const reads = rig.sim.requests('/api/v3/entries');
      expect(reads).to.have.length(3);
      expect(reads[2]?.headers.authorization).to.not.equal(reads[0]?.headers.authorization);
    });

    it('exchanges the token again, once, when the site stops accepting the JWT', async () => {
      const { client } = rig.client({ site: 'leo', api: 'v3', token: readToken('leo') });
      await client.latest();
      rig.nightscout.rotateJwtKey('leo');
      const reading = await client.latest();
      expect(reading).to.not.equal(null);
      expect(rig.sim.requests('/api/v2/authorization/request/')).to.have.length(2);
      expect(rig.sim.requests('/api/v3/entries')).to.have.length(3);
    });

    it('reads a long history in pages of at most 1000 (the v3 limit)', async () => {
      const { client } = rig.client({ site: 'mia', api: 'v3', token: readToken('mia') });
      const readings = await client.history({ minutes: 24 * 60 });
      expect(readings).to.have.length(24 * 60);
      const pages = rig.sim.requests('/api/v3/entries');
      expect(pages).to.have.length(2);
      expect(Number(pages[0]?.query.limit)).to.equal(1000);
      expect(Number(pages[1]?.query.date$lt)).to.equal(readings[24 * 60 - 1000]?.time.getTime());
      const times = readings.map((r) => r.time.getTime());
      expect(new Set(times).size).to.equal(times.length);
      expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    });

    it('refuses an API secret alone for v3 (CONFIG): v3 only takes tokens', () => {
      const config = nightscoutConfigSchema.parse({
        provider: 'nightscout',
        server: rig.server('leo'),
        api: 'v3',
        apiSecret: demoSite('leo').apiSecret,
      });
      let thrown: unknown;
      try {
        new NightscoutClient(config);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).to.be.instanceOf(CgmError);
      expect((thrown as CgmError).code).to.equal('CONFIG');
      expect((thrown as CgmError).hint).to.match(/token/);
    });
  });

  describe('failures', () => {
    it('a wrong token is AUTH_INVALID after exactly one request, and says nothing secret', async () => {
      const wrong = 'glucobridge-00000000deadbeef';
      const { client, logger } = rig.client({ site: 'mia', token: wrong });
      const error = await rejection(client.history({ minutes: 60 }));
      expect(error).to.be.instanceOf(CgmError);
      expect(error.code).to.equal('AUTH_INVALID');
      expect(error.retryable).to.equal(false);
      expect(error.hint).to.match(/token/);
      expect(rig.sim.requests()).to.have.length(1);
      const said = [error.message, String(error.hint), ...logger.lines].join('\n');
      expect(said).not.to.contain(wrong);
      expect(said).not.to.contain(sha1(wrong));
    });

    it('a refused secret is never sent again: not by the same client, nor after a restart with the remembered refusal', async () => {
      let memory: LoginMemory = {};
      const policy = () => new LoginPolicy({ memory, onChange: (m) => (memory = m) });
      const wrong = 'wrong-secret-of-mia-0001';
      const { client } = rig.client({ site: 'mia', apiSecret: wrong }, { loginGate: policy() });
      expect((await rejection(client.latest())).code).to.equal('AUTH_INVALID');
      expect((await rejection(client.history({ minutes: 30 }))).code).to.equal('AUTH_INVALID');
      expect(memory.refused?.code).to.equal('AUTH_INVALID');
      const restarted = rig.client({ site: 'mia', apiSecret: wrong }, { loginGate: policy() }).client;
      expect((await rejection(restarted.latest())).code).to.equal('AUTH_INVALID');
      expect(rig.sim.requests()).to.have.length(1);
      // v3: the token exchange is the login, through the same gate.
      const v3 = rig.client({ site: 'leo', api: 'v3', token: 'glucobridge-22222222deadbeef' }).client;
      await rejection(v3.latest());
      await rejection(v3.latest());
      expect(rig.sim.requests('/api/v2/authorization/request/')).to.have.length(1);
    });

    it('a wrong API secret is AUTH_INVALID after exactly one request', async () => {
      const { client } = rig.client({ site: 'noah', apiSecret: 'not-the-secret-of-noah' });
      const error = await rejection(client.latest());
      expect(error.code).to.equal('AUTH_INVALID');
      expect(error.hint).to.match(/API_SECRET/);
      expect(rig.sim.requests()).to.have.length(1);
    });

    it('a site that is not readable without a secret says which setting is missing', async () => {
      const { client } = rig.client({ site: 'mia' });
      const error = await rejection(client.latest());
      expect(error.code).to.equal('AUTH_INVALID');
      expect(error.message).to.match(/not readable without a token/);
      expect(error.hint).to.match(/set token/);
    });

    it('a token the v3 exchange refuses is AUTH_INVALID after one exchange, no entries asked', async () => {
      const wrong = 'glucobridge-11111111deadbeef';
      const { client, logger } = rig.client({ site: 'leo', api: 'v3', token: wrong });
      const error = await rejection(client.latest());
      expect(error.code).to.equal('AUTH_INVALID');
      expect(rig.sim.requests('/api/v2/authorization/request/')).to.have.length(1);
      expect(rig.sim.requests('/api/v3/entries')).to.have.length(0);
      expect([error.message, ...logger.lines].join('\n')).not.to.contain(wrong);
    });

    it('a token that may read cannot be used to read a site it does not belong to', async () => {
      const { client } = rig.client({ site: 'noah', token: readToken('leo') });
      expect((await rejection(client.latest())).code).to.equal('AUTH_INVALID');
    });

    it('404 for an API path in server: NOT_FOUND with a hint to remove it', async () => {
      const { client } = rig.client({ server: `${rig.server('leo')}/api/v1` });
      const error = await rejection(client.latest());
      expect(error.code).to.equal('NOT_FOUND');
      expect(error.hint).to.equal(
        'remove "/api/v1" from the end of server: it is the site\'s address, without the API path',
      );
      expect(rig.sim.requests()).to.have.length(1);
    });

    it('404 for an address that is not a site: NOT_FOUND with a hint about the path', async () => {
      const { client } = rig.client({ server: `${rig.url}/nightscout/nobody`, api: 'v3' });
      const error = await rejection(client.latest());
      expect(error.code).to.equal('NOT_FOUND');
      expect(error.hint).to.match(/check the path "\/nightscout\/nobody"/);
      expect(error.hint).to.match(/API v3/);
    });

    it('retries a 5xx; one that lasts is SERVER and retryable', async () => {
      const { client } = rig.client({ site: 'leo' });
      rig.sim.faults.add({ kind: 'status', status: 502, provider: 'nightscout' });
      expect(await client.latest()).to.not.equal(null);
      expect(rig.sim.requests('/api/v1/entries')).to.have.length(2);
      rig.sim.clearRequests();
      rig.sim.faults.add({ kind: 'status', status: 503, provider: 'nightscout', times: Infinity });
      const error = await rejection(client.latest());
      expect(error.code).to.equal('SERVER');
      expect(error.retryable).to.equal(true);
      expect(rig.sim.requests('/api/v1/entries')).to.have.length(FAST_RETRY.attempts);
    });

    it('a 401 switched on in the simulator is AUTH_INVALID once, never retried', async () => {
      const { client } = rig.client({ site: 'leo', token: readToken('leo') });
      expect(await client.latest()).to.not.equal(null);
      rig.sim.clearRequests();
      rig.sim.faults.add({ kind: 'status', status: 401, provider: 'nightscout' });
      expect((await rejection(client.latest())).code).to.equal('AUTH_INVALID');
      expect((await rejection(client.latest())).code).to.equal('AUTH_INVALID');
      expect(rig.sim.requests()).to.have.length(1);
    });

    it('a redirect to https is CONFIG naming the https address', async () => {
      const server = await fixtureServer({
        '/api/v1/entries.json': {
          status: 301,
          body: '',
          headers: { Location: 'https://mia.example.org/api/v1/entries.json' },
        },
      });
      try {
        const { client } = rig.client({ server: server.url });
        const error = await rejection(client.latest());
        expect(error.code).to.equal('CONFIG');
        expect(error.hint).to.equal('use the https:// address: https://mia.example.org');
      } finally {
        await server.close();
      }
    });

    it('a site that does not answer is TIMEOUT', async () => {
      const { client } = rig.client(
        { site: 'leo' },
        { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
      );
      rig.sim.faults.add({ kind: 'timeout', provider: 'nightscout' });
      const error = await rejection(client.latest());
      expect(error.code).to.equal('TIMEOUT');
      expect(error.retryable).to.equal(true);
    });
  });

  describe('two uploaders on one site', () => {
    const WATCH = demoSite('noah').uploaders[1]!;
    const XDRIP = demoSite('noah').uploaders[0]!;

    it('gives one reading per measurement: the newest upload wins, the other fills its gaps', async () => {
      const { client } = rig.client({ site: 'noah', token: readToken('noah') });
      const readings = await client.history({ minutes: 60 });
      const grid = Array.from({ length: 12 }, (_, i) => Date.UTC(2026, 5, 10, 11, 5) + i * 5 * MINUTE);
      expect(readings).to.have.length(grid.length);
      const fromWatch = grid.map((t) => uploaderEntry(WATCH, t)).filter((e) => e !== undefined);
      expect(fromWatch.length).to.be.within(6, 11);
      grid.forEach((t, i) => {
        const expected = uploaderEntry(WATCH, t) ?? uploaderEntry(XDRIP, t)!;
        expect(readings[i]?.time.getTime()).to.equal(expected.date);
        expect(readings[i]?.mgdl).to.equal(expected.sgv);
      });
      // Some of the watch's copies are stamped 3 s after the sensor's grid: still one reading each.
      expect(readings.some((r) => r.time.getTime() % (5 * MINUTE) === 3_000)).to.equal(true);
    });

    it('keeps the instant handed out first when a later copy is stamped a few seconds off', async () => {
      // A five-minute mark where the watch uploads its copy 3 s late (index ≡ 1 mod 4).
      let mark = Math.ceil(NOW / (5 * MINUTE)) * 5 * MINUTE;
      while (Math.round(mark / (5 * MINUTE)) % 4 !== 1) mark += 5 * MINUTE;
      expect(uploaderEntry(WATCH, mark)?.date).to.equal(mark + 3_000);
      clock.setSystemTime(mark + 20_000);
      const { client } = rig.client({ site: 'noah', token: readToken('noah') });
      const early = await client.latest();
      expect(early?.time.getTime()).to.equal(mark);
      expect(early?.mgdl).to.equal(uploaderEntry(XDRIP, mark)?.sgv);
      clock.setSystemTime(mark + 60_000);
      const late = await client.latest();
      expect(late?.time.getTime()).to.equal(mark);
      expect(late?.mgdl).to.equal(uploaderEntry(WATCH, mark)?.sgv);
    });
  });

  describe('the site as a subject', () => {
    it('names the site by its title, unless a name is configured; the id is stable and not the address', async () => {
      const { client } = rig.client({ site: 'mia', token: readToken('mia') });
      const info = await client.login();
      expect(info).to.deep.equal({
        provider: 'nightscout',
        region: 'v1',
        subjects: [{ id: client.subjectId, name: 'Mia' }],
      });
      const named = rig.client({ site: 'mia', token: readToken('mia'), name: 'Mia at school' }).client;
      expect(await named.subjects()).to.deep.equal([{ id: client.subjectId, name: 'Mia at school' }]);
      const port = new URL(rig.url).port;
      expect(siteSubjectId(`HTTP://127.0.0.1:${port}/nightscout/mia/`)).to.equal(client.subjectId);
      expect(siteSubjectId(rig.server('leo'))).to.not.equal(client.subjectId);
      expect(client.subjectId).to.match(/^nightscout-[0-9a-f]{12}$/);
    });

    it('reads by the subject id or name, and refuses another subject', async () => {
      const { client } = rig.client({ site: 'leo' });
      expect(await client.latest(client.subjectId)).to.not.equal(null);
      expect(await client.latest('leo')).to.not.equal(null);
      expect((await rejection(client.history({ minutes: 10, subject: 'Mia' }))).code).to.equal('NOT_FOUND');
    });

    it('reads the units and thresholds of the site, and maps them to urgent low / low / high', async () => {
      const { client } = rig.client({ site: 'mia', token: readToken('mia') });
      const settings = await client.siteSettings();
      expect(settings).to.deep.include({ units: 'mmol', title: 'Mia' });
      expect(settings.thresholds).to.deep.equal({
        bgHigh: 250,
        bgTargetTop: 180,
        bgTargetBottom: 72,
        bgLow: 54,
      });
      expect(siteThresholds(settings)).to.deep.equal({ urgentLow: 54, low: 72, high: 180 });
      expect(siteThresholds({ units: 'mgdl' })).to.equal(undefined);
    });

    it('reads the status with the JWT on v3 and with the uploader token too', async () => {
      const { client } = rig.client({ site: 'relay', api: 'v3', token: uploadToken('relay') });
      expect((await client.siteSettings()).title).to.equal('Relay');
      const [status] = rig.sim.requests('/api/v1/status.json');
      expect(status?.headers.authorization).to.match(/^Bearer /);
    });
  });
});
