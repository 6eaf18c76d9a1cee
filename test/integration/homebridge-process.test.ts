// A real Homebridge process loads the built package, follows the simulated clouds and answers HAP
// requests; it survives the simulator's faults, and a restart restores the accessories and sessions.
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePort } from '../net';
import { startProcess, type Started } from '../process';
import { until } from '../until';
import { ensureBuilt, ROOT } from './harness';
import { STATE_FILE } from '../../homebridge/settings';
import { compressedClock } from '../../src/simulator/clock';
import { DexcomSimulator, type DexcomSimAccount } from '../../src/simulator/dexcom';
import { LIBRE_DEMO_ACCOUNTS, LibreLinkUpSimulator } from '../../src/simulator/librelinkup';
import { Simulator } from '../../src/simulator/server';
import { dexcomLimit } from '../../src/model/reading';

const MINUTE = 60_000;
const STEP = 5 * MINUTE;
const LAG = 20_000;
const PIN = '031-45-154';
/** Simulated seconds per real second: the trace moves a few readings between the two runs. */
const SPEED = 30;
const FAMILY = LIBRE_DEMO_ACCOUNTS[0]!;

/** HAP short type codes. */
const HAP = {
  info: '3E',
  name: '23',
  light: '84',
  lux: '6B',
  occupancy: '86',
  detected: '71',
  fault: '77',
} as const;

interface HapCharacteristic {
  type: string;
  iid: number;
  value?: unknown;
}
interface HapValue {
  aid: number;
  iid: number;
  value?: unknown;
  status?: number;
}
interface HapService {
  type: string;
  characteristics: HapCharacteristic[];
}
interface HapAccessory {
  aid: number;
  services: HapService[];
}

/** One person as Apple Home would read them. */
interface Seen {
  aid: number;
  lux: unknown;
  luxStatus: number | undefined;
  alerts: Record<string, unknown>;
  fault: unknown;
}

/**
 * An account whose scripted trace stays in a band, whatever the hour the test runs at: the value steps
 * through the band every 5 minutes (so readings change), and `39` is the sensor's LOW.
 */
function scriptedAccount(
  region: DexcomSimAccount['region'],
  name: string,
  band: [number, number],
  index: number,
): DexcomSimAccount {
  const [low, high] = band;
  return {
    username: `it-${name.toLowerCase()}`,
    password: `not-a-real-password-${name.toLowerCase()}`,
    accountId: `0a1e0c5a-4444-4d5e-8a6b-${index.toString(16).padStart(12, '0')}`,
    region,
    name,
    trace: (time) => {
      const steps = Math.floor(time / STEP);
      const mgdl = low === high ? low : low + (steps % (high - low + 1));
      const limit = dexcomLimit(mgdl);
      return { time, mgdl, trend: limit ? 'notComputable' : 'flat', ...(limit ? { limit } : {}) };
    },
  };
}

