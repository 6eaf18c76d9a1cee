// The bridge's status page, /healthz and /metrics over real loopback sockets, against the simulator
// and an embedded broker.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import type { EmbeddedBroker } from '../../src/bridge/broker';
import { parseBridgeConfig } from '../../src/bridge/config';
import { StatusPage } from '../../src/bridge/http';
import { resolveHttpSettings } from '../../src/bridge/http/settings';
import type { StatusSnapshot } from '../../src/bridge/http/snapshot';
import { Bridge } from '../../src/bridge/runner';
import type { CgmError } from '../../src/model/errors';
import { silentLogger } from '../../src/model/logger';
import { DEXCOM_DEMO_ACCOUNTS } from '../../src/simulator';
import type { Simulator } from '../../src/simulator/server';
import type { StatePayload } from '../../src/mqtt/state';
import { runCli } from '../cli/helpers';
import { until } from '../until';
import { useBridgeRig } from './helpers';

const SAM = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'ous')!;
const ALEX = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'us')!;

/** GET with any headers (fetch will not send another Host). */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the bridge’s status page, /healthz and /metrics', function () {
  this.timeout(40_000);
  let sim: Simulator;
  let broker: EmbeddedBroker;
  let bridge: Bridge | undefined;
  let dir: string;

  // Registered first, so the bridge stops before its clouds and broker go.
  afterEach(async () => {
    await bridge?.stop();
    bridge = undefined;
  });
  useBridgeRig('gb-status-', (rig) => ({ sim, broker, dir } = rig));

  const dexcom = (name: string, account: typeof SAM, password = account.password) => ({
    name,
    provider: 'dexcom',
    region: account.region,
    server: `${sim.urlFor('dexcom')}/${account.region}`,
    username: account.username,
    password,
  });

  async function start(http: Record<string, unknown>, accounts: unknown[], env: NodeJS.ProcessEnv = {}) {
    const config = parseBridgeConfig({ mqtt: { url: broker.url }, http, accounts }, env);
    bridge = new Bridge(config, { logger: silentLogger, stateFile: join(dir, 'state.json') });
    await bridge.start();
    return bridge.statusUrl!;
  }

  it('serves the page, the snapshot with the day’s history and statistics, health and metrics', async () => {
    const mqtt = await connectAsync(broker.url);
    const states = new Map<string, StatePayload>();
    mqtt.on('message', (topic, payload) => {
      if (topic.endsWith('/state') && payload.length > 0)
        states.set(topic, JSON.parse(payload.toString()) as StatePayload);
    });
    await mqtt.subscribeAsync('glucobridge/+/state');
    try {
      const url = await start({ listen: '127.0.0.1:0' }, [
        dexcom('Sam', SAM),
        dexcom('Wrong', ALEX, 'not-the-password'),
      ]);
      expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);

      const page = await get(url);
      expect(page.status).to.equal(200);
      expect(page.headers['content-security-policy']).to.contain("script-src 'self'");
      expect(page.body).to.contain('vendor/uPlot.iife.min.js');
      expect((await get(`${url}vendor/uPlot.iife.min.js`)).body).to.contain('uPlot');
      expect((await get(`${url}app.js`)).status).to.equal(200);
      expect((await get(`${url}nothing`)).status).to.equal(404);

      // Sam: the 24 h Dexcom history arrives after the first reading; the statistics cover the day.
      const snapshot = await until('Sam’s day', async () => {
        const s = JSON.parse((await get(`${url}api/status`)).body) as StatusSnapshot;
        const sam = s.people.find((p) => p.slug === 'sam');
        // Logins take turns at start: the wrong password may be refused after Sam's day arrived.
        const refused = s.accounts.find((a) => a.name === 'Wrong')?.problem?.code === 'AUTH_INVALID';
        return refused && sam && sam.history.length > 200 && (sam.statistics?.coverage ?? 0) > 0.9
          ? s
          : undefined;
      });
      const sam = snapshot.people.find((p) => p.slug === 'sam')!;
      expect(sam.last!.value).to.be.a('number');
      expect(sam.unit).to.equal('mg/dL');
      expect(sam.statistics!.percentInRange).to.be.within(0, 100);
      expect(snapshot.mqtt.connected).to.equal(true);
      // The wrong password: the account's problem, with its hint, on the account and its stand-in.
      const wrong = snapshot.accounts.find((a) => a.name === 'Wrong')!;
      expect(wrong.problem).to.include({ code: 'AUTH_INVALID', current: true });
      expect(wrong.problem!.hint).to.be.a('string');
      expect(snapshot.people.find((p) => p.account === 'Wrong')!.problem!.code).to.equal('AUTH_INVALID');
      expect(JSON.stringify(snapshot)).to.not.contain('not-the-password');

      // The same statistics reach the state JSON on MQTT (sent again once the history came).
      const state = await until('statistics on MQTT', () => {
        const s = states.get('glucobridge/sam/state');
        return s?.statistics && s.statistics.coverage > 0.9 ? s : undefined;
      });
      expect(state.statistics!.meanMgdl).to.equal(sam.statistics!.meanMgdl);

      const health = await get(`${url}healthz`);
      expect(health.status).to.equal(200);
      expect(JSON.parse(health.body)).to.include({ status: 'ok', mqtt: 'connected' });

      const metrics = (await get(`${url}metrics`)).body;
      expect(metrics).to.match(/glucobridge_readings_published_total\{account="Sam",person="sam"\} [1-9]/);
      expect(metrics).to.match(/glucobridge_cloud_requests_total\{provider="dexcom",result="2xx"\} [1-9]/);
      expect(metrics).to.match(/glucobridge_cloud_requests_total\{provider="dexcom",result="5xx"\} [1-9]/);
      expect(metrics).to.match(/glucobridge_errors_total\{code="AUTH_INVALID"\} 1/);
      expect(metrics).to.match(/glucobridge_last_reading_age_seconds\{account="Sam",person="sam"\} \d+/);
      expect(metrics).to.contain('glucobridge_mqtt_queue_length 0');
      expect(metrics).to.contain('glucobridge_mqtt_connected 1');

      // The broker goes away: unhealthy, with the reason.
      await mqtt.endAsync();
      await broker.close();
      const down = await until('503', async () => {
        const answer = await get(`${url}healthz`);
        return answer.status === 503 ? answer : undefined;
      });
      const reason = JSON.parse(down.body) as { status: string; mqtt: string; reason: string };
      expect(reason).to.include({ status: 'unavailable', mqtt: 'disconnected' });
      expect(reason.reason).to.contain('MQTT broker');
    } finally {
      await mqtt.endAsync().catch(() => undefined);
    }
  });

  it('live: the event stream sends the snapshot at once', async () => {
    const url = await start({ listen: '127.0.0.1:0' }, [dexcom('Sam', SAM)]);
    const controller = new AbortController();
    const response = await fetch(`${url}events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).to.contain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    while (!/event: status\ndata: .*\n\n/.test(text)) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += Buffer.from(chunk.value as Uint8Array).toString('utf8');
    }
    controller.abort();
    const data = /event: status\ndata: (.*)\n\n/.exec(text)![1]!;
    expect((JSON.parse(data) as StatusSnapshot).accounts[0]!.name).to.equal('Sam');
  });

  it('with a password or a token every route but /healthz asks for it; basic auth, bearer and ?token= work', async () => {
    const url = await start(
      { listen: '127.0.0.1:0', password: 'correct horse battery', token: 'a-token-of-sixteen-chars' },
      [dexcom('Sam', SAM)],
    );
    const none = await get(`${url}api/status`);
    expect(none.status).to.equal(401);
    expect(none.headers['www-authenticate']).to.contain('Basic');
    expect(none.body).to.not.contain('Sam');
    expect((await get(`${url}metrics`)).status).to.equal(401);
    const basic = (user: string, password: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
    expect((await get(`${url}api/status`, basic('glucobridge', 'correct horse battery'))).status).to.equal(
      200,
    );
    expect((await get(`${url}api/status`, basic('glucobridge', 'wrong horse'))).status).to.equal(401);
    expect((await get(`${url}api/status`, basic('someone', 'correct horse battery'))).status).to.equal(401);
    expect(
      (await get(`${url}metrics`, { authorization: 'Bearer a-token-of-sixteen-chars' })).status,
    ).to.equal(200);
    expect((await get(`${url}api/status?token=a-token-of-sixteen-chars`)).status).to.equal(200);
    expect((await get(`${url}api/status?token=another-token-of-16`)).status).to.equal(401);
    expect((await get(`${url}healthz`)).status).to.be.oneOf([200, 503]);
  });

  it('without credentials only requests that name this machine are answered (no DNS rebinding)', async () => {
    const url = await start({ listen: '127.0.0.1:0' }, [dexcom('Sam', SAM)]);
    const port = new URL(url).port;
    expect((await get(`${url}api/status`, { host: `localhost:${port}` })).status).to.equal(200);
    expect((await get(`${url}api/status`, { host: `127.0.0.1:${port}` })).status).to.equal(200);
    const rebound = await get(`${url}api/status`, { host: `evil.example:${port}` });
    expect(rebound.status).to.equal(421);
    expect(rebound.body).to.not.contain('Sam');
  });

  it('glucobridge bridge --http: prints the page’s address; another machine’s address without a password is refused', async () => {
    const file = join(dir, 'glucobridge.json');
    writeFileSync(
      file,
      JSON.stringify({
        mqtt: { url: broker.url },
        stateFile: join(dir, 'cli-state.json'),
        accounts: [dexcom('Sam', SAM)],
      }),
    );
    const refused = await runCli(['bridge', '--config', file, '--http', '0.0.0.0:8780']);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.match(/CONFIG: .*0\.0\.0\.0:8780 can be reached from other machines/);
    expect(refused.stderr).to.contain('GLUCOBRIDGE_HTTP_PASSWORD');
    let stop: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => (stop = resolve));
    let printed = '';
    const running = runCli(
      ['bridge', '--config', file, '--http', '127.0.0.1:0'],
      {},
      { interrupted, onStdout: (t) => (printed += t) },
    );
    await until('the address', () => /status page on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(printed)?.[1]);
    const url = /status page on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(printed)![1]!;
    expect((await get(`${url}healthz`)).status).to.be.oneOf([200, 503]);
    stop();
    expect((await running).code).to.equal(0);
  });

  it('settings: loopback by default, other addresses only with a password or token, and HOST:PORT checked', () => {
    expect(resolveHttpSettings({})).to.deep.equal({ host: '127.0.0.1', port: 8780 });
    expect(resolveHttpSettings({ listen: '[::1]:9000' })).to.include({ host: '::1', port: 9000 });
    const refused = (input: Record<string, unknown>): CgmError => {
      try {
        resolveHttpSettings(input);
      } catch (error) {
        return error as CgmError;
      }
      throw new Error('accepted');
    };
    const open = refused({ listen: '0.0.0.0:8780' });
    expect(open.code).to.equal('CONFIG');
    expect(open.message).to.contain('password or a token');
    expect(refused({ listen: '192.168.1.5:8780' }).code).to.equal('CONFIG');
    expect(refused({ listen: 'localhost' }).message).to.contain('HOST:PORT');
    expect(refused({ listen: '127.0.0.1:70000' }).code).to.equal('CONFIG');
    expect(refused({ listen: '0.0.0.0:8780', password: 'short' }).message).to.contain('8 characters');
    expect(resolveHttpSettings({ listen: '0.0.0.0:8780', password: 'long enough' })).to.deep.include({
      basic: { username: 'glucobridge', password: 'long enough' },
    });
    // Home Assistant's bridge device links to the page only where another machine can open it.
    expect(StatusPage.configurationUrl(resolveHttpSettings({}))).to.equal(undefined);
    expect(
      StatusPage.configurationUrl(resolveHttpSettings({ listen: '0.0.0.0:8780', password: 'long enough' })),
    ).to.equal(undefined);
    expect(
      StatusPage.configurationUrl(
        resolveHttpSettings({ listen: '192.168.1.5:8780', token: 'a-token-of-sixteen-chars' }),
      ),
    ).to.equal('http://192.168.1.5:8780/');
    // The environment's secret, and the section off unless given.
    const config = parseBridgeConfig(
      {
        http: { listen: '0.0.0.0:8780' },
        accounts: [{ name: 'A', provider: 'dexcom', username: 'u', password: 'p' }],
      },
      { GLUCOBRIDGE_HTTP_TOKEN: 'a-token-from-the-environment' },
    );
    expect(config.http).to.include({ host: '0.0.0.0', token: 'a-token-from-the-environment' });
    expect(
      parseBridgeConfig({ accounts: [{ name: 'A', provider: 'dexcom', username: 'u', password: 'p' }] }, {})
        .http,
    ).to.equal(undefined);
  });
});
