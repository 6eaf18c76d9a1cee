// The relay of issue 14: one Dexcom login feeds MQTT (Home Assistant) and a Nightscout site at once.
// Fake time (Date and timers) drives the bridge's polls and the uploader's backoff; HTTP and MQTT are
// real sockets (the simulator, and Mosquitto as a separate process, whose own clock fake time cannot touch).
import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sinon from 'sinon';
import { parseBridgeConfig, type BridgeConfig } from '../../src/bridge/config';
import { Bridge } from '../../src/bridge/runner';
import { HttpTransport } from '../../src/http/transport';
import type { Logger } from '../../src/model/logger';
import { siteSubjectId } from '../../src/providers/nightscout/client';
import { DEXCOM_DEMO_ACCOUNTS, DexcomSimulator } from '../../src/simulator/dexcom';
import { NightscoutSimulator } from '../../src/simulator/nightscout';
import { Simulator } from '../../src/simulator/server';
import { startMosquitto, subscribe, type Mosquitto, type Subscriber } from '../mqtt/brokers';
import { uploadToken } from '../providers/nightscout/helpers';

const MINUTE = 60_000;
const START = Date.UTC(2026, 10, 22, 8, 0, 10);
const OUS = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'ous')!;
const TOKEN = uploadToken('relay');
const realSetTimeout = setTimeout;
const realSleep = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms));

/** Every log line, to count what an outage says and to check that no secret is said. */
class Lines implements Logger {
  readonly lines: string[] = [];
  debug = (m: string) => void this.lines.push(`debug ${m}`);
  info = (m: string) => void this.lines.push(`info ${m}`);
  warn = (m: string) => void this.lines.push(`warn ${m}`);
  error = (m: string) => void this.lines.push(`error ${m}`);
}

