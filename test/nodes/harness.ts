// Shared set-up for the Node-RED node tests: the real runtime (node-red-node-test-helper) and the
// simulated clouds on a loopback socket.
import helper from 'node-red-node-test-helper';
import { Simulator } from '../../src/simulator/server';
import type { ProviderSimulator } from '../../src/simulator/types';
import { DexcomSimulator, DEXCOM_DEMO_ACCOUNTS } from '../../src/simulator/dexcom';
import { LibreLinkUpSimulator } from '../../src/simulator/librelinkup';
import { NightscoutSimulator } from '../../src/simulator/nightscout';
import { VitaDockSimulator } from '../../src/simulator/vitadock';
import { forgetProcessCopies } from '../../nodes/lib/state-store';
import type { NodeMessage } from '../../nodes/lib/types';
import accountNode from '../../nodes/cgm-account';
import loginNode from '../../nodes/cgm-login';
import readNode from '../../nodes/cgm-read-glucose';
import followersNode from '../../nodes/cgm-followers';
import uploadNode from '../../nodes/cgm-upload';
import nightscoutNode from '../../nodes/cgm-nightscout';

helper.init(require.resolve('node-red'));

export { helper };
export const ALL_NODES = [accountNode, loginNode, readNode, followersNode, uploadNode, nightscoutNode];

export const DEXCOM = DEXCOM_DEMO_ACCOUNTS[1]!; // the `ous` demo account

export interface Clouds {
  sim: Simulator;
  dexcom: DexcomSimulator;
  libre: LibreLinkUpSimulator;
  vitadock: VitaDockSimulator;
  nightscout: NightscoutSimulator;
  dexcomServer: string;
  /** LibreLinkUp with a `{region}` placeholder, so login redirects can be followed. */
  libreServer: string;
  vitadockServer: string;
  /** The address of a demo Nightscout site (`mia`, `leo`, `noah`, `relay`). */
  site(name: string): string;
  /** While true, Dexcom answers every read with an empty list (an account without sensor data). */
  empty: { dexcom: boolean };
}

/** The Dexcom simulator, able to play an account that has no readings at all. */
function withEmptyReads(dexcom: DexcomSimulator, empty: { dexcom: boolean }): ProviderSimulator {
  return {
    provider: dexcom.provider,
    prefix: dexcom.prefix,
    describe: (baseUrl) => dexcom.describe(baseUrl),
    handle: (request, context) =>
      empty.dexcom && request.path.includes('ReadPublisher')
        ? { status: 200, body: [] }
        : dexcom.handle(request, context),
  };
}

export async function startClouds(): Promise<Clouds> {
  const dexcom = new DexcomSimulator();
  const libre = new LibreLinkUpSimulator();
  const vitadock = new VitaDockSimulator();
  const nightscout = new NightscoutSimulator();
  const empty = { dexcom: false };
  const sim = new Simulator({ providers: [withEmptyReads(dexcom, empty), libre, vitadock, nightscout] });
  await sim.listen();
  return {
    sim,
    dexcom,
    libre,
    vitadock,
    nightscout,
    empty,
    dexcomServer: `${sim.urlFor('dexcom')}/${DEXCOM.region}`,
    libreServer: `${sim.urlFor('librelinkup')}/{region}`,
    vitadockServer: sim.urlFor('vitadock'),
    site: (name) => `${sim.urlFor('nightscout')}/${name}`,
  };
}

export function startServer(): Promise<void> {
  return new Promise((resolve) => helper.startServer(() => resolve()));
}

export async function stopServer(): Promise<void> {
  await helper.unload();
  await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
}

/** A flow with a tab, a Dexcom account and whatever nodes the test adds, plus a Catch node. */
/** The hooks most runtime tests need: fresh simulated clouds and a Node-RED test server for each test. */
export function useRuntime(started: (clouds: Clouds) => void): void {
  let clouds: Clouds | undefined;
  beforeEach(async () => {
    // Each test is a fresh Node-RED process: no account state (a lock, a refusal) from the test before.
    forgetProcessCopies();
    clouds = await startClouds();
    started(clouds);
    await startServer();
  });
  afterEach(async () => {
    await stopServer();
    await clouds?.sim.close();
  });
}

export function dexcomFlow(
  server: string,
  nodes: Record<string, unknown>[],
  account: Record<string, unknown> = {},
) {
  return accountFlow({ provider: 'dexcom', region: 'ous', server, units: 'mgdl', ...account }, nodes);
}

/** The Dexcom account `acct` with `read`, a cgm-read-glucose in `mode`, wired to the helper `out`. */
export function dexcomReadFlow(server: string, mode: string, account: Record<string, unknown> = {}) {
  return dexcomFlow(
    server,
    [
      { id: 'read', type: 'cgm-read-glucose', account: 'acct', mode, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ],
    account,
  );
}

/** A flow with a tab, the account `acct`, the nodes, and a Catch node wired to the helper `caught`. */
export function accountFlow(account: Record<string, unknown>, nodes: Record<string, unknown>[]) {
  return [
    { id: 'flow1', type: 'tab', label: 'test' },
    { id: 'acct', type: 'cgm-account', ...account },
    ...nodes.map((n) => ({ z: 'flow1', ...n })),
    { id: 'catcher', z: 'flow1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'flow1', type: 'helper' },
  ];
}

export const dexcomCredentials = (password = DEXCOM.password) => ({
  acct: { username: DEXCOM.username, password },
});

/** The next message a helper node receives. */
export function nextMessage(id: string, timeoutMs = 5_000): Promise<NodeMessage> {
  const node = helper.getNode(id) as {
    once(event: 'input', listener: (msg: NodeMessage) => void): void;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no message at ${id} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    node.once('input', (msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** The status calls of one node so far (the test helper spies on the shared prototype). */
export function statuses(id: string): { fill?: string; text?: string }[] {
  const node = helper.getNode(id) as {
    status: { getCalls(): { thisValue: unknown; args: [{ fill?: string; text?: string }] }[] };
  };
  return node.status
    .getCalls()
    .filter((call) => call.thisValue === node)
    .map((call) => call.args[0]);
}

export function receive(id: string, msg: NodeMessage): void {
  (helper.getNode(id) as { receive(msg: NodeMessage): void }).receive(msg);
}

const realSetTimeout = globalThis.setTimeout;

/** Real time passing (for socket I/O) while sinon fakes the timers. */
export function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, ms));
}

/**
 * Waits for `work` while moving a fake clock on in small steps, with real pauses between them so
 * loopback HTTP can answer: backoffs and schedules of minutes pass in a fraction of a second.
 */
export async function drive<T>(
  clock: { tickAsync(ms: number): Promise<number> },
  work: Promise<T>,
  { stepMs = 250, maxMs = 30 * 60_000, realMs = 3 } = {},
): Promise<T> {
  let settled = false;
  const watched = work.finally(() => {
    settled = true;
  });
  for (let passed = 0; !settled && passed < maxMs; passed += stepMs) {
    await realSleep(realMs);
    if (!settled) await clock.tickAsync(stepMs);
  }
  return watched;
}

/** Resolves once `predicate` holds, checking in real time. */
export async function waitFor(predicate: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 2_000; i += 1) {
    if (predicate()) return;
    await realSleep(2);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Collects every message a helper node receives. */
export function collect(id: string): NodeMessage[] {
  const got: NodeMessage[] = [];
  (helper.getNode(id) as { on(event: 'input', listener: (msg: NodeMessage) => void): void }).on(
    'input',
    (msg) => got.push(msg),
  );
  return got;
}
