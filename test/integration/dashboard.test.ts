// The "History chart" example in a real Node-RED with FlowFuse Dashboard 2.0 installed into its user
// directory (offline: linked from this package's node_modules, as `npm install <path>` does), deployed
// against the simulated clouds, and the dashboard page opened in Debian's chromium.
import { expect } from 'chai';
import { dirname } from 'node:path';
import type { Page } from 'playwright-core';
import { DEXCOM_DEMO_ACCOUNTS } from '../../src/simulator/dexcom';
import type { Simulator } from '../../src/simulator/index';
import { poll } from '../until';
import { deploy, example, onSimulatedDexcom, picture, useNodeRedInChromium, type NodeRed } from './harness';

const DEXCOM = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'ous')!;
const DASHBOARD = dirname(require.resolve('@flowfuse/node-red-dashboard/package.json'));

/** What the chart on the page holds: each ECharts series with its number of points and its band. */
interface SeriesSeen {
  name: string;
  points: number;
  band: boolean;
}

describe('the History chart example on FlowFuse Dashboard 2.0 in chromium', function () {
  this.timeout(120_000);
  let sim: Simulator;
  let nodeRed: NodeRed;
  let page: Page;
  let base: string;

  useNodeRedInChromium(
    {
      name: 'dashboard',
      viewport: { width: 1100, height: 700 },
      links: { '@flowfuse/node-red-dashboard': DASHBOARD },
    },
    (suite) => {
      ({ sim, nodeRed, page } = suite);
      base = nodeRed.url;
    },
  );

  before(async () => {
    // Both packages are installed: their nodes are in the palette.
    const nodes = (await (
      await fetch(`${base}nodes`, { headers: { Accept: 'application/json' } })
    ).json()) as {
      module: string;
      types: string[];
    }[];
    const types = nodes.flatMap((n) => n.types);
    expect(types, nodeRed.output()).to.include.members(['ui-chart', 'ui-base', 'cgm-read-glucose']);

    const flows = onSimulatedDexcom(example('History chart'), sim, DEXCOM);
    expect(await deploy(base, flows), nodeRed.output()).to.equal(204);

    // The dashboard hands its chart components to tests that say they are Cypress (window.uiCharts).
    await page.addInitScript('window.Cypress = true;');
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
    let seen: SeriesSeen[] = [];
    await poll(
      async () => {
        seen = await series();
        return seen.some((s) => s.points > 250 && s.band);
      },
      30_000,
      250,
    );
    const glucose = seen.find((s) => s.name === 'Glucose');
    expect(glucose, JSON.stringify(seen)).to.not.equal(undefined);
    // Dexcom gives the whole day: about 288 readings.
    expect(glucose!.points).to.be.within(250, 300);
    expect(glucose!.band).to.equal(true);
    await page.waitForTimeout(500); // the series' entry animation
    await page.screenshot({ path: picture('node-red-dashboard.png') });
  });
});
