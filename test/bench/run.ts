// `npm run bench`: freshness and cost of the poll schedule beside the peers' schedules, the bridge at
// 1, 100 and 1000 accounts, and the speed and memory of the paths users depend on; against the
// simulator and brokers on 127.0.0.1 only. Prints each figure beside its target and exits non-zero when
// a target is missed. BENCH_SEEDS and BENCH_HOURS change the size of the schedule comparison.
import { connectAsync } from 'mqtt';
import { startEmbeddedBroker } from '../../src/bridge/broker';
import { parseBridgeConfig } from '../../src/bridge/config';
import { Bridge } from '../../src/bridge/runner';
import { silentLogger } from '../../src/model/logger';
import { makeReading } from '../../src/model/reading';
import { MqttPublisher } from '../../src/mqtt/publisher';
import { DexcomClient } from '../../src/providers/dexcom/client';
import { DexcomSimulator } from '../../src/simulator/dexcom';
import { LibreLinkUpClient } from '../../src/providers/librelinkup/client';
import { LibreLinkUpSimulator, LIBRE_DEMO_ACCOUNTS } from '../../src/simulator/librelinkup';
import { Simulator } from '../../src/simulator/server';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchAccounts, bridgeAccounts } from './accounts';
import { bridgeAtScale, demoColdStart, type ScaleFigures } from './bridge-scale';
import { hugeAnswerCost } from './hostile';
import { compareSchedules } from './schedule';

interface Row {
  name: string;
  value: number;
  unit: string;
  target: string;
  ok: boolean;
}

/** The names and ids of this file's simulated people. */
const BENCH = { user: 'bench', id: '0b0b0b0b', name: 'Bench' };

