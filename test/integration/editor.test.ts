// The Node-RED editor in a real browser (Debian's chromium driven by playwright-core) against a
// Node-RED started here with our package linked into a fresh user directory, and the simulated clouds.
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { DEXCOM_DEMO_ACCOUNTS } from '../../src/simulator/dexcom';
import type { Simulator } from '../../src/simulator/index';
import { LIBRE_DEMO_ACCOUNTS } from '../../src/simulator/librelinkup';
import type { NightscoutSimulator } from '../../src/simulator/nightscout';
import { VITADOCK_DEMO, type VitaDockSimulator } from '../../src/simulator/vitadock';
import { readToken, uploadToken } from '../providers/nightscout/helpers';
import { credentials, deploy, example, onSimulatedDexcom, picture, useNodeRedInChromium } from './harness';

const DEXCOM = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'ous')!;

describe('the Node-RED editor in chromium', function () {
  this.timeout(120_000);
  let sim: Simulator;
  let page: Page;
  let editorUrl: string;

  useNodeRedInChromium({ name: 'editor', viewport: { width: 1400, height: 900 } }, (suite) => {
    ({ sim, page } = suite);
    editorUrl = suite.nodeRed.url;
  });

  before(async () => {
    await page.goto(editorUrl);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="cgm-read-glucose"]', {
      timeout: 30_000,
    });
  });

  it('the palette shows our five flow nodes (the account is a config node)', async () => {
    for (const type of ['cgm-login', 'cgm-read-glucose', 'cgm-followers', 'cgm-upload', 'cgm-nightscout']) {
      expect(await page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).count(), type).to.equal(
        1,
      );
    }
    expect(await page.locator('.red-ui-palette-node[data-palette-type="cgm-account"]').count()).to.equal(0);
  });

  /** Drags a node from the palette onto the workspace and opens its edit dialog. */
  async function addNode(type: string, x: number, y: number): Promise<void> {
    const source = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
    await source.scrollIntoViewIfNeeded();
    const box = (await source.boundingBox())!;
    const chart = (await page.locator('#red-ui-workspace-chart').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(chart.x + x, chart.y + y, { steps: 12 });
    await page.mouse.up();
    await page.locator('.red-ui-flow-node-group').last().dblclick();
    await page.waitForSelector('#node-input-account', { state: 'attached' });
  }

  const visible = (selector: string) => page.locator(selector).isVisible();

  async function showAdvanced(): Promise<void> {
    if (!(await visible('#node-config-input-server'))) await page.click('#cgm-account-advanced-toggle');
  }

  it('an account dialog shows the fields of the chosen provider only', async () => {
    await addNode('cgm-read-glucose', 300, 150);
    await page.click('#node-input-btn-account-add');
    await page.waitForSelector('#node-config-input-provider', { state: 'visible' });
    // The dialog is titled with the node's label, not its type.
    const title = await page.locator('.red-ui-tray-titlebar').last().textContent();
    expect(title).to.contain('CGM account');
    expect(title).not.to.contain('cgm-account');

    await page.selectOption('#node-config-input-provider', 'dexcom');
    expect(await visible('#node-config-input-region')).to.equal(true);
    expect(await visible('#node-config-input-username')).to.equal(true);
    expect(await visible('#node-config-input-accountId')).to.equal(true);
    // The upload-only fields wait behind "Uploading to Dexcom Share …".
    expect(await visible('#node-config-input-serial')).to.equal(false);
    expect(await visible('#node-config-input-takeOverReceiver')).to.equal(false);
    expect(await page.locator('#cgm-account-upload-toggle').textContent()).to.contain(
      'Uploading to Dexcom Share',
    );
    await page.click('#cgm-account-upload-toggle');
    expect(await visible('#node-config-input-serial')).to.equal(true);
    expect(await visible('#node-config-input-takeOverReceiver')).to.equal(true);
    await page.click('#cgm-account-upload-toggle');
    expect(await visible('#node-config-input-serial')).to.equal(false);
    expect(await visible('#node-config-input-patient')).to.equal(false);
    expect(await visible('#node-config-input-consumerKey')).to.equal(false);
    expect(await page.locator('#node-config-input-region option').count()).to.equal(3);

    await page.selectOption('#node-config-input-provider', 'librelinkup');
    expect(await visible('#node-config-input-patient')).to.equal(true);
    expect(await visible('#node-config-input-acceptTerms')).to.equal(true);
    expect(await visible('#node-config-input-serial')).to.equal(false);
    expect(await visible('#cgm-account-upload-toggle')).to.equal(false);
    expect(await visible('#node-config-input-consumerKey')).to.equal(false);

    // Nightscout: the site's address moves up from "Advanced"; a token or an API secret, and the API.
    await page.selectOption('#node-config-input-provider', 'nightscout');
    expect(await visible('#node-config-input-server')).to.equal(true);
    expect(await visible('#node-config-input-token')).to.equal(true);
    expect(await visible('#node-config-input-apiSecret')).to.equal(true);
    expect(await visible('#node-config-input-api')).to.equal(true);
    expect(await visible('#node-config-input-username')).to.equal(false);
    expect(await visible('#node-config-input-region')).to.equal(false);
    expect(await page.locator('#node-config-input-server').getAttribute('placeholder')).to.contain('address');
    const providerRow = (await page.locator('#cgm-account-provider-row').boundingBox())!;
    const serverRow = (await page.locator('#cgm-account-server-row').boundingBox())!;
    expect(serverRow.y).to.be.lessThan(
      (await page.locator('#node-config-input-token').boundingBox())!.y,
      'the address comes before the token',
    );
    expect(serverRow.y).to.be.greaterThan(providerRow.y);

    await page.selectOption('#node-config-input-provider', 'vitadock');
    expect(await visible('#node-config-input-consumerKey')).to.equal(true);
    expect(await visible('#node-config-input-accessSecret')).to.equal(true);
    expect(await visible('#cgm-account-authorise')).to.equal(true);
    expect(await visible('#node-config-input-username')).to.equal(false);
    expect(await visible('#node-config-input-region')).to.equal(false);
    expect(await visible('#node-config-input-token')).to.equal(false);
  });

  it('VitaDock: Authorise opens the consent page and the pasted verifier is accepted', async () => {
    const vitadock = sim.providers.find((p) => p.provider === 'vitadock') as VitaDockSimulator;
    await page.fill('#node-config-input-consumerKey', VITADOCK_DEMO.consumerKey);
    await page.fill('#node-config-input-consumerSecret', VITADOCK_DEMO.consumerSecret);
    await showAdvanced();
    await page.fill('#node-config-input-server', sim.urlFor('vitadock'));
    const popup = page.context().waitForEvent('page');
    await page.click('#cgm-account-authorise');
    const consent = new URL((await popup).url());
    expect(consent.pathname).to.match(/desiredaccessrights\/request$/);
    await (await popup).close();
    const verifier = vitadock.approve(consent.searchParams.get('oauth_token')!);
    await page.fill('#cgm-account-verifier', verifier);
    await page.click('#cgm-account-verify');
    await page.locator('#cgm-account-vitadock-status', { hasText: 'Authorised' }).waitFor();
    // The tokens stay in the runtime; the fields only say "stored".
    expect(await page.inputValue('#node-config-input-accessToken')).to.equal('__PWRD__');
  });

  it('a deployed follow flow turns green, and the password is never sent back', async () => {
    await page.selectOption('#node-config-input-provider', 'dexcom');
    await page.fill('#node-config-input-name', 'Sam');
    await page.selectOption('#node-config-input-region', 'ous');
    await page.fill('#node-config-input-username', DEXCOM.username);
    await page.fill('#node-config-input-password', DEXCOM.password);
    await showAdvanced();
    await page.fill('#node-config-input-server', `${sim.urlFor('dexcom')}/ous`);
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-input-provider', { state: 'detached' });
    await page.selectOption('#node-input-mode', 'poll');
    await page.click('#node-dialog-ok');

    await page.click('#red-ui-header-button-deploy');
    const status = page.locator('.red-ui-flow-node-status-label', { hasText: 'mg/dL' });
    await status.first().waitFor({ timeout: 30_000 });
    const text = await status.first().textContent();
    expect(text).to.match(/^\d+ mg\/dL [⇈↑↗→↘↓⇊?-]$/);
    // Let the "deployed" notification fade, so the screenshot shows the flow itself.
    await page.waitForFunction(
      () =>
        !(
          globalThis as unknown as { document: { querySelector(s: string): unknown } }
        ).document.querySelector('.red-ui-notification'),
      undefined,
      { timeout: 10_000 },
    );
    await page.screenshot({ path: picture('node-red-editor-flow.png', { forDocs: false }) });

    // What the editor gets for the account's credentials: a flag, never the password itself.
    const id = await page.evaluate(() => {
      let found = '';
      (
        globalThis as unknown as {
          RED: { nodes: { eachConfig(cb: (n: { id: string; type: string }) => void): void } };
        }
      ).RED.nodes.eachConfig((n) => {
        if (n.type === 'cgm-account') found = n.id;
      });
      return found;
    });
    const creds = await credentials(editorUrl, 'cgm-account', id);
    expect(creds.has_password).to.equal(true);
    expect(JSON.stringify(creds)).to.not.include(DEXCOM.password);
    expect(await page.content()).to.not.include(DEXCOM.password);

    // Reopening the account after a reload shows the placeholder, not the password.
    await page.reload();
    await page.locator('.red-ui-flow-node-group').first().dblclick();
    await page.click('#node-input-btn-account-edit');
    await page.waitForSelector('#node-config-input-password', { state: 'visible' });
    expect(await page.inputValue('#node-config-input-password')).to.be.oneOf(['', '__PWRD__']);
    expect(await page.inputValue('#node-config-input-username')).to.equal(DEXCOM.username);
  });

  it('the help sidebar lists and titles the account as "CGM account"', async () => {
    await page.evaluate(() =>
      (
        globalThis as unknown as { RED: { sidebar: { help: { show(type: string): void } } } }
      ).RED.sidebar.help.show('cgm-account'),
    );
    const toc = page.locator('.red-ui-sidebar-help-toc .red-ui-node-label', { hasText: 'CGM account' });
    await toc.first().waitFor({ timeout: 10_000 });
    expect(
      await page.locator('.red-ui-sidebar-help-toc .red-ui-node-label', { hasText: /^cgm-account$/ }).count(),
    ).to.equal(0);
    expect(await page.locator('.red-ui-help-title').first().textContent()).to.contain('CGM account');
  });

  it('the "Lamp colour by glucose" example, deployed against the simulator, shows its status', async () => {
    const lamp = example('Lamp colour by glucose');
    expect(await deploy(editorUrl, onSimulatedDexcom(lamp, sim, DEXCOM))).to.equal(204);
    await page.reload();
    const status = page.locator('.red-ui-flow-node-status-label', { hasText: 'mg/dL' });
    await status.first().waitFor({ timeout: 30_000 });
    expect(await status.first().textContent()).to.match(/^\d+ mg\/dL [⇈↑↗→↘↓⇊?-]$/);
    // Every node of the example is on the workspace and wired.
    expect(await page.locator('.red-ui-flow-node-group').count()).to.equal(
      lamp.filter((n) => !['tab', 'cgm-account'].includes(String(n.type))).length,
    );
    expect(await page.locator('.red-ui-flow-link-line, .red-ui-flow-link-path').count()).to.be.greaterThan(3);
    // The info sidebar beside it shows the example's own description.
    await page.evaluate(() =>
      (globalThis as unknown as { RED: { sidebar: { show(id: string): void } } }).RED.sidebar.show('info'),
    );
    await page.screenshot({ path: picture('node-red-flow.png') });
  });

  it('the "Relay to Nightscout" example uploads, shows when, and keeps the site\'s secrets in the runtime', async () => {
    const nightscout = sim.providers.find((p) => p.provider === 'nightscout') as NightscoutSimulator;
    const libre = LIBRE_DEMO_ACCOUNTS[0]!;
    const flows = example('Relay to Nightscout').map((n) => {
      if (n.type === 'cgm-nightscout')
        return {
          ...n,
          credentials: { server: `${sim.urlFor('nightscout')}/relay`, token: uploadToken('relay') },
        };
      if (n.provider === 'librelinkup')
        return {
          ...n,
          server: `${sim.urlFor('librelinkup')}/{region}`,
          credentials: { username: libre.email, password: libre.password },
        };
      if (n.provider === 'nightscout')
        return { ...n, server: `${sim.urlFor('nightscout')}/mia`, credentials: { token: readToken('mia') } };
      return n;
    });
    expect(await deploy(editorUrl, flows)).to.equal(204);
    await page.reload();
    const uploaded = page.locator('.red-ui-flow-node-status-label', { hasText: '↑' });
    await uploaded.first().waitFor({ timeout: 30_000 });
    expect(await uploaded.first().textContent()).to.match(/^↑ \d\d:\d\d$/);
    expect(nightscout.uploads('relay')).to.have.length(1);
    await page.locator('.red-ui-flow-node-status-label', { hasText: 'mmol/L' }).first().waitFor();
    const creds = await credentials(editorUrl, 'cgm-nightscout', 'n1');
    expect(creds).to.include({ has_token: true });
    expect(JSON.stringify(creds)).not.to.include(uploadToken('relay'));
  });
});
