// Every Nightscout fixture replayed byte for byte by a loopback server (see fixtures/README.md).
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import sinon from 'sinon';
import { nightscoutConfigSchema } from '../../../src/config';
import { HttpTransport } from '../../../src/http/transport';
import { makeReading } from '../../../src/model/reading';
import { NightscoutClient, siteThresholds } from '../../../src/providers/nightscout/client';
import { DIRECTIONS } from '../../../src/providers/nightscout/constants';
import { v1Document, v3Document } from '../../../src/providers/nightscout/documents';
import { NightscoutUploader } from '../../../src/providers/nightscout/uploader';
import { fixtureServer, type Route } from '../dexcom/helpers';
import { FAST_RETRY, FIXTURES, fixture, fixtureJson, fromFixture, MemoryLogger, rejection } from './helpers';

const EXAMPLE_TOKEN = 'testreadab-76eaff2418bfb7e0';
/** Within the lifetime of the documented JWT (iat 1565039731, exp 1565043331). */
const JWT_VALID_AT = Date.UTC(2019, 7, 5, 21, 20);

function client(server: string, fields: Record<string, unknown> = {}) {
  const logger = new MemoryLogger();
  const config = nightscoutConfigSchema.parse({ provider: 'nightscout', server, ...fields });
  return {
    logger,
    client: new NightscoutClient(config, {
      logger,
      retry: FAST_RETRY,
      transport: new HttpTransport({ timeoutMs: 1_000 }),
    }),
  };
}

