// The stand-alone bridge at 1, 100 and 1000 accounts, as users run it: `glucobridge bridge` in its own
// process (so its memory and CPU are its own), the simulated Dexcom cloud and an aedes broker in this
// one, the broker reached directly or through a proxy that puts it 20 ms away.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Aedes } from 'aedes' with { 'resolution-mode': 'import' };
import { createServer, type Socket } from 'node:net';
import { subjectSlug } from '../../src/mqtt/subject';
import { DexcomSimulator } from '../../src/simulator/dexcom';
import { Simulator } from '../../src/simulator/server';
import { benchAccounts, bridgeAccounts } from './accounts';
import { startDelayProxy } from './proxy';

const CLI = join(__dirname, '..', '..', 'dist', 'src', 'bridge', 'cli.js');

export interface StartFigures {
  /** From starting the process to every person's state on the broker (ms). */
  allPublishedMs: number;
  /** Login flows (LoginPublisherAccountById) during the start. */
  logins: number;
  /** The most login flows begun within one second. */
  loginsPeakPerSecond: number;
  /** Messages the bridge published until every state was out, plus 3 s. */
  messages: number;
  /** Discovery configs published more than once in that time. */
  repeatedDiscovery: number;
}

export interface ScaleFigures {
  accounts: number;
  /** First start, no saved sessions, broker 20 ms away. */
  first: StartFigures;
  /** Restarts with the sessions saved by the first run: broker on loopback, and 20 ms away. */
  restartLoopback: StartFigures;
  restartRemote: StartFigures;
  /** After the start, over `steadySeconds`: CPU in % of one core, resident memory (MiB). */
  steadyCpuPercent: number;
  steadyRssMiB: number;
  steadySeconds: number;
  /** The largest resident memory the first run reached (MiB). */
  peakRssMiB: number;
}

interface Broker {
  aedes: Aedes;
  port: number;
  close(): Promise<void>;
}

async function startBroker(): Promise<Broker> {
  const { Aedes: AedesBroker } = await import('aedes');
  const aedes = await AedesBroker.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    aedes,
    port: typeof address === 'object' && address ? address.port : 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

/** Resident memory now and at its highest (MiB), and CPU seconds used, from /proc. */
function processStats(pid: number): { rssMiB: number; peakMiB: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime (fields 14 and 15 of the line; 12 and 13 after the name) in clock ticks (100 Hz).
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024, cpuSeconds: ticks / 100 };
}

class BridgeProcess {
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  private output = '';

