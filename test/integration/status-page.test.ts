// The bridge's status page in a real browser (Debian's chromium driven by playwright-core): the demo's
// people with the values MQTT carries, their charts, and an account with a wrong password.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import type { BrowserContext, Page } from 'playwright-core';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/bridge/broker';
import { parseBridgeConfig } from '../../src/bridge/config';
import { Bridge } from '../../src/bridge/runner';
import { silentLogger } from '../../src/model/logger';
import type { StatePayload } from '../../src/mqtt/state';
import { createDemoSimulator, demoAccounts, DEXCOM_DEMO_ACCOUNTS, type Simulator } from '../../src/simulator';
import { poll, until } from '../until';
import { expectChromium, openChromium, picture } from './harness';

const ALEX = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'us')!;

describe('the status page in chromium', function () {
  this.timeout(90_000);
  let sim: Simulator;
  let broker: EmbeddedBroker;
  let bridge: Bridge;
  let mqtt: MqttClient;
  let browser: BrowserContext | undefined;
  let page: Page;
  let work: string;
  const states = new Map<string, StatePayload>();

  before(async () => {
    expectChromium();
    sim = createDemoSimulator();
    await sim.listen();
    broker = await startEmbeddedBroker(0);
    work = mkdtempSync(join(tmpdir(), 'glucobridge-status-'));
    mqtt = await connectAsync(broker.url);
    mqtt.on('message', (topic, payload) => {
      const slug = topic.split('/')[1]!;
      if (payload.length > 0) states.set(slug, JSON.parse(payload.toString()) as StatePayload);
    });
    await mqtt.subscribeAsync('glucobridge/+/state');
    const accounts = demoAccounts(sim).map((a) => ({
      name: a.name,
      ...a.source,
      // One account in mmol/L: the page shows each person in their configured unit.
      ...(a.source.provider === 'librelinkup' ? { units: 'mmol' } : {}),
    }));
    accounts.push({
      name: 'Wrong password',
      provider: 'dexcom',
      region: ALEX.region,
      server: `${sim.urlFor('dexcom')}/${ALEX.region}`,
      username: ALEX.username,
      password: 'not-the-password',
    });
    bridge = new Bridge(
      parseBridgeConfig({ mqtt: { url: broker.url }, http: { listen: '127.0.0.1:0' }, accounts }, {}),
      { logger: silentLogger, stateFile: join(work, 'state.json') },
    );
    await bridge.start();
    ({ context: browser, page } = await openChromium(join(work, 'chromium'), { width: 1300, height: 1000 }));
    await page.goto(bridge.statusUrl!);
  });

  after(async () => {
    await browser?.close();
    await bridge?.stop();
    await mqtt?.endAsync();
    await broker?.close();
    await sim?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** The value a person's card shows now (undefined before their first reading). */
  async function shown(slug: string): Promise<number | undefined> {
    const value = await page.locator(`.person[data-slug="${slug}"] .value`).getAttribute('data-value');
    return value === null ? undefined : Number(value);
  }

  it('shows every person of the demo with the value of their MQTT state, in their unit', async () => {
    const people = ['sam', 'mia_sample', 'leo_sample', 'vitadock_demo'];
    for (const slug of people) {
      await page.waitForSelector(`.person[data-slug="${slug}"] .value[data-value]`, { timeout: 30_000 });
      // A newer reading may be on its way to one of them: the page follows within a second or two.
      await poll(async () => (await shown(slug)) === states.get(slug)?.value, 15_000, 250);
      expect(await shown(slug), slug).to.equal(states.get(slug)?.value);
    }
    expect(states.get('mia_sample')!.unit).to.equal('mmol/L');
    expect(await page.locator('.person[data-slug="mia_sample"] .unit').textContent()).to.equal('mmol/L');
    expect(await page.locator('#mqtt').getAttribute('data-connected')).to.equal('true');
  });

  it('draws each continuous sensor’s day: Dexcom’s 24 h, LibreLinkUp’s 12 h, with the statistics', async () => {
    const points = async (slug: string) =>
      Number(await page.locator(`.person[data-slug="${slug}"] .chart`).getAttribute('data-points'));
    await until('Sam’s day on the chart', async () => (await points('sam')) > 250, 20_000, 200);
    expect(await points('sam')).to.be.within(250, 300);
    expect(await points('mia_sample')).to.be.within(120, 160);
    expect(await page.locator('.person[data-slug="sam"] .chart canvas').count()).to.equal(1);
    const inRange = await page
      .locator('.person[data-slug="sam"] dd[data-field="percentInRange"]')
      .textContent();
    expect(inRange).to.match(/^\d+\.\d %$/);
    expect(await page.locator('.person[data-slug="sam"] dd[data-field="coverage"]').textContent()).to.match(
      /^(99|100) %$/,
    );
  });

  it('an account with a wrong password shows its problem and hint', async () => {
    const row = page.locator('#accounts tr[data-account="Wrong password"]');
    await row.waitFor();
    await until(
      'the problem',
      async () => ((await row.textContent()) ?? '').includes('AUTH_INVALID'),
      20_000,
      200,
    );
    expect(await row.textContent()).to.contain('AUTH_INVALID');
    expect(await row.locator('.hint').count()).to.be.above(0);
    const card = page.locator('.person', { hasText: 'Wrong password' });
    expect(await card.locator('.badge.problem').textContent()).to.equal('PROBLEM: AUTH_INVALID');
    expect(await page.content()).to.not.contain('not-the-password');
    await page.screenshot({ path: picture('status-page.png'), fullPage: true });
  });
});
