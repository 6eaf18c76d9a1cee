// The plugin settings form in the real Homebridge UI (homebridge-config-ui-x, standalone) in Debian's
// chromium: a config.json with three accounts must show three account cards with their values, and
// Save must keep the three accounts as they were, adding no field to them.
import { expect } from 'chai';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { freePort } from '../net';
import type { Started } from '../process';
import { poll, until } from '../until';
import { expectChromium, openChromium, picture, ROOT, startServer } from './harness';

const UI = join(ROOT, 'node_modules', 'homebridge-config-ui-x', 'dist', 'bin', 'standalone.js');
const USER = { username: 'tester', password: 'glucobridge-ui-test' };

const ACCOUNTS = [
  {
    provider: 'dexcom',
    name: 'Emma',
    region: 'ous',
    username: 'emma.parent@example.org',
    password: 'secret-one',
  },
  {
    provider: 'librelinkup',
    name: 'Noah',
    region: 'eu',
    username: 'carer@example.org',
    password: 'secret-two',
    patient: 'Noah',
  },
  {
    provider: 'dexcom',
    name: 'Grandpa Jon',
    region: 'us',
    username: '+14155550123',
    password: 'secret-three',
    accountId: '11111111-2222-3333-4444-555555555555',
  },
];

/** The plugin's block of config.json, as the UI saved it. */
type PluginBlock = Record<string, unknown> & { accounts: Record<string, unknown>[] };

/** What the UI's own auth service stores: pbkdf2-sha512, 1000 rounds, 64 bytes, hex, with a hex salt. */
function authFile(): string {
  const salt = randomBytes(32).toString('hex');
  const hashedPassword = pbkdf2Sync(USER.password, salt, 1000, 64, 'sha512').toString('hex');
  return JSON.stringify([
    { id: 1, username: USER.username, name: 'Tester', hashedPassword, salt, admin: true },
  ]);
}

/** The part of a DOM <select> read here (the tests compile without the DOM library). */
interface SelectElement {
  selectedOptions: ArrayLike<{ textContent: string | null }>;
}

interface Card {
  cloud: string;
  name: string;
  region: string;
  username: string;
  password: string;
  accountId?: string;
  patient?: string;
}

/** One account card as a person sees it: the chosen options' labels and the fields' values. */
async function readCard(card: Locator): Promise<Card> {
  const selected = (name: string): Promise<string> =>
    card
      .locator(`select[name="${name}"]`)
      .evaluate((el) => (el as unknown as SelectElement).selectedOptions[0]?.textContent?.trim() ?? '');
  const value = async (name: string): Promise<string | undefined> => {
    const input = card.locator(`input[name="${name}"]`);
    return (await input.count()) === 0 ? undefined : input.inputValue();
  };
  const out: Card = {
    cloud: await selected('provider'),
    name: (await value('name')) ?? '',
    region: await selected('region'),
    username: (await value('username')) ?? '',
    password: (await value('password')) ?? '',
  };
  const accountId = await value('accountId');
  const patient = await value('patient');
  if (accountId !== undefined) out.accountId = accountId;
  if (patient !== undefined) out.patient = patient;
  return out;
}