describe('Homebridge process (real homebridge, HAP over loopback)', function () {
  this.timeout(90_000);

  let sim: Simulator | undefined;
  /** The simulator of the running test. */
  const cloud = (): Simulator => sim!;
  let storage = '';
  /** The Homebridge processes of the running test, one a start; `child` is the running one. */
  let runs: Started[] = [];
  let child: Started | undefined;
  const output = () => runs.map((run) => run.output()).join('');
  let hapPort = 0;
  let pluginDir = '';
  let simStart = 0;
  let low: DexcomSimAccount;
  let high: DexcomSimAccount;
  let middle: DexcomSimAccount;

  before(async function () {
    this.timeout(240_000);
    await ensureBuilt('dist/homebridge/index.js', ['src', 'homebridge']);
    // Homebridge loads a snapshot of the package, so a rebuild of dist/ meanwhile cannot pull it away.
    pluginDir = mkdtempSync(join(tmpdir(), 'glucobridge-plugin-'));
    cpSync(join(ROOT, 'dist'), join(pluginDir, 'dist'), { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(pluginDir, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(pluginDir, 'node_modules'), 'dir');
    if (!existsSync(join(pluginDir, 'dist', 'homebridge', 'platform.js')))
      throw new Error('dist/ is incomplete');
  });

  after(() => {
    if (pluginDir) rmSync(pluginDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    // The simulated day runs from some hours ago, so readings are never from the future for the process.
    simStart = Math.floor((Date.now() - 3 * 3_600_000) / STEP) * STEP;
    low = scriptedAccount('us', 'Lia', [39, 39], 1);
    high = scriptedAccount('ous', 'Hugo', [185, 400], 2);
    middle = scriptedAccount('jp', 'Mina', [90, 160], 3);
    const simulator = new Simulator({
      providers: [new DexcomSimulator({ accounts: [low, high, middle] }), new LibreLinkUpSimulator()],
      clock: compressedClock(SPEED, simStart),
    });
    sim = simulator;
    const url = await simulator.listen();
    storage = mkdtempSync(join(tmpdir(), 'glucobridge-hb-process-'));
    hapPort = await freePort();
    const dexcom = (account: DexcomSimAccount) => ({
      provider: 'dexcom',
      name: account.name,
      region: account.region,
      username: account.username,
      password: account.password,
      server: `${url}/dexcom/${account.region}`,
      timeoutMs: 2_000,
    });
    const config = {
      bridge: {
        name: 'GlucoBridge IT',
        username: '0E:6C:75:63:6F:01',
        port: hapPort,
        pin: PIN,
        advertiser: 'ciao',
        bind: ['127.0.0.1'],
      },
      accessories: [],
      platforms: [
        {
          platform: 'GlucoBridge',
          name: 'GlucoBridge',
          // Readings from a compressed day look hours old to the process: only a day counts as stale here.
          staleMinutes: 1440,
          accounts: [
            dexcom(low),
            dexcom(high),
            dexcom(middle),
            {
              provider: 'librelinkup',
              username: FAMILY.email,
              password: FAMILY.password,
              server: `${url}/librelinkup/{region}`,
            },
          ],
        },
      ],
    };
    writeFileSync(join(storage, 'config.json'), JSON.stringify(config, null, 2));
  });

  afterEach(async () => {
    await stop();
    runs = [];
    await sim?.close();
    sim = undefined;
    if (storage) rmSync(storage, { recursive: true, force: true });
  });

  function start(): void {
    const bin = join(ROOT, 'node_modules', 'homebridge', 'bin', 'homebridge');
    const args = [bin, '-D', '-I', '-Q', '-U', storage, '-P', pluginDir, '--strict-plugin-resolution'];
    child = startProcess(args, { cwd: storage });
    runs.push(child);
  }

  async function stop(): Promise<void> {
    const running = child;
    child = undefined;
    await running?.stop();
  }

  async function hap<T>(path: string): Promise<T | undefined> {
    try {
      const response = await fetch(`http://127.0.0.1:${hapPort}${path}`, { headers: { Authorization: PIN } });
      // 207 Multi-Status when some characteristic answered with an error.
      if (response.status !== 200 && response.status !== 207) return undefined;
      return (await response.json()) as T;
    } catch {
      return undefined; // not listening yet
    }
  }

  /**
   * Each person as Apple Home reads them: the layout from /accessories, then the values from
   * /characteristics, which asks the plugin every time (/accessories may answer from a cache).
   */
  async function people(): Promise<Map<string, Seen> | undefined> {
    const layout = await hap<{ accessories: HapAccessory[] }>('/accessories');
    if (!layout) return undefined;
    const wanted: { name: string; what: string; aid: number; iid: number }[] = [];
    for (const accessory of layout.accessories) {
      const info = accessory.services.find((s) => s.type === HAP.info);
      const name = info?.characteristics.find((c) => c.type === HAP.name)?.value;
      const light = accessory.services.find((s) => s.type === HAP.light);
      if (typeof name !== 'string' || !light) continue;
      const add = (what: string, service: HapService, type: string) => {
        const iid = service.characteristics.find((c) => c.type === type)?.iid;
        if (iid !== undefined) wanted.push({ name, what, aid: accessory.aid, iid });
      };
      add('lux', light, HAP.lux);
      add('fault', light, HAP.fault);
      for (const service of accessory.services.filter((s) => s.type === HAP.occupancy)) {
        add(String(service.characteristics.find((c) => c.type === HAP.name)?.value), service, HAP.detected);
      }
    }
    const ids = wanted.map((w) => `${w.aid}.${w.iid}`).join(',');
    const values = await hap<{ characteristics: HapValue[] }>(`/characteristics?id=${ids}`);
    if (!values) return undefined;
    const found = new Map<string, Seen>();
    for (const w of wanted) {
      const answer = values.characteristics.find((c) => c.aid === w.aid && c.iid === w.iid);
      const seen = found.get(w.name) ?? {
        aid: w.aid,
        lux: undefined,
        luxStatus: undefined,
        alerts: {},
        fault: undefined,
      };
      if (w.what === 'lux') {
        seen.lux = answer?.value;
        seen.luxStatus = answer?.status;
      } else if (w.what === 'fault') seen.fault = answer?.value;
      else seen.alerts[w.what] = answer?.status ? `status ${answer.status}` : answer?.value;
      found.set(w.name, seen);
    }
    return found;
  }

  /** Polls HAP until `ready` holds for what it shows, or fails after `ms` with the log. */
  async function untilHap(
    ready: (seen: Map<string, Seen>) => boolean,
    ms: number,
  ): Promise<Map<string, Seen>> {
    let last: Map<string, Seen> | undefined;
    return until(
      () => `HAP to show the expected state:\n${JSON.stringify([...(last ?? [])])}\n${output()}`,
      async () => {
        expect(child?.child.exitCode ?? null, `homebridge exited:\n${output()}`).to.equal(null);
        last = await people();
        return last && ready(last) ? last : undefined;
      },
      ms,
      250,
    );
  }

  /** The trace values this person's light sensor may show between two simulated instants. */
  function traceBetween(account: DexcomSimAccount, from: number, to: number): number[] {
    const values: number[] = [];
    for (let t = Math.floor(from / STEP) * STEP; t <= to; t += STEP) {
      values.push(account.trace!(t).mgdl);
    }
    return values;
  }

  it('shows glucose and alerts from the clouds, survives their faults, and restores after a restart', async () => {
    // Faults on the way in: a 429 with Retry-After, a hung request, a dropped connection, an HTML error
    // page, and a cloud that keeps answering nonsense for one account.
    cloud().faults.add({
      kind: 'rateLimit',
      provider: 'dexcom',
      path: '/us/ShareWebServices/Services/Publisher',
      retryAfterSeconds: 1,
    });
    cloud().faults.add({
      kind: 'timeout',
      provider: 'dexcom',
      path: '/us/ShareWebServices/Services/Publisher',
    });
    cloud().faults.add({
      kind: 'reset',
      provider: 'dexcom',
      path: '/ous/ShareWebServices/Services/Publisher',
    });
    cloud().faults.add({
      kind: 'html',
      provider: 'dexcom',
      path: '/ous/ShareWebServices/Services/Publisher',
    });
    cloud().faults.add({
      kind: 'malformed',
      provider: 'dexcom',
      path: '/jp/ShareWebServices/Services/Publisher',
      times: Infinity,
    });

    start();
    const first = await untilHap((seen) => {
      const [lia, hugo, mina] = ['Lia', 'Hugo', 'Mina'].map((name) => seen.get(name));
      return typeof lia?.lux === 'number' && typeof hugo?.lux === 'number' && mina !== undefined;
    }, 30_000);
    const simNow = cloud().clock.now();

    const lia = first.get('Lia')!;
    expect(lia.lux).to.equal(39); // the sensor's LOW
    expect(lia.alerts).to.deep.equal({ 'Urgent low': 1, Low: 1, High: 0 });
    expect(lia.fault).to.equal(0);

    const hugo = first.get('Hugo')!;
    expect(traceBetween(high, simStart - 2 * STEP, simNow - LAG)).to.include(hugo.lux);
    expect(hugo.alerts).to.deep.equal({ 'Urgent low': 0, Low: 0, High: 1 });

    // Mina's cloud answers garbage: no reading, so Home shows "No Response" for her, and only her.
    const mina = first.get('Mina')!;
    expect(mina.lux ?? null).to.equal(null);
    expect(mina.luxStatus).to.equal(-70402);

    // Every LibreLinkUp patient the account follows is an accessory of its own.
    await untilHap(
      (seen) => ['Mia Sample', 'Leo Sample'].every((n) => typeof seen.get(n)?.lux === 'number'),
      15_000,
    );

    // The simulator moves on; a restart restores the accessories (same ids) and reuses the sessions.
    const logins = cloud().requests('LoginPublisherAccountById').length;
    await stop();
    expect(statSync(join(storage, STATE_FILE)).mode & 0o777).to.equal(0o600);
    cloud().faults.clear();
    const restartedAt = cloud().clock.now();
    start();
    const second = await untilHap((seen) => typeof seen.get('Mina')?.lux === 'number', 30_000);
    const afterRestart = cloud().clock.now();
    for (const name of ['Lia', 'Hugo', 'Mina']) {
      expect(second.get(name)!.aid, name).to.equal(first.get(name)!.aid);
    }
    const minaNow = second.get('Mina')!;
    expect(traceBetween(middle, restartedAt - STEP - LAG, afterRestart)).to.include(minaNow.lux);
    expect(minaNow.alerts).to.deep.equal({ 'Urgent low': 0, Low: 0, High: 0 });
    // The stored sessions are used: nobody logs in again.
    expect(cloud().requests('LoginPublisherAccountById')).to.have.length(logins);

    // HAP found nothing to complain about in what the plugin set (ranges, names, characteristics).
    expect(output()).not.to.match(/generated a warning|illegal value|not in required or optional/i);
    // Nothing secret reached the log, even at debug level.
    const sessions = readFileSync(join(storage, STATE_FILE), 'utf8');
    const sessionIds = [...sessions.matchAll(/"sessionId":\s*"([^"]+)"/g)].map((m) => m[1]!);
    expect(sessionIds).to.not.be.empty;
    for (const secret of [low, high, middle]
      .flatMap((a) => [a.password, a.username])
      .concat(FAMILY.email, FAMILY.password, ...sessionIds)) {
      expect(output()).not.to.include(secret);
    }
  });
});
