// Shared parts of the integration tests: a fresh build of the checkout, Debian's chromium through
// playwright-core, Node-RED started as a process on a user directory of its own, flows deployed to it,
// and the pictures the tests take.
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { DexcomSimAccount } from '../../src/simulator/dexcom';
import { createDemoSimulator } from '../../src/simulator/index';
import type { Simulator } from '../../src/simulator/server';
import { freePort } from '../net';
import { ROOT, startProcess, type Started } from '../process';
import { until } from '../until';

export { ROOT };

const CHROMIUM = '/usr/bin/chromium';
/** The flags every browser of the tests runs with (no sandbox in CI containers, no calls home). */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** CI installs chromium; without it a suite must fail, never pass silently. */
export function expectChromium(): void {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).to.equal(true);
}

export interface Browser {
  context: BrowserContext;
  page: Page;
}

/** Debian's chromium, headless, with a fresh profile in `profile` and one page of the given size. */
export async function openChromium(
  profile: string,
  viewport: { width: number; height: number },
): Promise<Browser> {
  // playwright passes the profile as --user-data-dir itself.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: CHROMIUM_FLAGS,
  });
  return { context, page: context.pages()[0] ?? (await context.newPage()) };
}

/**
 * Where a picture goes, its folder made: the README's pictures go to docs/ with
 * `UPDATE_DOCS_SCREENSHOTS=1` and to test/artifacts otherwise; `forDocs: false` keeps one in test/artifacts.
 */
export function picture(name: string, { forDocs = true } = {}): string {
  const dir =
    forDocs && process.env.UPDATE_DOCS_SCREENSHOTS ? join(ROOT, 'docs') : join(ROOT, 'test', 'artifacts');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** Newest modification time of the files under a directory. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const builtAt = (file: string): number => (existsSync(file) ? statSync(file).mtimeMs : 0);

/**
 * Builds dist/ unless `built` (a path under the root) is newer than every file in `sources` (folders
 * under the root); `npm test` has just built it.
 */
export async function ensureBuilt(built: string, sources: string[]): Promise<void> {
  const file = join(ROOT, built);
  const changed = Math.max(...sources.map((dir) => newest(join(ROOT, dir))));
  if (builtAt(file) > changed) return;
  await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'build.js')], {
    cwd: ROOT,
    maxBuffer: 20_000_000,
  });
  if (builtAt(file) <= changed) throw new Error(`the build did not write ${built}`);
}

/**
 * Starts a server process and waits until `url` answers 200 (asked every `every` ms, `tries` times);
 * fails with the process's output when it exits first or never answers.
 */
export async function startServer(
  what: string,
  args: string[],
  url: string,
  { env, tries = 150, every = 200 }: { env?: NodeJS.ProcessEnv; tries?: number; every?: number } = {},
): Promise<Started> {
  const server = startProcess(args, env ? { env } : {});
  try {
    await until(
      () => `${what} to answer on ${url}:\n${server.output()}`,
      async () => {
        if (server.child.exitCode !== null) throw new Error(`${what} exited:\n${server.output()}`);
        return fetch(url).then(
          (r) => r.ok,
          () => false,
        );
      },
      tries * every,
      every,
    );
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

export interface NodeRed extends Started {
  /** The editor's address, ending in a slash. */
  url: string;
}

/** Node-RED from this checkout's node_modules on a free port; resolves once its admin API answers. */
export async function startNodeRed(userDir: string): Promise<NodeRed> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const red = join(ROOT, 'node_modules', 'node-red', 'red.js');
  const started = await startServer('Node-RED', [red, '-u', userDir, '-p', String(port)], `${url}settings`);
  return { ...started, url };
}

/**
 * A Node-RED user directory in `work` with this package installed as `npm install <path>` does (a
 * link Node-RED follows), and `links` (package name → folder) beside it; no pop-ups, no calls home.
 */
function nodeRedUserDir(work: string, credentialSecret: string, links: Record<string, string> = {}): string {
  const userDir = join(work, 'user');
  for (const [name, target] of Object.entries({ '@glucobridge/homebridge-glucobridge': ROOT, ...links })) {
    const path = join(userDir, 'node_modules', ...name.split('/'));
    mkdirSync(join(path, '..'), { recursive: true });
    symlinkSync(target, path, 'dir');
  }
  const settings = {
    flowFile: 'flows.json',
    credentialSecret,
    // No consent or tour pop-ups over the workspace, and no calls home.
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    editorTheme: { tours: false, projects: { enabled: false } },
    logging: { console: { level: 'warn' } },
  };
  writeFileSync(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings)};\n`);
  return userDir;
}

export interface NodeRedInChromium {
  /** The demo clouds, listening. */
  sim: Simulator;
  nodeRed: NodeRed;
  /** A chromium page, not yet on any address. */
  page: Page;
}

/**
 * Before the tests of the enclosing `describe`: the build, the demo clouds, Node-RED on a fresh user
 * directory (`glucobridge-<name>-…`, with `links` beside our package) and chromium with one page of
 * `viewport`, handed to `started`; after them, all of it is gone.
 */
export function useNodeRedInChromium(
  options: { name: string; viewport: { width: number; height: number }; links?: Record<string, string> },
  started: (suite: NodeRedInChromium) => void,
): void {
  let work: string | undefined;
  let sim: Simulator | undefined;
  let nodeRed: NodeRed | undefined;
  let browser: Browser | undefined;
  before(async () => {
    expectChromium();
    await ensureBuilt('dist/nodes/cgm-account.js', ['nodes', 'src']);
    sim = createDemoSimulator();
    await sim.listen();
    work = mkdtempSync(join(tmpdir(), `glucobridge-${options.name}-`));
    nodeRed = await startNodeRed(nodeRedUserDir(work, `${options.name}-test`, options.links));
    browser = await openChromium(join(work, 'chromium'), options.viewport);
    started({ sim, nodeRed, page: browser.page });
  });
  after(async () => {
    await browser?.context.close();
    await nodeRed?.stop();
    await sim?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });
}

export type FlowNode = Record<string, unknown>;

/** An example flow of examples/, by its name. */
export function example(name: string): FlowNode[] {
  return JSON.parse(readFileSync(join(ROOT, 'examples', `${name}.json`), 'utf8')) as FlowNode[];
}

/** The flow with its CGM account pointed at a simulated Dexcom account. */
export function onSimulatedDexcom(flow: FlowNode[], sim: Simulator, account: DexcomSimAccount): FlowNode[] {
  return flow.map((n) =>
    n.type === 'cgm-account'
      ? {
          ...n,
          server: `${sim.urlFor('dexcom')}/${account.region}`,
          credentials: { username: account.username, password: account.password },
        }
      : n,
  );
}

/** Replaces every flow of the Node-RED at `url` (a full deploy); resolves with the HTTP status. */
export async function deploy(url: string, flows: FlowNode[]): Promise<number> {
  const response = await fetch(`${url}flows`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flows),
  });
  return response.status;
}

/** What the Node-RED at `url` gives the editor for a node's credentials (flags, never the secrets). */
export async function credentials(url: string, type: string, id: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${url}credentials/${type}/${id}`)).json()) as Record<string, unknown>;
}
