// Real brokers for the MQTT tests: aedes in this process, Mosquitto as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Aedes } from 'aedes' with { 'resolution-mode': 'import' };
import { connect, type MqttClient } from 'mqtt';

export interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
  qos: number;
  dup?: boolean;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface AedesBroker {
  url: string;
  port: number;
  broker: Aedes;
  /** Every PUBLISH a client sent (or a will), in the order the broker handled them. */
  received: Seen[];
  /** Cuts every client connection without a DISCONNECT (their wills fire). */
  dropClients(): void;
  close(): Promise<void>;
}

/** aedes on 127.0.0.1 (a given port, or a free one); `password` makes it require that password. */
export async function startAedes(options: { port?: number; password?: string } = {}): Promise<AedesBroker> {
  // aedes is an ES module; this CommonJS test file loads it with a real dynamic import.
  const { Aedes: AedesBroker } = await import('aedes');
  const broker = await AedesBroker.createBroker();
  if (options.password !== undefined) {
    const expected = options.password;
    broker.authenticate = (_client, _username, password, done) => {
      const ok = password?.toString('utf8') === expected;
      if (ok) done(null, true);
      else done(Object.assign(new Error('bad password'), { returnCode: 4 as const }), false);
    };
  }
  const received: Seen[] = [];
  broker.on('publish', (packet, client) => {
    // Clients' messages and wills (client null); not aedes's own $SYS heartbeat.
    if (packet.topic.startsWith('$SYS/')) return;
    received.push({
      topic: packet.topic,
      payload: Buffer.from(packet.payload).toString('utf8'),
      retain: packet.retain,
      qos: packet.qos,
    });
    void client;
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    broker,
    received,
    dropClients: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface Mosquitto {
  url: string;
  port: number;
  /** SIGTERM and wait: Mosquitto saves its retained messages and sessions first. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same persistence. */
  start(): Promise<void>;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

/**
 * Mosquitto on 127.0.0.1 with persistence, as a packaged broker would run, started before it returns.
 * Throws if it is not installed.
 */
export async function startMosquitto(options: { port?: number } = {}): Promise<Mosquitto> {
  if (!existsSync(MOSQUITTO)) {
    throw new Error(`${MOSQUITTO} is missing: install the mosquitto package (apt-get install -y mosquitto)`);
  }
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'glucobridge-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'log_dest none',
      // Run as ourselves: started as root, Mosquitto would switch to a user that cannot write `dir`.
      `user ${userInfo().username}`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child = proc;
    const deadline = Date.now() + 5_000;
    while (!(await canConnect(port))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`mosquitto did not start (exit ${String(proc.exitCode)}): ${stderr}`);
      }
      await sleep(20);
    }
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop,
    start,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` holds, or fails the test with `what` after `ms`. */
export async function waitFor(check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export interface Subscriber {
  client: MqttClient;
  seen: Seen[];
  close(): Promise<void>;
}

/** A test client recording what it receives; `session` makes it a persistent (clean: false) session. */
export async function subscribe(url: string, filters: string[], session?: string): Promise<Subscriber> {
  const client = connect(url, {
    clientId: session ?? `test_${Math.random().toString(16).slice(2, 10)}`,
    clean: session === undefined,
    reconnectPeriod: 50,
    // A persistent session keeps the subscription; subscribing again would replay retained messages.
    resubscribe: false,
  });
  const seen: Seen[] = [];
  client.on('message', (topic, payload, packet) => {
    seen.push({
      topic,
      payload: payload.toString('utf8'),
      retain: packet.retain,
      qos: packet.qos,
      dup: packet.dup,
    });
  });
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  if (filters.length > 0) await client.subscribeAsync(filters, { qos: 1 });
  return { client, seen, close: () => client.endAsync(true) };
}
