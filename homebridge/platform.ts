import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { API, DynamicPlatformPlugin, Logging, PlatformAccessory, PlatformConfig } from 'homebridge';
import { FileStateStore } from '../src/follow/file-store';
import type { SubjectState } from '../src/follow/subject-state';
import { CgmError, toCgmError } from '../src/model/errors';
import type { Logger } from '../src/model/logger';
import type { ProviderId } from '../src/model/reading';
import {
  GlucoseAccessory,
  homeKitName,
  subjectKey,
  type DisplaySettings,
  type GlucoseContext,
} from './accessory';
import { HomebridgeAccount, type AccountHost, type SubjectView } from './account';
import { parsePlatformConfig, type AccountEntry, type PlatformConfigResult } from './config';
import { MqttLink } from './mqtt-link';
import { PLATFORM_NAME, PLUGIN_NAME, LEGACY_SESSION_FILE, STATE_FILE } from './settings';

/** Shown before the first start with a usable configuration; HomeKit gets "No Response" until then. */
const DEFAULT_DISPLAY: DisplaySettings = { units: 'mgdl', thresholds: { urgentLow: 55, low: 70, high: 180 } };

/**
 * The GlucoBridge dynamic platform: one accessory per person followed, restored from Homebridge's
 * cache at start and removed when its account leaves the configuration.
 */
