import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logging } from 'homebridge';
import { HomebridgeAPI } from 'homebridge/lib/api';
import { PlatformAccessory } from 'homebridge/lib/platformAccessory';
import { User } from 'homebridge/lib/user';
import sinon from 'sinon';
import { GlucoBridgePlatform } from '../../homebridge/platform';
import { DEXCOM_DEMO_ACCOUNTS, DexcomSimulator } from '../../src/simulator/dexcom';
import { LIBRE_DEMO_ACCOUNTS, LibreLinkUpSimulator } from '../../src/simulator/librelinkup';
import { NightscoutSimulator } from '../../src/simulator/nightscout';
import { Simulator } from '../../src/simulator/server';

const realSetTimeout = setTimeout;

/** Real time passing (for loopback I/O) while sinon fakes the timers. */
export function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, ms));
}

export const SAM = DEXCOM_DEMO_ACCOUNTS[1]!; // ous, brittle: goes LOW and high
export const ALEX = DEXCOM_DEMO_ACCOUNTS[0]!; // us, steady
export const FAMILY = LIBRE_DEMO_ACCOUNTS[0]!; // eu, follows Mia and Leo

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error' | 'success';
  message: string;
}

/** A Homebridge log that remembers every line. */
export function recordingLog(): Logging & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (message: string) => {
    lines.push({ level, message });
  };
  const log = Object.assign((message: string) => at('info')(message), {
    prefix: 'GlucoBridge',
    lines,
    info: at('info'),
    success: at('success'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
    log: (level: string, message: string) =>
      at(level === 'warn' || level === 'error' ? level : 'info')(message),
  });
  return log;
}

export interface Rig {
  sim: Simulator;
  dexcom: DexcomSimulator;
  libre: LibreLinkUpSimulator;
  nightscout: NightscoutSimulator;
  url: string;
  storage: string;
  dexcomAccount(account?: typeof SAM, extra?: Record<string, unknown>): Record<string, unknown>;
  libreAccount(extra?: Record<string, unknown>): Record<string, unknown>;
  /** The address of a demo Nightscout site (`mia`, `leo`, `noah`, `relay`). */
  site(name: string): string;
  close(): Promise<void>;
}

/** Both clouds on loopback and a throw-away Homebridge storage directory. */
export async function startRig(): Promise<Rig> {
  const dexcom = new DexcomSimulator();
  const libre = new LibreLinkUpSimulator();
  const nightscout = new NightscoutSimulator();
  const sim = new Simulator({ providers: [dexcom, libre, nightscout] });
  const url = await sim.listen();
  const storage = mkdtempSync(join(tmpdir(), 'glucobridge-hb-'));
  const storagePath = sinon.stub(User, 'storagePath').returns(storage);
  return {
    sim,
    dexcom,
    libre,
    nightscout,
    url,
    storage,
    site: (name) => `${url}/nightscout/${name}`,
    dexcomAccount: (account = SAM, extra = {}) => ({
      provider: 'dexcom',
      name: account.name,
      region: account.region,
      username: account.username,
      password: account.password,
      server: `${url}/dexcom/${account.region}`,
      // Fake clocks jump in steps; a long timeout keeps a step from aborting a request in flight.
      timeoutMs: 120_000,
      ...extra,
    }),
    libreAccount: (extra = {}) => ({
      provider: 'librelinkup',
      username: FAMILY.email,
      password: FAMILY.password,
      region: FAMILY.region,
      server: `${url}/librelinkup/{region}`,
      timeoutMs: 120_000,
      ...extra,
    }),
    close: async () => {
      storagePath.restore();
      await sim.close();
      rmSync(storage, { recursive: true, force: true });
    },
  };
}

export interface Host {
  api: HomebridgeAPI;
  log: ReturnType<typeof recordingLog>;
  platform: GlucoBridgePlatform;
  registered: PlatformAccessory[];
  /** `<plugin>.<platform>` of each registration. */
  registeredAs: string[];
  unregistered: PlatformAccessory[];
  updated: PlatformAccessory[];
}

/**
 * A real HomebridgeAPI with our platform, fed the cached accessories first (as Homebridge does),
 * then told that launching finished.
 */
export async function launch(
  rig: Pick<Rig, 'storage'>,
  config: Record<string, unknown>,
  cached: PlatformAccessory[] = [],
  { waitForStart = true } = {},
): Promise<Host> {
  const api = new HomebridgeAPI();
  // User is static and shared; the rig points it at its own directory.
  if (api.user.storagePath() !== rig.storage) throw new Error('storage path not stubbed by startRig');
  const host: Host = {
    api,
    log: recordingLog(),
    platform: undefined as unknown as GlucoBridgePlatform,
    registered: [],
    registeredAs: [],
    unregistered: [],
    updated: [],
  };
  // Record what the platform hands Homebridge, then let Homebridge's own code run.
  const register = api.registerPlatformAccessories.bind(api);
  const unregister = api.unregisterPlatformAccessories.bind(api);
  const update = api.updatePlatformAccessories.bind(api);
  api.registerPlatformAccessories = (plugin, platform, list) => {
    host.registeredAs.push(`${plugin}.${platform}`);
    host.registered.push(...list);
    register(plugin, platform, list);
  };
  api.unregisterPlatformAccessories = (plugin, platform, list) => {
    host.unregistered.push(...list);
    unregister(plugin, platform, list);
  };
  api.updatePlatformAccessories = (list) => {
    host.updated.push(...list);
    update(list);
  };
  host.platform = new GlucoBridgePlatform(host.log, { platform: 'GlucoBridge', ...config }, api);
  for (const accessory of cached) host.platform.configureAccessory(accessory);
  api.signalFinished();
  if (waitForStart) await host.platform.whenStarted();
  return host;
}

/** What Homebridge's cache gives back after a restart: the same accessories, serialised and rebuilt. */
export function throughCache(accessories: PlatformAccessory[]): PlatformAccessory[] {
  return accessories.map((a) => PlatformAccessory.deserialize(PlatformAccessory.serialize(a)));
}

/** Waits until the simulator has seen no new request for a few real milliseconds. */
export async function settle(sim: Simulator): Promise<void> {
  let seen = -1;
  for (let i = 0; i < 100; i += 1) {
    await realSleep(2);
    const now = sim.requests().length;
    if (now === seen) return;
    seen = now;
  }
}

/** Moves the fake clock on in steps, letting loopback HTTP answer between them. */
export async function advance(
  clock: sinon.SinonFakeTimers,
  sim: Simulator,
  ms: number,
  stepMs = 30_000,
  each?: () => void,
): Promise<void> {
  for (let passed = 0; passed < ms; passed += stepMs) {
    await clock.tickAsync(Math.min(stepMs, ms - passed));
    await settle(sim);
    each?.();
  }
}
