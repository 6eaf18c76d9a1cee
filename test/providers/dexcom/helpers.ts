import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DexcomConfig } from '../../../src/config';
import { HttpTransport } from '../../../src/http/transport';
import { DexcomClient, type DexcomClientOptions } from '../../../src/providers/dexcom/client';
import {
  DEXCOM_DEMO_ACCOUNTS,
  DexcomSimulator,
  type DexcomSimAccount,
  type DexcomSimulatorOptions,
} from '../../../src/simulator/dexcom';
import { Simulator } from '../../../src/simulator/server';
import { FAST_RETRY } from '../helpers';

export { FAST_RETRY, rejection } from '../helpers';

// Copies of ../shared/fixtures/dexcom, so the tests need nothing outside the repository.
export const FIXTURES = join(__dirname, 'fixtures');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export function fixtureJson(name: string): unknown {
  return JSON.parse(fixture(name)) as unknown;
}

export const US = DEXCOM_DEMO_ACCOUNTS[0]!;
export const OUS = DEXCOM_DEMO_ACCOUNTS[1]!;
export const JP = DEXCOM_DEMO_ACCOUNTS[2]!;

export interface SimRig {
  sim: Simulator;
  dexcom: DexcomSimulator;
  url: string;
  /** The server option for an account's region. */
  server(account?: DexcomSimAccount): string;
  client(overrides?: Partial<DexcomConfig>, options?: DexcomClientOptions): DexcomClient;
  close(): Promise<void>;
}

export async function startSim(options: DexcomSimulatorOptions = {}): Promise<SimRig> {
  const dexcom = new DexcomSimulator(options);
  const sim = new Simulator({ providers: [dexcom] });
  const url = await sim.listen();
  const server = (account: DexcomSimAccount = US) => `${url}/dexcom/${account.region}`;
  return {
    sim,
    dexcom,
    url,
    server,
    client: (overrides = {}, clientOptions = {}) =>
      new DexcomClient(dexcomConfig({ server: server(), ...overrides }), {
        retry: FAST_RETRY,
        transport: new HttpTransport({ timeoutMs: 1_000 }),
        ...clientOptions,
      }),
    close: () => sim.close(),
  };
}

/** A config as the zod schema would output it, for the demo US account unless overridden. */
export function dexcomConfig(overrides: Partial<DexcomConfig> = {}): DexcomConfig {
  return {
    provider: 'dexcom',
    region: 'us',
    username: US.username,
    password: US.password,
    takeOverReceiver: false,
    ...overrides,
  };
}

export interface Recorded {
  path: string;
  query: URLSearchParams;
  body: string;
}

export interface Route {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/**
 * A tiny loopback server that answers each endpoint (matched by the end of the path) with a fixture
 * file's bytes; a list of routes is answered in turn (the last one repeats).
 */
export async function fixtureServer(routes: Record<string, Route | Route[]>): Promise<{
  url: string;
  requests: Recorded[];
  count(endpoint: string): number;
  close(): Promise<void>;
}> {
  const requests: Recorded[] = [];
  const served = new Map<string, number>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.push({ path: url.pathname, query: url.searchParams, body: Buffer.concat(chunks).toString() });
      const endpoint = Object.keys(routes).find((key) => url.pathname.endsWith(key));
      const route = endpoint === undefined ? undefined : routes[endpoint];
      if (endpoint === undefined || route === undefined) {
        res.writeHead(404).end();
        return;
      }
      const list = Array.isArray(route) ? route : [route];
      const index = served.get(endpoint) ?? 0;
      served.set(endpoint, index + 1);
      const answer = list[Math.min(index, list.length - 1)]!;
      res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (endpoint) => requests.filter((r) => r.path.endsWith(endpoint)).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers with a fixture file, its status taken from the file name (`*.500.json` → 500). */
export function fromFixture(name: string): Route {
  const status = /\.(\d{3})\.json$/.exec(name)?.[1];
  return { status: status ? Number(status) : 200, body: fixture(name) };
}