describe('Nightscout fixtures replayed', () => {
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => clock?.restore());
  const at = (iso: string) => {
    clock = sinon.useFakeTimers({ now: Date.parse(iso), toFake: ['Date'] });
  };

  it('cgm-remote-monitor example.json: string sgv read, the "5" error codes dropped once each, date as the instant', async () => {
    at('2014-07-19T18:00:00Z');
    const server = await fixtureServer({
      '/api/v1/entries.json': fromFixture('cgm-remote-monitor-example.entries.200.json'),
    });
    try {
      const { client: ns, logger } = client(server.url);
      const raw = fixtureJson('cgm-remote-monitor-example.entries.200.json') as {
        sgv: string;
        date: number;
      }[];
      const readings = await ns.history({ minutes: 12 * 60 });
      const good = raw.filter((e) => e.sgv !== '5');
      expect(readings).to.have.length(18);
      expect(readings.map((r) => r.time.getTime())).to.deep.equal(good.map((e) => e.date).reverse());
      expect(readings.map((r) => r.mgdl)).to.deep.equal(good.map((e) => Number(e.sgv)).reverse());
      expect(readings.every((r) => r.trend === 'flat')).to.equal(true);
      const refusals = () => logger.lines.filter((l) => /PROTOCOL/.test(l));
      expect(refusals()).to.have.length(12);
      expect(refusals()[0]).to.match(/sgv 5 is not a glucose value/);
      await ns.history({ minutes: 12 * 60 });
      expect(refusals()).to.have.length(12);
      // A span of five minutes every five minutes: the spacing the cadence follows.
      expect(ns.cadence.readingIntervalMs).to.equal(5 * 60_000);
      expect(server.requests[0]?.query.get('find[type]')).to.equal('sgv');
    } finally {
      await server.close();
    }
  });

  it('AAPS high-frequency batch: every direction mapped, the instant from date where dateString disagrees', async () => {
    // The fixture's dateString says 16:00Z while its date (1705600000000) is 17:46:40Z: date wins.
    at('2024-01-18T18:30:00Z');
    const server = await fixtureServer({
      '/api/v1/entries.json': fromFixture('aaps-high-frequency-batch.entries.200.json'),
    });
    try {
      const readings = await client(server.url).client.history({ minutes: 60 });
      expect(readings.map((r) => [r.time.toISOString(), r.mgdl, r.trend])).to.deep.equal([
        ['2024-01-18T17:46:40.000Z', 120, 'flat'],
        ['2024-01-18T17:51:40.000Z', 125, 'fortyFiveUp'],
        ['2024-01-18T17:56:40.000Z', 130, 'singleUp'],
        ['2024-01-18T18:01:40.000Z', 128, 'flat'],
        ['2024-01-18T18:06:40.000Z', 122, 'fortyFiveDown'],
      ]);
    } finally {
      await server.close();
    }
  });

  it('API v3: the token exchanged at the documented path before the search; entries without date are dropped', async () => {
    at('2019-08-05T21:30:00Z');
    const server = await fixtureServer({
      [`/api/v2/authorization/request/${EXAMPLE_TOKEN}`]: fromFixture(
        'derived-authorization-request.200.json',
      ),
      '/api/v3/entries': fromFixture('api3-tutorial-search.200.json'),
    });
    try {
      const { client: ns, logger } = client(server.url, { api: 'v3', token: EXAMPLE_TOKEN });
      expect(await ns.latest()).to.equal(null);
      const jwt = (fixtureJson('derived-authorization-request.200.json') as { token: string }).token;
      expect(server.requests.map((r) => r.path)).to.deep.equal([
        `/api/v2/authorization/request/${EXAMPLE_TOKEN}`,
        '/api/v3/entries',
      ]);
      expect(logger.lines.filter((l) => /PROTOCOL: an entry was dropped: date/.test(l))).to.have.length(3);
      expect(logger.lines.join('\n')).not.to.contain(jwt);
      expect(logger.lines.join('\n')).not.to.contain(EXAMPLE_TOKEN);
    } finally {
      await server.close();
    }
  });

  it('renews the documented JWT by its exp (1565043331), five minutes ahead', async () => {
    at('2019-08-05T21:20:00Z');
    const server = await fixtureServer({
      [`/api/v2/authorization/request/${EXAMPLE_TOKEN}`]: fromFixture(
        'derived-authorization-request.200.json',
      ),
      '/api/v3/entries': { status: 200, body: '{"status":200,"result":[]}' },
    });
    try {
      const { client: ns } = client(server.url, { api: 'v3', token: EXAMPLE_TOKEN });
      await ns.latest();
      clock!.setSystemTime(1565043331_000 - 6 * 60_000);
      await ns.latest();
      expect(server.count(`/request/${EXAMPLE_TOKEN}`)).to.equal(1);
      clock!.setSystemTime(1565043331_000 - 4 * 60_000);
      await ns.latest();
      expect(server.count(`/request/${EXAMPLE_TOKEN}`)).to.equal(2);
    } finally {
      await server.close();
    }
  });

  it('status.json: units, title and thresholds (mg/dL) of the server defaults', async () => {
    const server = await fixtureServer({ '/api/v1/status.json': fromFixture('derived-status.200.json') });
    try {
      const { client: ns } = client(server.url);
      const settings = await ns.siteSettings();
      expect(settings).to.deep.equal({
        units: 'mgdl',
        title: 'Nightscout',
        version: '15.0.7',
        thresholds: { bgHigh: 260, bgTargetTop: 180, bgTargetBottom: 80, bgLow: 55 },
      });
      expect(siteThresholds(settings)).to.deep.equal({ urgentLow: 55, low: 80, high: 180 });
      expect(await ns.subjects()).to.deep.equal([{ id: ns.subjectId, name: 'Nightscout' }]);
    } finally {
      await server.close();
    }
  });

  it('the v1 401 body is AUTH_INVALID quoting the server, asked once', async () => {
    const server = await fixtureServer({
      '/api/v1/entries.json': fromFixture('derived-v1-unauthorized.401.json'),
    });
    try {
      const error = await rejection(client(server.url, { apiSecret: 'some-api-secret-1' }).client.latest());
      expect(error.code).to.equal('AUTH_INVALID');
      expect(error.message).to.equal(
        'Nightscout entries: the API secret was refused (Unauthorized: Invalid/Missing)',
      );
      expect(server.requests).to.have.length(1);
    } finally {
      await server.close();
    }
  });

  it('v3 without a token on a secured site: AUTH_INVALID saying a token is needed', async () => {
    const server = await fixtureServer({
      '/api/v3/entries': fromFixture('derived-api3-missing-token.401.json'),
    });
    try {
      const error = await rejection(client(server.url, { api: 'v3' }).client.latest());
      expect(error.code).to.equal('AUTH_INVALID');
      expect(error.hint).to.match(/set token/);
    } finally {
      await server.close();
    }
  });

  it('an HTML page answered with 200 is PROTOCOL, asking whether this is a Nightscout site', async () => {
    const server = await fixtureServer({
      '/api/v1/entries.json': { status: 200, body: '<!DOCTYPE html><html><body>Parked domain</body></html>' },
    });
    try {
      const error = await rejection(client(`${server.url}/`).client.latest());
      expect(error.code).to.equal('PROTOCOL');
      expect(error.hint).to.match(/a Nightscout site\?/);
    } finally {
      await server.close();
    }
  });

  describe('uploads', () => {
    const reading = makeReading({
      provider: 'librelinkup',
      subject: 'p',
      time: new Date(JWT_VALID_AT - 10 * 60_000),
      mgdl: 120,
      trend: 'fortyFiveUp',
    });

    it('v3 document: every field of the AAPS document but dateString, of the same types', () => {
      const aaps = fixtureJson('aaps-single-reading.request.json') as Record<string, unknown>;
      const ours = v3Document(reading, 'glucobridge-librelinkup') as unknown as Record<string, unknown>;
      for (const [key, value] of Object.entries(aaps)) {
        if (key === 'dateString') continue;
        expect(ours, key).to.have.property(key);
        expect(typeof ours[key], key).to.equal(typeof value);
      }
      expect(Object.keys(DIRECTIONS)).to.include(ours.direction);
    });

    it('v1 document: the swagger Entry fields plus device and trend; dateString is ISO 8601 of date', () => {
      const ours = v1Document(reading, 'glucobridge-librelinkup');
      expect(Object.keys(ours).sort()).to.deep.equal(
        ['date', 'dateString', 'device', 'direction', 'sgv', 'trend', 'type'].sort(),
      );
      expect(Date.parse(ours.dateString)).to.equal(ours.date);
      const example = (
        fixtureJson('cgm-remote-monitor-example.entries.200.json') as Record<string, unknown>[]
      )[0]!;
      for (const key of ['type', 'date', 'dateString', 'device', 'direction'])
        expect(example).to.have.property(key);
    });

    async function uploadOnce(route: Route): Promise<{ uploader: NightscoutUploader; posts: number }> {
      const server = await fixtureServer({
        [`/api/v2/authorization/request/${EXAMPLE_TOKEN}`]: fromFixture(
          'derived-authorization-request.200.json',
        ),
        '/api/v3/entries': [{ status: 200, body: '{"status":200,"result":[]}' }, route],
      });
      try {
        const uploader = new NightscoutUploader({
          destination: { server: server.url, token: EXAMPLE_TOKEN, api: 'v3' },
          transport: new HttpTransport({ timeoutMs: 1_000 }),
          backoff: { baseDelayMs: 5, maxDelayMs: 5 },
        });
        uploader.enqueue(reading);
        await uploader.flush();
        await uploader.close();
        return { uploader, posts: server.count('/api/v3/entries') - 1 };
      } finally {
        await server.close();
      }
    }

    beforeEach(() => {
      clock = sinon.useFakeTimers({ now: JWT_VALID_AT, toFake: ['Date'] });
    });

    it('v3 201 (created) and 200 (deduplicated) both deliver the reading', async () => {
      for (const name of ['api3-tutorial-create.201.json', 'derived-api3-deduplicated.200.json']) {
        const { uploader, posts } = await uploadOnce(fromFixture(name));
        expect(posts, name).to.equal(1);
        expect(uploader.stats(), name).to.deep.include({ sent: 1, rejected: 0, queued: 0 });
      }
    });

    it('v3 400 "field cannot be modified" counts as delivered: another device has that instant', async () => {
      const { uploader, posts } = await uploadOnce(fromFixture('derived-api3-immutable-field.400.json'));
      expect(posts).to.equal(1);
      expect(uploader.stats()).to.deep.include({ sent: 1, rejected: 0, queued: 0 });
      expect(uploader.position).to.equal(reading.time.getTime());
    });

    it('v3 403 (a token that may only read) stops the uploader with CONFIG', async () => {
      const { uploader, posts } = await uploadOnce(fromFixture('derived-api3-missing-permission.403.json'));
      expect(posts).to.equal(1);
      expect(uploader.stats()).to.deep.include({ stopped: true, sent: 0 });
      expect(uploader.stats().problem?.code).to.equal('CONFIG');
    });
  });

  it('every fixture file says in the README where it came from, and is used by a test here', () => {
    const readme = fixture('README.md');
    const here = readFileSync(__filename, 'utf8');
    const files = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));
    expect(files).to.have.length(12);
    for (const name of files) {
      expect(readme, name).to.contain(`| \`${name}\` |`);
      expect(here, name).to.contain(`'${name}'`);
    }
  });
});
