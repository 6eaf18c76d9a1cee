// The plugin settings form in the real Homebridge UI (homebridge-config-ui-x, standalone) in Debian's
// chromium: a config.json with three accounts must show three account cards with their values, and
// Save must keep the three accounts as they were, adding no field to them.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
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
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { freePort } from '../net';

const ROOT = join(__dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const UI = join(ROOT, 'node_modules', 'homebridge-config-ui-x', 'dist', 'bin', 'standalone.js');
/** `UPDATE_DOCS_SCREENSHOTS=1` writes the README's picture; otherwise it goes to test/artifacts. */
const SHOTS = process.env.UPDATE_DOCS_SCREENSHOTS ? join(ROOT, 'docs') : join(ROOT, 'test', 'artifacts');
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
  let ui: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base: string;
  let output = '';
  let original: Record<string, unknown>;

  before(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).to.equal(true);
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

    ui = spawn(process.execPath, [UI, '-U', storage, '-P', plugins], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        // The same guard as every mocha run: the UI's update and plugin look-ups never leave loopback.
        NODE_OPTIONS: `--require ${require.resolve('tsx/cjs')} --require ${join(__dirname, '..', 'setup.ts')}`,
        SCARF_ANALYTICS: 'false',
      },
    });
    ui.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    ui.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    for (let i = 0; ; i += 1) {
      if (ui.exitCode !== null) throw new Error(`the Homebridge UI exited:\n${output}`);
      const ready = await fetch(`${base}/api/auth/settings`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (i > 200) throw new Error(`the Homebridge UI did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
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
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`${base}/login`);
    await page.fill('#form-username', USER.username);
    await page.fill('#form-pass', USER.password);
    await page.click('button[type=submit]');
    await page.waitForURL((url) => !url.pathname.includes('login'), { timeout: 20_000 });
  });

  after(async () => {
    await browser?.close();
    if (ui && ui.exitCode === null) ui.kill('SIGTERM');
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

  it('shows one card per account with its cloud, name, region and login', async () => {
    const modal = await openSettings();
    const cards = modal
      .locator('.schema-form-array .list-group-item')
      .filter({ has: page.locator('select[name="provider"]') });
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

    mkdirSync(SHOTS, { recursive: true });
    // Tall enough for the whole form, so the picture holds the three cards of the Accounts section.
    await page.setViewportSize({ width: 1000, height: 4200 });
    const accounts = modal
      .locator('fieldset')
      .filter({ has: page.locator('.schema-form-array') })
      .last();
    await accounts.screenshot({ path: join(SHOTS, 'homebridge-settings.png') });
  });

  it('keeps the three accounts on Save, adding no field that is not on their card', async () => {
    const modal = await openSettings();
    const file = join(storage, 'config.json');
    const before = statSync(file).mtimeMs;
    await modal.locator('.modal-footer button', { hasText: /save/i }).click();
    // The UI writes config.json in place: wait for a new, complete file.
    let saved: { platforms: Record<string, unknown>[] } | undefined;
    for (let i = 0; saved === undefined; i += 1) {
      if (i > 100) throw new Error('Save did not write config.json');
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (statSync(file).mtimeMs === before) continue;
      try {
        saved = JSON.parse(readFileSync(file, 'utf8')) as { platforms: Record<string, unknown>[] };
      } catch {
        // half written
      }
    }
    const block = saved.platforms.find((p) => p.platform === 'GlucoBridge')!;
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
    const emma = modal
      .locator('.schema-form-array .list-group-item')
      .filter({ has: page.locator('select[name="provider"]') })
      .first();
    const secrets = () => emma.locator('input[type="password"]').count();
    const before = await secrets();
    await emma.locator('input[placeholder="https://mia.example.org"]').fill('https://emma.example.org');
    for (let i = 0; i < 50 && (await secrets()) === before; i += 1) await page.waitForTimeout(50);
    expect(await secrets()).to.equal(before + 2);
    await emma.locator('input[type="password"]').nth(before).fill('uploader-emma-0001');
    const file = join(storage, 'config.json');
    const saved = statSync(file).mtimeMs;
    await modal.locator('.modal-footer button', { hasText: /save/i }).click();
    let block: { accounts: Record<string, unknown>[] } | undefined;
    for (let i = 0; block === undefined; i += 1) {
      if (i > 100) throw new Error('Save did not write config.json');
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (statSync(file).mtimeMs === saved) continue;
      try {
        const config = JSON.parse(readFileSync(file, 'utf8')) as { platforms: Record<string, unknown>[] };
        block = config.platforms.find((p) => p.platform === 'GlucoBridge') as typeof block;
      } catch {
        // half written
      }
    }
    expect(block.accounts[0]).to.deep.equal({
      ...ACCOUNTS[0],
      nightscout: { server: 'https://emma.example.org', token: 'uploader-emma-0001' },
    });
    expect(block.accounts[2]).to.deep.equal(ACCOUNTS[2]);
  });
});
