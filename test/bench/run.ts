// `npm run bench`: speed and memory of the paths users depend on, against the simulator and an
// in-process broker on 127.0.0.1 only. Prints a table and exits non-zero when a target is missed.
import { connectAsync } from 'mqtt';
import { startEmbeddedBroker } from '../../src/bridge/broker';
import { parseBridgeConfig } from '../../src/bridge/config';
import { Bridge } from '../../src/bridge/runner';
import { silentLogger } from '../../src/model/logger';
import { makeReading } from '../../src/model/reading';
import { MqttPublisher } from '../../src/mqtt/publisher';
import { DexcomClient } from '../../src/providers/dexcom/client';
import { DexcomSimulator, type DexcomSimAccount } from '../../src/simulator/dexcom';
import { LibreLinkUpClient } from '../../src/providers/librelinkup/client';
import { LibreLinkUpSimulator, LIBRE_DEMO_ACCOUNTS } from '../../src/simulator/librelinkup';
import { Simulator } from '../../src/simulator/server';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hugeAnswerCost } from './hostile';

interface Row {
  name: string;
  value: number;
  unit: string;
  target: string;
  ok: boolean;
}

const rows: Row[] = [];
function record(name: string, value: number, unit: string, target: number, better: 'lower' | 'higher'): void {
  const ok = better === 'lower' ? value <= target : value >= target;
  rows.push({ name, value, unit, target: `${better === 'lower' ? '≤' : '≥'} ${target}`, ok });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function dexcomAccounts(count: number): DexcomSimAccount[] {
  return Array.from({ length: count }, (_, i) => ({
    username: `bench-${i}`,
    password: `bench-password-${i}`,
    accountId: `0b0b0b0b-0000-4000-8000-${String(i).padStart(12, '0')}`,
    region: 'ous' as const,
    name: `Bench ${i}`,
    profile: i % 2 === 0 ? ('steady' as const) : ('brittle' as const),
  }));
}

async function dexcomHistory(): Promise<void> {
  const accounts = dexcomAccounts(1);
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

async function bridgeMemory(): Promise<void> {
  const accountCount = 100;
  const accounts = dexcomAccounts(accountCount);
  const sim = new Simulator({ providers: [new DexcomSimulator({ accounts })] });
  const url = await sim.listen();
  const broker = await startEmbeddedBroker(0);
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const seen = new Set<string>();
  let all: () => void = () => undefined;
  const allRead = new Promise<void>((resolve) => (all = resolve));
  const config = parseBridgeConfig(
    {
      mqtt: { url: broker.url },
      accounts: accounts.map((a) => ({
        name: a.name,
        provider: 'dexcom',
        region: 'ous',
        server: `${url}/dexcom/ous`,
        username: a.username,
        password: a.password,
      })),
    },
    {},
  );
  const bridge = new Bridge(config, {
    logger: silentLogger,
    stateFile: join(mkdtempSync(join(tmpdir(), 'gb-bench-')), 'state.json'),
    onReading: (key) => {
      seen.add(key);
      if (seen.size === accountCount) all();
    },
  });
  const start = Date.now();
  await bridge.start();
  await allRead;
  record(
    `bridge start to first reading of ${accountCount} accounts`,
    Date.now() - start,
    'ms',
    5_000,
    'lower',
  );
  global.gc?.();
  const heap = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
  record(`heap for ${accountCount} followed accounts`, Math.round(heap * 10) / 10, 'MiB', 30, 'lower');
  await bridge.stop();
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

async function main(): Promise<void> {
  await hostileAnswer();
  await dexcomHistory();
  await libreHistory();
  await mqttThroughput();
  await bridgeMemory();
  const header = ['benchmark', 'value', 'unit', 'target', 'ok'];
  const table = rows.map((r) => [
    r.name,
    String(Math.round(r.value * 100) / 100),
    r.unit,
    r.target,
    r.ok ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  process.stdout.write(
    `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...table.map(line)].join('\n')}\n`,
  );
  process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