const rows: Row[] = [];
function record(name: string, value: number, unit: string, target: number, better: 'lower' | 'higher'): void {
  const ok = better === 'lower' ? value <= target : value >= target;
  rows.push({ name, value, unit, target: `${better === 'lower' ? '≤' : '≥'} ${target}`, ok });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

async function dexcomHistory(): Promise<void> {
  const accounts = benchAccounts(1, BENCH);
  const sim = new Simulator({ providers: [new DexcomSimulator({ accounts })] });
  const url = await sim.listen();
  const client = new DexcomClient({
    provider: 'dexcom',
    region: 'ous',
    server: `${url}/dexcom/ous`,
    username: accounts[0]!.username,
    password: accounts[0]!.password,
    takeOverReceiver: false,
  });
  await client.login();
  const times: number[] = [];
  for (let i = 0; i < 200; i += 1) {
    const start = process.hrtime.bigint();
    const readings = await client.history({ minutes: 1440 });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (readings.length < 280) throw new Error(`expected a day of readings, got ${readings.length}`);
  }
  record('Dexcom 24 h history (288 readings), median', median(times), 'ms', 25, 'lower');
  const latest: number[] = [];
  for (let i = 0; i < 300; i += 1) {
    const start = process.hrtime.bigint();
    await client.latest();
    latest.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  record('Dexcom latest reading, median', median(latest), 'ms', 10, 'lower');
  await client.close();
  await sim.close();
}

async function libreHistory(): Promise<void> {
  const account = LIBRE_DEMO_ACCOUNTS[0]!;
  const sim = new Simulator({ providers: [new LibreLinkUpSimulator()] });
  const url = await sim.listen();
  const client = new LibreLinkUpClient({
    provider: 'librelinkup',
    server: `${url}/librelinkup/{region}`,
    username: account.email,
    password: account.password,
    acceptTerms: false,
  });
  await client.login();
  const times: number[] = [];
  for (let i = 0; i < 200; i += 1) {
    const start = process.hrtime.bigint();
    await client.history({ minutes: 720 });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  record('LibreLinkUp 12 h graph + current, median', median(times), 'ms', 25, 'lower');
  await client.close();
  await sim.close();
}

async function mqttThroughput(): Promise<void> {
  const broker = await startEmbeddedBroker(0);
  const count = 5_000;
  const watcher = await connectAsync(broker.url);
  let received = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  watcher.on('message', (topic) => {
    if (topic.endsWith('/state') && ++received === count) done();
  });
  await watcher.subscribeAsync('glucobridge/bench/state', { qos: 1 });
  const publisher = new MqttPublisher({ url: broker.url, logger: silentLogger, scanWindowMs: 100 });
  await publisher.start();
  publisher.addSubject({
    key: 'bench',
    name: 'Bench',
    provider: 'dexcom',
    units: 'mgdl',
    thresholds: { urgentLow: 55, low: 70, high: 180 },
    staleMinutes: 15,
  });
  const t0 = Date.now() - count * 300_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i += 1) {
    publisher.publishReading(
      'bench',
      makeReading({
        provider: 'dexcom',
        subject: 'bench',
        time: new Date(t0 + i * 300_000),
        mgdl: 80 + (i % 120),
        trend: 'flat',
      }),
    );
  }
  await all;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  record(
    'MQTT readings published and delivered (QoS 1, 3 topics each)',
    Math.round(count / seconds),
    'readings/s',
    1_000,
    'higher',
  );
  await publisher.stop();
  await watcher.endAsync();
  await broker.close();
}

/**
 * The bridge in this process with 100 accounts: started once (the logins, spread at 20 a second, take
 * about 5 s: the first-start figures are in the scale table), then restarted with the saved sessions.
 */
async function bridgeMemory(): Promise<void> {
  const accountCount = 100;
  const accounts = benchAccounts(accountCount, BENCH);
  const sim = new Simulator({ providers: [new DexcomSimulator({ accounts })] });
  const url = await sim.listen();
  const broker = await startEmbeddedBroker(0);
  const stateFile = join(mkdtempSync(join(tmpdir(), 'gb-bench-')), 'state.json');
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const config = parseBridgeConfig(
    {
      mqtt: { url: broker.url },
      accounts: bridgeAccounts(accounts, url),
    },
    {},
  );
  const run = async (): Promise<{ bridge: Bridge; ms: number }> => {
    const seen = new Set<string>();
    let all: () => void = () => undefined;
    const allRead = new Promise<void>((resolve) => (all = resolve));
    const bridge = new Bridge(config, {
      logger: silentLogger,
      stateFile,
      onReading: (key) => {
        seen.add(key);
        if (seen.size === accountCount) all();
      },
    });
    const start = Date.now();
    await bridge.start();
    await allRead;
    return { bridge, ms: Date.now() - start };
  };
  const first = await run();
  await first.bridge.stop();
  const again = await run();
  record(
    `bridge restart (saved sessions) to first reading of ${accountCount} accounts`,
    again.ms,
    'ms',
    5_000,
    'lower',
  );
  global.gc?.();
  const heap = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
  record(`heap for ${accountCount} followed accounts`, Math.round(heap * 10) / 10, 'MiB', 30, 'lower');
  await again.bridge.stop();
  await broker.close();
  await sim.close();
}

/** Issue 17: one 20 MB Dexcom answer (2.6 million small objects) must cost the process next to nothing. */
async function hostileAnswer(): Promise<void> {
  const figures = await hugeAnswerCost();
  if (figures.outcome !== 'PROTOCOL') throw new Error(`a 20 MB answer gave ${figures.outcome}, not PROTOCOL`);
  record('20 MB Dexcom answer: longest event-loop stall', figures.maxBlockMs, 'ms', 200, 'lower');
  record('20 MB Dexcom answer: RSS added', figures.rssAddedMiB, 'MiB', 100, 'lower');
  record('20 MB Dexcom answer: refused (PROTOCOL) after', figures.durationMs, 'ms', 1_000, 'lower');
}

const SEEDS = Number(process.env.BENCH_SEEDS ?? 10);
const HOURS = Number(process.env.BENCH_HOURS ?? 24);

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function printTable(title: string, header: string[], body: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  process.stdout.write(
    `\n${title}\n${[line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')}\n`,
  );
}

const round = (value: number, digits = 1) =>
  Number.isFinite(value) ? String(Math.round(value * 10 ** digits) / 10 ** digits) : '–';

/** Our schedule beside the peers', on the same reading streams; the targets are for ours. */
async function schedules(): Promise<void> {
  const started = Date.now();
  const figures = await compareSchedules({
    seeds: SEEDS,
    hours: HOURS,
    scenarios: [
      { lag: 'stable', outage: false },
      { lag: 'erratic', outage: false },
      { lag: 'stable', outage: true },
      { lag: 'erratic', outage: true },
    ],
  });
  // Each account runs HOURS + up to half an hour; the simulated cloud ends a session after 24 h.
  const sessionsNeeded = Math.ceil((HOURS + 0.5) / 24);
  for (const { spec, results } of figures) {
    const body = [...results].map(([name, r]) => {
      const perReading = r.requests / Math.max(1, r.shownTotal);
      return [
        name,
        round(quantile(r.freshness, 0.5)),
        round(quantile(r.freshness, 0.95)),
        round(Math.max(...r.freshness)),
        round(perReading, 2),
        round(r.logins / r.accounts / sessionsNeeded, 2),
        String(r.missed),
        String(r.duplicated),
        spec.outage
          ? `${round(Math.max(...r.afterOutage), 0)} / ${round(quantile(r.afterOutage, 0.5), 0)}`
          : '–',
      ];
    });
    const targets = targetsFor(spec.lag);
    body.push([
      'target (ours)',
      '',
      `≤ ${targets.p95}`,
      '',
      `≤ ${targets.perReading}`,
      '≤ 1',
      '0',
      '0',
      spec.outage ? '≤ 180 worst' : '',
    ]);
    printTable(
      `Schedule, ${spec.lag} uploader${spec.outage ? ', 40-minute outage (500s, then held requests)' : ''}: ` +
        `${SEEDS} seeds × ${HOURS} h, freshness in s (appeared in the cloud → shown)`,
      [
        'strategy',
        'p50',
        'p95',
        'max',
        'requests/reading',
        'logins per 24 h session',
        'missed',
        'duplicated',
        'after outage: worst / median s',
      ],
      body,
    );
    const ours = results.get('GlucoBridge')!;
    const label = `schedule ${spec.lag}${spec.outage ? ' + outage' : ''}`;
    if (!spec.outage) {
      record(`${label}: freshness p95`, quantile(ours.freshness, 0.95), 's', targets.p95, 'lower');
      record(
        `${label}: requests per reading`,
        ours.requests / ours.shownTotal,
        '',
        targets.perReading,
        'lower',
      );
    } else {
      record(
        `${label}: first reading after the cloud is back, worst seed`,
        Math.max(...ours.afterOutage),
        's',
        180,
        'lower',
      );
    }
    record(`${label}: missed readings`, ours.missed, '', 0, 'lower');
    record(`${label}: duplicated readings`, ours.duplicated, '', 0, 'lower');
    record(`${label}: logins per 24 h session`, ours.logins / ours.accounts / sessionsNeeded, '', 1, 'lower');
  }
  process.stdout.write(`(schedule comparison: ${Math.round((Date.now() - started) / 1000)} s)\n`);
}

function targetsFor(lag: 'stable' | 'erratic'): { p95: number; perReading: number } {
  return lag === 'stable' ? { p95: 15, perReading: 1.25 } : { p95: 35, perReading: 1.8 };
}

/** The bridge as a process at 1, 100 and 1000 accounts. */
async function scale(): Promise<void> {
  const all: ScaleFigures[] = [];
  for (const [count, steady] of [
    [1, 15],
    [100, 30],
    [1000, 60],
  ] as const) {
    all.push(await bridgeAtScale(count, steady));
  }
  const s = (ms: number) => round(ms / 1000, 1);
  printTable(
    'Bridge at scale (its own process; simulated Dexcom; aedes broker direct, or 20 ms away through a proxy)',
    [
      'accounts',
      'first start → all published, broker 20 ms away (s)',
      'login flows / peak per s',
      'MQTT messages at start / repeated discovery',
      'restart: all published loopback / 20 ms away (s)',
      'restart logins',
      'steady CPU % of a core',
      'steady RSS MiB',
      'peak RSS MiB',
    ],
    [
      ...all.map((f) => [
        String(f.accounts),
        s(f.first.allPublishedMs),
        `${f.first.logins} / ${f.first.loginsPeakPerSecond}`,
        `${f.first.messages} / ${f.first.repeatedDiscovery}`,
        `${s(f.restartLoopback.allPublishedMs)} / ${s(f.restartRemote.allPublishedMs)}`,
        String(f.restartLoopback.logins + f.restartRemote.logins),
        round(f.steadyCpuPercent, 2),
        round(f.steadyRssMiB, 0),
        round(f.peakRssMiB, 0),
      ]),
      ['target (1000)', '≤ 60', '– / ≤ 20', '– / 0', '≤ 10 / ≤ 20', '0', '≤ 3', '≤ 120', '≤ 200'],
    ],
  );
  const big = all.at(-1)!;
  record(
    '1000 accounts, first start: all published (broker 20 ms away)',
    big.first.allPublishedMs / 1000,
    's',
    60,
    'lower',
  );
  record(
    '1000 accounts, first start: login flows in one second, peak',
    big.first.loginsPeakPerSecond,
    '/s',
    20,
    'lower',
  );
  record(
    '1000 accounts, restart: logins',
    big.restartLoopback.logins + big.restartRemote.logins,
    '',
    0,
    'lower',
  );
  record(
    '1000 accounts, restart: all published (loopback broker)',
    big.restartLoopback.allPublishedMs / 1000,
    's',
    10,
    'lower',
  );
  record(
    '1000 accounts, restart: all published (broker 20 ms away)',
    big.restartRemote.allPublishedMs / 1000,
    's',
    20,
    'lower',
  );
  const repeated = all.reduce(
    (n, f) =>
      n + f.first.repeatedDiscovery + f.restartLoopback.repeatedDiscovery + f.restartRemote.repeatedDiscovery,
    0,
  );
  record('repeated discovery messages at start (all runs)', repeated, '', 0, 'lower');
  record('1000 accounts, steady: CPU', big.steadyCpuPercent, '% of a core', 3, 'lower');
  record('1000 accounts, steady: RSS', big.steadyRssMiB, 'MiB', 120, 'lower');
  record('1000 accounts: peak RSS', big.peakRssMiB, 'MiB', 200, 'lower');
  const demo = [await demoColdStart(), await demoColdStart(), await demoColdStart()];
  record('demo cold start to the first reading over MQTT, median of 3', median(demo), 'ms', 1_000, 'lower');
}

async function main(): Promise<void> {
  await schedules();
  await scale();
  await hostileAnswer();
  await dexcomHistory();
  await libreHistory();
  await mqttThroughput();
  await bridgeMemory();
  printTable(
    'Figures and targets',
    ['benchmark', 'value', 'unit', 'target', 'ok'],
    rows.map((r) => [r.name, round(r.value, 2), r.unit, r.target, r.ok ? 'yes' : 'NO']),
  );
  process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