describe('the Homebridge UI settings form in chromium', function () {
  this.timeout(90_000);
  let work: string;
  let storage: string;
  let ui: Started | undefined;
  let browser: BrowserContext | undefined;
  let page: Page;
  let base: string;
  let original: Record<string, unknown>;

  before(async () => {
    expectChromium();
    expect(existsSync(UI), 'homebridge-config-ui-x is missing: npm ci').to.equal(true);
    work = mkdtempSync(join(tmpdir(), 'glucobridge-hb-ui-'));
    storage = join(work, 'storage');
    const plugins = join(work, 'plugins');
    mkdirSync(storage);
    mkdirSync(join(plugins, '@glucobridge'), { recursive: true });
    // The UI lists plugins found in its plugin path: ours (this checkout) and Homebridge itself.
    symlinkSync(ROOT, join(plugins, '@glucobridge', 'homebridge-glucobridge'), 'dir');
    symlinkSync(join(ROOT, 'node_modules', 'homebridge'), join(plugins, 'homebridge'), 'dir');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    original = { platform: 'GlucoBridge', name: 'GlucoBridge', accounts: ACCOUNTS };
    const config = {
      bridge: { name: 'Homebridge', username: '0E:11:22:33:44:55', port: 51826, pin: '031-45-154' },
      accessories: [],
      platforms: [
        { platform: 'config', name: 'Config', port, host: '127.0.0.1', enableMdnsAdvertise: false },
        original,
      ],
    };
    writeFileSync(join(storage, 'config.json'), JSON.stringify(config, null, 4));
    writeFileSync(join(storage, 'auth.json'), authFile());

    ui = await startServer(
      'the Homebridge UI',
      [UI, '-U', storage, '-P', plugins],
      `${base}/api/auth/settings`,
      {
        env: {
          ...process.env,
          // The same guard as every mocha run: the UI's update and plugin look-ups never leave loopback.
          NODE_OPTIONS: `--require ${require.resolve('tsx/cjs')} --require ${join(__dirname, '..', 'setup.ts')}`,
          SCARF_ANALYTICS: 'false',
        },
        tries: 200,
        every: 150,
      },
    );
    ({ context: browser, page } = await openChromium(join(work, 'chromium'), { width: 1100, height: 900 }));
    await page.goto(`${base}/login`);
    await page.fill('#form-username', USER.username);
    await page.fill('#form-pass', USER.password);
    await page.click('button[type=submit]');
    await page.waitForURL((url) => !url.pathname.includes('login'), { timeout: 20_000 });
  });

  after(async () => {
    await browser?.close();
    await ui?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Plugins → GlucoBridge → ⋮ → Plugin Config, and the account cards in it. */
  async function openSettings(): Promise<Locator> {
    await page.goto(`${base}/plugins`);
    const plugin = page.locator('.card', { hasText: '@glucobridge/homebridge-glucobridge' });
    await plugin.waitFor({ timeout: 20_000 });
    await plugin.locator('.dropdown-toggle, button:has(i.fa-ellipsis-v)').last().click();
    await page.locator('.dropdown-menu.show').getByText('Plugin Config').click();
    const modal = page.locator('.modal-content').first();
    await modal.locator('select[name="provider"]').first().waitFor({ timeout: 20_000 });
    return modal;
  }

  /** The account cards of the settings form. */
  const accountCards = (modal: Locator): Locator =>
    modal
      .locator('.schema-form-array .list-group-item')
      .filter({ has: page.locator('select[name="provider"]') });

  /** Clicks Save and reads the GlucoBridge block of config.json once the UI has written the file anew. */
  async function save(modal: Locator): Promise<PluginBlock> {
    const file = join(storage, 'config.json');
    const before = statSync(file).mtimeMs;
    await modal.locator('.modal-footer button', { hasText: /save/i }).click();
    // The UI writes config.json in place: wait for a new, complete file.
    return until(
      'Save to write config.json',
      () => {
        if (statSync(file).mtimeMs === before) return undefined;
        try {
          const config = JSON.parse(readFileSync(file, 'utf8')) as { platforms: Record<string, unknown>[] };
          return config.platforms.find((p) => p.platform === 'GlucoBridge') as PluginBlock | undefined;
        } catch {
          return undefined; // half written
        }
      },
      10_000,
      100,
    );
  }

  it('shows one card per account with its cloud, name, region and login', async () => {
    const modal = await openSettings();
    const cards = accountCards(modal);
    expect(await cards.count()).to.equal(3);
    const seen = [];
    for (let i = 0; i < 3; i += 1) seen.push(await readCard(cards.nth(i)));
    expect(seen).to.deep.equal([
      {
        cloud: 'Dexcom Share',
        name: 'Emma',
        region: 'Outside the US',
        username: 'emma.parent@example.org',
        password: 'secret-one',
        accountId: '',
      },
      {
        cloud: 'LibreLinkUp (FreeStyle Libre)',
        name: 'Noah',
        region: 'Europe',
        username: 'carer@example.org',
        password: 'secret-two',
        patient: 'Noah',
      },
      {
        cloud: 'Dexcom Share',
        name: 'Grandpa Jon',
        region: 'United States',
        username: '+14155550123',
        password: 'secret-three',
        accountId: '11111111-2222-3333-4444-555555555555',
      },
    ]);
    // The LibreLinkUp-only checkbox is on the LibreLinkUp card only, and unticked.
    const terms = modal.locator('input[name="acceptTerms"]');
    expect(await terms.count()).to.equal(1);
    expect(await terms.isChecked()).to.equal(false);

    // Tall enough for the whole form, so the picture holds the three cards of the Accounts section.
    await page.setViewportSize({ width: 1000, height: 4200 });
    const accounts = modal
      .locator('fieldset')
      .filter({ has: page.locator('.schema-form-array') })
      .last();
    await accounts.screenshot({ path: picture('homebridge-settings.png') });
  });

  it('keeps the three accounts on Save, adding no field that is not on their card', async () => {
    const modal = await openSettings();
    const block = await save(modal);
    // The only fields the form adds are the LibreLinkUp card's own unticked checkboxes; the Dexcom accounts,
    // which have no such fields, stay exactly as written (the UI used to add `acceptTerms` to every account).
    expect(block.accounts).to.deep.equal([
      ACCOUNTS[0],
      { ...ACCOUNTS[1], acceptTerms: false, cloudThresholds: false },
      ACCOUNTS[2],
    ]);
    // Besides the accounts, Save writes only the display defaults the form shows (the plugin's own).
    const { accounts: _accounts, ...rest } = block;
    expect(rest).to.deep.equal({
      platform: 'GlucoBridge',
      name: 'GlucoBridge',
      units: 'mgdl',
      thresholds: { urgentLow: 55, low: 70, high: 180 },
      staleMinutes: 15,
    });
  });

  it('offers the upload to Nightscout on a Dexcom card: its secrets appear once a site is typed, and Save keeps them', async () => {
    const modal = await openSettings();
    const emma = accountCards(modal).first();
    const secrets = () => emma.locator('input[type="password"]').count();
    const before = await secrets();
    await emma.locator('input[placeholder="https://mia.example.org"]').fill('https://emma.example.org');
    await poll(async () => (await secrets()) !== before, 2_500, 50);
    expect(await secrets()).to.equal(before + 2);
    await emma.locator('input[type="password"]').nth(before).fill('uploader-emma-0001');
    const block = await save(modal);
    expect(block.accounts[0]).to.deep.equal({
      ...ACCOUNTS[0],
      nightscout: { server: 'https://emma.example.org', token: 'uploader-emma-0001' },
    });
    expect(block.accounts[2]).to.deep.equal(ACCOUNTS[2]);
  });
});