  constructor(configFile: string) {
    this.child = spawn(process.execPath, [CLI, 'bridge', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-4_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get tail(): string {
    return this.output;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Watches what the bridge publishes: when every person's state is out, and everything it sent. */
class Watcher {
  messages: { topic: string; at: number }[] = [];
  private stateSeen = new Set<string>();
  private allAt: number | undefined;
  private waiter: (() => void) | undefined;

  constructor(
    broker: Broker,
    private readonly slugs: Set<string>,
  ) {
    broker.aedes.on('publish', (packet, client) => {
      if (!client?.id.startsWith('glucobridge_')) return;
      this.messages.push({ topic: packet.topic, at: Date.now() });
      const match = /^glucobridge\/([^/]+)\/state$/.exec(packet.topic);
      if (match && this.slugs.has(match[1]!)) {
        this.stateSeen.add(match[1]!);
        if (this.stateSeen.size === this.slugs.size && this.allAt === undefined) {
          this.allAt = Date.now();
          this.waiter?.();
        }
      }
    });
  }

  reset(): void {
    this.messages = [];
    this.stateSeen = new Set();
    this.allAt = undefined;
  }

  async allPublished(timeoutMs: number, bridge: BridgeProcess): Promise<number> {
    if (this.allAt === undefined) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `only ${this.stateSeen.size} of ${this.slugs.size} people published within ${timeoutMs} ms; ` +
                  `bridge output: ${bridge.tail.slice(-600)}`,
              ),
            ),
          timeoutMs,
        );
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.allAt!;
  }
}

async function measureStart(
  bridge: BridgeProcess,
  watcher: Watcher,
  sim: Simulator,
  count: number,
): Promise<StartFigures> {
  const allAt = await watcher.allPublished(Math.max(60_000, count * 120), bridge);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const logins = sim.requests('LoginPublisherAccountById').filter((r) => r.at >= bridge.startedAt);
  const perSecond = new Map<number, number>();
  const first = logins[0]?.at ?? 0;
  for (const login of logins) {
    const second = Math.floor((login.at - first) / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
  }
  const discovery = new Map<string, number>();
  const messages = watcher.messages.filter((m) => m.at <= allAt + 3_000);
  for (const m of messages) {
    if (m.topic.startsWith('homeassistant/')) discovery.set(m.topic, (discovery.get(m.topic) ?? 0) + 1);
  }
  return {
    allPublishedMs: allAt - bridge.startedAt,
    logins: logins.length,
    loginsPeakPerSecond: Math.max(0, ...perSecond.values()),
    messages: messages.length,
    repeatedDiscovery: [...discovery.values()].filter((n) => n > 1).length,
  };
}

export async function bridgeAtScale(count: number, steadySeconds: number): Promise<ScaleFigures> {
  const accounts = benchAccounts(count, { user: 'scale', id: '0e0e0e0e', name: 'Person' }, true);
  const sim = new Simulator({
    providers: [new DexcomSimulator({ accounts })],
    recordLimit: count * 30 + 1_000,
  });
  const url = await sim.listen();
  const broker = await startBroker();
  const remote = await startDelayProxy({ host: '127.0.0.1', port: broker.port }, 10);
  const dir = mkdtempSync(join(tmpdir(), 'gb-scale-'));
  const configFile = (mqttUrl: string, name: string) => {
    const file = join(dir, name);
    writeFileSync(
      file,
      JSON.stringify({
        mqtt: { url: mqttUrl },
        stateFile: join(dir, 'state.json'),
        accounts: bridgeAccounts(accounts, url),
      }),
    );
    return file;
  };
  const remoteConfig = configFile(remote.url, 'remote.json');
  const loopbackConfig = configFile(`mqtt://127.0.0.1:${broker.port}`, 'loopback.json');
  const watcher = new Watcher(broker, new Set(accounts.map((a) => subjectSlug(a.name!))));
  const running: BridgeProcess[] = [];
  try {
    const firstRun = new BridgeProcess(remoteConfig);
    running.push(firstRun);
    const first = await measureStart(firstRun, watcher, sim, count);
    const before = processStats(firstRun.pid);
    await new Promise((resolve) => setTimeout(resolve, steadySeconds * 1000));
    const after = processStats(firstRun.pid);
    await firstRun.stop();

    const restart = async (config: string): Promise<StartFigures> => {
      watcher.reset();
      const again = new BridgeProcess(config);
      running.push(again);
      const figures = await measureStart(again, watcher, sim, count);
      await again.stop();
      return figures;
    };
    const restartLoopback = await restart(loopbackConfig);
    const restartRemote = await restart(remoteConfig);
    return {
      accounts: count,
      first,
      restartLoopback,
      restartRemote,
      steadyCpuPercent: ((after.cpuSeconds - before.cpuSeconds) / steadySeconds) * 100,
      steadyRssMiB: after.rssMiB,
      steadySeconds,
      peakRssMiB: after.peakMiB,
    };
  } finally {
    await Promise.all(running.map((b) => b.stop()));
    await remote.close();
    await broker.close();
    await sim.close();
  }
}

/** `glucobridge bridge --demo` from a cold process start to the first reading seen by an MQTT client. */
export async function demoColdStart(): Promise<number> {
  const { connectAsync } = await import('mqtt');
  const startedAt = Date.now();
  const child = spawn(process.execPath, [CLI, 'bridge', '--demo', '--broker-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`the demo printed no broker port: ${text}`)), 15_000);
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        const match = /listening on mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(text);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.stderr.resume();
    });
    const client = await connectAsync(`mqtt://127.0.0.1:${port}`);
    try {
      const first = new Promise<number>((resolve) =>
        client.on('message', (topic) => {
          if (/^glucobridge\/[^/]+\/state$/.test(topic)) resolve(Date.now());
        }),
      );
      await client.subscribeAsync('glucobridge/+/state');
      return (await first) - startedAt;
    } finally {
      await client.endAsync(true);
    }
  } finally {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }
}