describe('relay: Dexcom → bridge → Nightscout and MQTT at once (fake time, Mosquitto)', function () {
  this.timeout(240_000);
  let mosquitto: Mosquitto;
  let watcher: Subscriber;
  let sim: Simulator;
  let nightscout: NightscoutSimulator;
  let clock: sinon.SinonFakeTimers;
  let dir: string;
  /** Each state message for Anna: the reading's instant, and the (fake) time it arrived. */
  let states: { time: number; at: number }[];

  before(async () => {
    mosquitto = await startMosquitto();
  });
  after(async () => {
    await mosquitto.close();
  });

  beforeEach(async () => {
    nightscout = new NightscoutSimulator();
    sim = new Simulator({ providers: [new DexcomSimulator(), nightscout] });
    await sim.listen();
    dir = mkdtempSync(join(tmpdir(), 'gb-relay-'));
    watcher = await subscribe(mosquitto.url, ['glucobridge/anna/state']);
    states = [];
    watcher.client.on('message', (topic, payload) => {
      const time = Date.parse((JSON.parse(payload.toString()) as { time: string }).time);
      states.push({ time, at: Date.now() });
    });
    clock = sinon.useFakeTimers({ now: START, toFake: ['Date', 'setTimeout', 'clearTimeout'] });
  });

  afterEach(async () => {
    clock.restore();
    await watcher.close();
    await sim.close();
  });

  /** Lets loopback HTTP and MQTT answer: real time passes until nothing new happened for a moment. */
  async function settle(): Promise<void> {
    let seen = -1;
    for (let i = 0; i < 200; i += 1) {
      await realSleep(3);
      const now = sim.requests().length + watcher.seen.length;
      if (now === seen) return;
      seen = now;
    }
  }

  /** Fake time moves in steps of 5 s, each followed by real time for the sockets. */
  async function advance(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await clock.tickAsync(Math.min(5_000, until - Date.now()));
      await settle();
    }
  }

  /** Waits for work that itself waits on timers (an MQTT connect, a stop), moving fake time meanwhile. */
  async function during<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const watched = work.finally(() => {
      done = true;
    });
    for (let i = 0; !done && i < 2_000; i += 1) {
      await realSleep(3);
      if (!done) await clock.tickAsync(250);
    }
    return watched;
  }

  function config(): BridgeConfig {
    return parseBridgeConfig(
      {
        mqtt: { url: mosquitto.url },
        accounts: [
          {
            name: 'Anna',
            provider: 'dexcom',
            region: 'ous',
            server: `${sim.urlFor('dexcom')}/ous`,
            username: OUS.username,
            password: OUS.password,
            nightscout: { server: `${sim.urlFor('nightscout')}/relay`, token: { env: 'RELAY_TOKEN' } },
          },
        ],
      },
      { RELAY_TOKEN: TOKEN },
    );
  }

  async function startBridge(logger: Logger): Promise<Bridge> {
    const bridge = new Bridge(config(), {
      logger,
      stateFile: join(dir, 'state.json'),
      // Long enough that no fake-time step aborts a request in flight; a hanging site still times out.
      clientOptions: { transport: new HttpTransport({ timeoutMs: 60_000 }) },
    });
    await during(bridge.start());
    return bridge;
  }

  /** The distinct readings MQTT published, in the order they came (a restart re-publishes the latest). */
  function published(): number[] {
    const times: number[] = [];
    for (const { time } of states) if (times.at(-1) !== time) times.push(time);
    return times;
  }

  it('gives the site the same readings as MQTT, once each and in order, across a restart and a 30-minute outage', async () => {
    const log = new Lines();
    let bridge = await startBridge(log);
    await advance(20 * MINUTE);
    expect(published().length).to.be.within(4, 5);

    // A restart (an update, a reboot): the position comes back from the state file.
    await during(bridge.stop());
    await advance(3 * MINUTE);
    bridge = await startBridge(log);
    await advance(10 * MINUTE);
    const beforeOutage = published().length;
    const normalLag = Math.max(...states.map((s) => s.at - s.time));

    // Thirty minutes without the site: 503s for fifteen, then requests that hang until they time out.
    const outageStart = Date.now();
    sim.faults.add({ kind: 'status', status: 503, provider: 'nightscout', path: '/relay/', times: Infinity });
    await advance(15 * MINUTE);
    sim.faults.clear();
    sim.faults.add({ kind: 'timeout', provider: 'nightscout', path: '/relay/', times: Infinity });
    await advance(15 * MINUTE);
    const sink = bridge.accountRunners[0]!.destinations!.nightscout;
    expect(sink.stats().queued).to.be.at.least(5);
    expect(sink.problem?.code).to.be.oneOf(['SERVER', 'TIMEOUT']);
    // MQTT went on as before: every reading of the outage, as soon as ever.
    const duringOutage = states.filter((s) => s.at >= outageStart);
    expect(published().length - beforeOutage).to.be.within(5, 7);
    expect(Math.max(...duringOutage.map((s) => s.at - s.time))).to.be.at.most(normalLag + 30_000);

    sim.faults.clear();
    await advance(15 * MINUTE);
    await during(sink.flush());

    const uploads = nightscout.uploads('relay');
    const dates = uploads.map((u) => u.date);
    expect(dates).to.deep.equal(published());
    expect(uploads.every((u) => u.outcome === 'created')).to.equal(true);
    // Nothing lost: one reading every five minutes from the first to the last, in order.
    for (let i = 1; i < dates.length; i += 1) expect(dates[i]! - dates[i - 1]!).to.equal(5 * MINUTE);
    expect(dates.length).to.be.within(15, 17);
    expect(uploads.every((u) => u.device === 'glucobridge-dexcom')).to.equal(true);

    await during(bridge.stop());
    const saved = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
      accounts: Record<string, { uploads?: Record<string, number> }>;
    };
    const positions = Object.values(saved.accounts).map(
      (a) => a.uploads?.[siteSubjectId(`${sim.urlFor('nightscout')}/relay`)],
    );
    expect(positions).to.deep.equal([dates.at(-1)]);
    // The outage was said once when it began and once when it ended, not on every retry.
    const said = log.lines.filter((l) => /Nightscout upload/.test(l) && !l.startsWith('debug'));
    expect(said.filter((l) => l.startsWith('warn')).length).to.be.within(1, 2);
    expect(said.some((l) => l.startsWith('info') && /answers again/.test(l))).to.equal(true);
    expect(log.lines.join('\n')).not.to.contain(TOKEN);
  });

  it('fills the site from the cloud history after the bridge was down for 40 minutes', async () => {
    let bridge = await startBridge(new Lines());
    await advance(12 * MINUTE);
    await during(bridge.stop());
    const stoppedAt = published().length;
    await advance(40 * MINUTE);
    bridge = await startBridge(new Lines());
    await advance(6 * MINUTE);
    await during(bridge.accountRunners[0]!.destinations!.nightscout.flush());
    await during(bridge.stop());

    const dates = nightscout.uploads('relay').map((u) => u.date);
    // MQTT shows the newest value after the restart; the site gets every reading of the gap, in order.
    expect(published().length - stoppedAt).to.be.within(1, 3);
    expect(dates.length).to.be.within(11, 13);
    for (let i = 1; i < dates.length; i += 1) expect(dates[i]! - dates[i - 1]!).to.equal(5 * MINUTE);
    expect(dates.at(-1)).to.equal(published().at(-1));
    expect(nightscout.uploads('relay').every((u) => u.outcome === 'created')).to.equal(true);
  });
});