export class GlucoBridgePlatform implements DynamicPlatformPlugin {
  readonly logger: Logger;
  private readonly config: PlatformConfigResult;
  private readonly cached = new Map<string, PlatformAccessory<GlucoseContext>>();
  private readonly handlers = new Map<string, GlucoseAccessory>();
  /** uuid → key of the account that owns it in this run. */
  private readonly claimed = new Map<string, string>();
  private readonly runners: HomebridgeAccount[] = [];
  private state: FileStateStore | undefined;
  private mqtt: MqttLink | undefined;
  private startup: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    log: Logging,
    rawConfig: PlatformConfig,
    private readonly api: API,
  ) {
    this.logger = hostLogger(log);
    this.config = parsePlatformConfig(rawConfig);
    api.on('didFinishLaunching', () => {
      this.startup = this.start().catch((error: unknown) => {
        this.logger.error(`could not start: ${toCgmError(error).message}`);
      });
    });
    api.on('shutdown', () => {
      void this.stop();
    });
  }

  /** Homebridge hands back every cached accessory before didFinishLaunching. */
  configureAccessory(accessory: PlatformAccessory): void {
    const restored = accessory as PlatformAccessory<GlucoseContext>;
    this.cached.set(accessory.UUID, restored);
    if (isGlucoseContext(restored.context)) {
      const display = this.displayFor(restored.context.accountKey);
      this.handlers.set(accessory.UUID, new GlucoseAccessory(this.api.hap, restored, display));
    }
  }

  /** Resolves when the first discovery of every account has been tried (for tests and shutdown). */
  whenStarted(): Promise<void> {
    return this.startup ?? Promise.resolve();
  }

  /** The handler of each accessory, by uuid (tests and diagnostics). */
  get accessories(): ReadonlyMap<string, GlucoseAccessory> {
    return this.handlers;
  }

  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.startup;
      await Promise.all(this.runners.map((runner) => runner.stop()));
      await this.state?.flush();
      await this.mqtt?.stop();
    })();
    return this.stopping;
  }

  private async start(): Promise<void> {
    if (!this.config.ok) {
      this.logger.error(`configuration is not valid, nothing started:\n${this.config.error}`);
      for (const handler of this.handlers.values())
        handler.setFailure(new CgmError('CONFIG', this.config.error));
      return;
    }
    const { settings, accounts } = this.config;
    if (accounts.length === 0) this.logger.warn('no accounts configured: add one in the plugin settings');
    if (settings.mqttError)
      this.logger.error(`MQTT is off, its settings are not valid:\n${settings.mqttError}`);
    if (settings.mqtt) {
      this.mqtt = new MqttLink(settings.mqtt, this.logger);
      this.mqtt.start();
    }
    const state = this.openState();
    state.keepOnly(accounts.map((a) => a.key));

    const seen = new Set<string>();
    for (const entry of accounts) {
      if (!entry.config) {
        this.logger.error(`${entry.label} is not valid and is skipped:\n${entry.error ?? ''}`);
        this.failAccount(entry, new CgmError('CONFIG', entry.error ?? 'invalid account'));
        continue;
      }
      if (seen.has(entry.key)) {
        this.logger.warn(`${entry.label} repeats an account configured above and is skipped`);
        continue;
      }
      seen.add(entry.key);
      const account = { ...entry, config: entry.config };
      this.runners.push(
        new HomebridgeAccount(
          account,
          state.account(entry.key),
          this.host(),
          prefixed(this.logger, entry.label),
        ),
      );
    }
    const found = await Promise.all(this.runners.map((runner) => runner.start()));
    this.pruneOrphans(new Set(accounts.map((a) => a.key)));
    // Only when everyone is known may MQTT clear the retained topics of people no longer configured.
    if (found.every(Boolean) && accounts.every((a) => a.config)) this.mqtt?.retainOnlyAdded();
  }

  /**
   * The state file below Homebridge's storage path; the session file of release 0.1 is taken over once,
   * so an upgrade does not cost a login per account.
   */
  private openState(): FileStateStore {
    const dir = this.api.user.storagePath();
    const file = join(dir, STATE_FILE);
    const legacy = join(dir, LEGACY_SESSION_FILE);
    const fresh = !existsSync(file);
    this.state = new FileStateStore(file, this.logger);
    if (fresh && existsSync(legacy)) {
      try {
        const sessions = JSON.parse(readFileSync(legacy, 'utf8')) as unknown;
        if (typeof sessions === 'object' && sessions !== null && !Array.isArray(sessions)) {
          for (const [key, session] of Object.entries(sessions as Record<string, unknown>)) {
            this.state.account(key).save({ session } as never);
          }
        }
        renameSync(legacy, `${legacy}.migrated`);
      } catch {
        this.logger.warn(`${legacy} is unreadable; accounts log in afresh`);
      }
    }
    return this.state;
  }

  private host(): AccountHost {
    return {
      logger: this.logger,
      claim: (entry, subject) => this.claim(entry, subject),
      release: (entry, uuid) => {
        const accessory = this.cached.get(uuid);
        if (accessory) this.remove(accessory, 'no longer followed by its account');
      },
      prune: (entry, keep) => {
        for (const accessory of this.ofAccount(entry.key)) {
          if (!keep.has(accessory.UUID)) this.remove(accessory, 'no longer followed by its account');
        }
      },
      fail: (entry, error) => this.failAccount(entry, error),
    };
  }

  private claim(entry: AccountEntry, subject: SubjectState): SubjectView | undefined {
    const handler = this.accessoryFor(entry, subject);
    if (!handler) return undefined;
    const uuid = handler.uuid;
    const mqtt = this.mqtt?.add(uuid, subject, entry) ? this.mqtt : undefined;
    return {
      uuid,
      show: (reading, state) => {
        if (state.thresholds) handler.setThresholds(state.thresholds);
        handler.show(reading);
        handler.setStatus(state);
        mqtt?.reading(uuid, reading, state);
      },
      status: (state) => {
        handler.setStatus(state);
        mqtt?.status(uuid, state);
      },
      details: (state) => {
        if (state.thresholds) handler.setThresholds(state.thresholds);
        mqtt?.details(uuid, state, entry);
      },
    };
  }

  private accessoryFor(entry: AccountEntry, subject: SubjectState): GlucoseAccessory | undefined {
    const name = subject.name;
    const provider = entry.config?.provider ?? entry.provider;
    if (!provider) return undefined;
    const uuid = this.api.hap.uuid.generate(uuidSeed(provider, entry.key, subject.id));
    const owner = this.claimed.get(uuid);
    if (owner !== undefined && owner !== entry.key) {
      this.logger.warn(`${entry.label}: ${name} is already shown through another account; skipped here`);
      return undefined;
    }
    this.claimed.set(uuid, entry.key);
    const context: GlucoseContext = {
      provider,
      accountKey: entry.key,
      subjectKey: subjectKey(provider, subject.id),
    };
    const existing = this.cached.get(uuid);
    if (existing) {
      existing.context = context;
      let handler = this.handlers.get(uuid);
      if (handler) handler.setDisplay(entry);
      else {
        handler = new GlucoseAccessory(this.api.hap, existing, entry);
        this.handlers.set(uuid, handler);
      }
      this.api.updatePlatformAccessories([existing]);
      return handler;
    }
    const accessory = new this.api.platformAccessory<GlucoseContext>(
      homeKitName(name),
      uuid,
      this.api.hap.Categories.SENSOR,
    );
    accessory.context = context;
    const handler = new GlucoseAccessory(this.api.hap, accessory, entry);
    this.cached.set(uuid, accessory);
    this.handlers.set(uuid, handler);
    this.api.registerPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, [accessory]);
    this.logger.info(`added ${accessory.displayName}`);
    return handler;
  }

  /** Cached accessories of accounts no longer configured (or not ours) leave HomeKit. */
  private pruneOrphans(configured: ReadonlySet<string>): void {
    for (const accessory of [...this.cached.values()]) {
      if (this.claimed.has(accessory.UUID)) continue;
      const context = accessory.context;
      if (!isGlucoseContext(context) || !configured.has(context.accountKey)) {
        this.remove(accessory, 'its account is no longer configured');
      }
    }
  }

  private remove(accessory: PlatformAccessory<GlucoseContext>, why: string): void {
    this.api.unregisterPlatformAccessories(PLUGIN_NAME, PLATFORM_NAME, [accessory]);
    this.cached.delete(accessory.UUID);
    this.handlers.delete(accessory.UUID);
    this.claimed.delete(accessory.UUID);
    this.logger.info(`removed ${accessory.displayName}: ${why}`);
  }

  private ofAccount(key: string): PlatformAccessory<GlucoseContext>[] {
    return [...this.cached.values()].filter(
      (a) => isGlucoseContext(a.context) && a.context.accountKey === key,
    );
  }

  private handlersOf(key: string): GlucoseAccessory[] {
    return this.ofAccount(key).flatMap((a) => this.handlers.get(a.UUID) ?? []);
  }

  /** The unit and thresholds of the account an accessory belongs to. */
  private displayFor(accountKey: string): DisplaySettings {
    if (!this.config.ok) return DEFAULT_DISPLAY;
    return this.config.accounts.find((a) => a.key === accountKey) ?? this.config.settings;
  }

  private failAccount(entry: AccountEntry, error: CgmError | undefined): void {
    for (const handler of this.handlersOf(entry.key)) {
      handler.setFailure(error);
      this.mqtt?.problem(handler.uuid, error);
    }
  }
}

