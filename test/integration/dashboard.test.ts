// The "History chart" example in a real Node-RED with FlowFuse Dashboard 2.0 installed into its user
// directory (offline: linked from this package's node_modules, as `npm install <path>` does), deployed
// against the simulated clouds, and the dashboard page opened in Debian's chromium.
import { expect } from 'chai';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
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
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { DEXCOM_DEMO_ACCOUNTS } from '../../src/simulator/dexcom';
import { createDemoSimulator, type Simulator } from '../../src/simulator/index';
import { freePort } from '../net';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
/** `UPDATE_DOCS_SCREENSHOTS=1` writes the README's picture; otherwise test/artifacts. */
const SHOTS = process.env.UPDATE_DOCS_SCREENSHOTS ? join(ROOT, 'docs') : join(ROOT, 'test', 'artifacts');
const DEXCOM = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'ous')!;
const DASHBOARD = dirname(require.resolve('@flowfuse/node-red-dashboard/package.json'));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Builds dist unless it is newer than nodes/ and src/ (npm test has just built it). */
async function ensureBuilt(): Promise<void> {
  const built = join(ROOT, 'dist', 'nodes', 'cgm-read-glucose.js');
  const fresh =
    existsSync(built) &&
    statSync(built).mtimeMs > Math.max(newest(join(ROOT, 'nodes')), newest(join(ROOT, 'src')));
  if (!fresh)
    await run(process.execPath, [join(ROOT, 'scripts', 'build.js')], { cwd: ROOT, maxBuffer: 20_000_000 });
}

/** What the chart on the page holds: each ECharts series with its number of points and its band. */
interface SeriesSeen {
  name: string;
  points: number;
  band: boolean;
}

describe('the History chart example on FlowFuse Dashboard 2.0 in chromium', function () {
  this.timeout(120_000);
  let work: string;
  let sim: Simulator;
  let nodeRed: ChildProcess | undefined;
  let browser: BrowserContext | undefined;
  let page: Page;
  let base: string;
  let output = '';

  before(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).to.equal(true);
    await ensureBuilt();
    sim = createDemoSimulator();
    await sim.listen();
    work = mkdtempSync(join(tmpdir(), 'glucobridge-dashboard-'));
    const userDir = join(work, 'user');
    mkdirSync(join(userDir, 'node_modules', '@glucobridge'), { recursive: true });
    mkdirSync(join(userDir, 'node_modules', '@flowfuse'), { recursive: true });
    symlinkSync(ROOT, join(userDir, 'node_modules', '@glucobridge', 'homebridge-glucobridge'), 'dir');
    symlinkSync(DASHBOARD, join(userDir, 'node_modules', '@flowfuse', 'node-red-dashboard'), 'dir');
    const settings = {
      flowFile: 'flows.json',
      credentialSecret: 'dashboard-test',
      telemetry: { enabled: false },
      diagnostics: { enabled: false },
      editorTheme: { tours: false, projects: { enabled: false } },
      logging: { console: { level: 'warn' } },
    };
    writeFileSync(join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings)};\n`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}/`;
    nodeRed = spawn(
      process.execPath,
      [join(ROOT, 'node_modules', 'node-red', 'red.js'), '-u', userDir, '-p', String(port)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    nodeRed.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    nodeRed.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (let i = 0; ; i += 1) {
      if (nodeRed.exitCode !== null) throw new Error(`Node-RED exited:\n${output}`);
      const ready = await fetch(`${base}settings`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (i > 150) throw new Error(`Node-RED did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Both packages are installed: their nodes are in the palette.
    const nodes = (await (
      await fetch(`${base}nodes`, { headers: { Accept: 'application/json' } })
    ).json()) as {
      module: string;
      types: string[];
    }[];
    const types = nodes.flatMap((n) => n.types);
    expect(types, output).to.include.members(['ui-chart', 'ui-base', 'cgm-read-glucose']);

    const example = JSON.parse(readFileSync(join(ROOT, 'examples', 'History chart.json'), 'utf8')) as Record<
      string,
      unknown
    >[];
    const flows = example.map((n) =>
      n.type === 'cgm-account'
        ? {
            ...n,
            server: `${sim.urlFor('dexcom')}/ous`,
            credentials: { username: DEXCOM.username, password: DEXCOM.password },
          }
        : n,
    );
    const deployed = await fetch(`${base}flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows),
    });
    expect(deployed.status, output).to.equal(204);

    browser = await chromium.launchPersistentContext(join(work, 'chromium'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1100, height: 700 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    // The dashboard hands its chart components to tests that say they are Cypress (window.uiCharts).
    await page.addInitScript('window.Cypress = true;');
  });

  after(async () => {
    await browser?.close();
    if (nodeRed && nodeRed.exitCode === null) nodeRed.kill('SIGTERM');
    await sim?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** The series of every chart on the page, read from ECharts itself. */
  function series(): Promise<SeriesSeen[]> {
    return page.evaluate<SeriesSeen[]>(`Object.values(window.uiCharts || {}).flatMap((c) =>
      (c.chart.getOption().series || []).map((s) => ({
        name: String(s.name),
        points: (s.data || []).length,
        band: Boolean(s.markArea && s.markArea.data && s.markArea.data.length),
      })))`);
  }

  it('the dashboard page draws the day of readings over the target band', async () => {
    await page.goto(`${base}dashboard/glucose`);
    await page.waitForSelector('.nrdb-ui-chart canvas', { timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    let seen: SeriesSeen[] = [];
    while (Date.now() < deadline) {
      seen = await series();
      if (seen.some((s) => s.points > 250 && s.band)) break;
      await page.waitForTimeout(250);
    }
    const glucose = seen.find((s) => s.name === 'Glucose');
    expect(glucose, JSON.stringify(seen)).to.not.equal(undefined);
    // Dexcom gives the whole day: about 288 readings.
    expect(glucose!.points).to.be.within(250, 300);
    expect(glucose!.band).to.equal(true);
    await page.waitForTimeout(500); // the series' entry animation
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'node-red-dashboard.png') });
  });
});