/**
 * What an accessory's uuid is made from. A LibreLinkUp account follows patients with ids of their own;
 * a Dexcom, Nightscout or VitaDock account is its own subject, so its login (hashed) keeps the uuid when the name
 * or region changes: a new uuid would cost the user their rooms and automations.
 */
export function uuidSeed(provider: ProviderId, accountKey: string, subjectId: string): string {
  return provider === 'librelinkup'
    ? `glucobridge:librelinkup:${subjectId}`
    : `glucobridge:${provider}:${accountKey}`;
}

function isGlucoseContext(value: unknown): value is GlucoseContext {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof GlucoseContext, unknown>>;
  return (
    (v.provider === 'dexcom' ||
      v.provider === 'librelinkup' ||
      v.provider === 'nightscout' ||
      v.provider === 'vitadock') &&
    typeof v.accountKey === 'string' &&
    typeof v.subjectKey === 'string'
  );
}

/** Homebridge's log as the core's Logger (its own prefix already names the platform). */
function hostLogger(log: Logging): Logger {
  return {
    debug: (message) => log.debug(message),
    info: (message) => log.info(message),
    warn: (message) => log.warn(message),
    error: (message) => log.error(message),
  };
}

function prefixed(logger: Logger, label: string): Logger {
  return {
    debug: (message) => logger.debug(`${label}: ${message}`),
    info: (message) => logger.info(`${label}: ${message}`),
    warn: (message) => logger.warn(`${label}: ${message}`),
    error: (message) => logger.error(`${label}: ${message}`),
  };
}
