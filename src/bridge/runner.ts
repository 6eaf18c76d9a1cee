import { dirname, join } from 'node:path';
import type { Logger } from '../model/logger';
import type { GlucoseReading } from '../model/reading';
import type { BridgeStatus } from '../mqtt/bridge';
import { MqttPublisher } from '../mqtt/publisher';
import type { ClientOptions } from '../providers/provider';
import { accountKey } from '../follow/account-key';
import { FileStateStore } from '../follow/file-store';
import { TurnLimiter } from '../follow/turn-limiter';
import { BridgeAccount } from './account';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker';
import type { AccountConfig, BridgeConfig } from './config';
import { StatusPage, type StatusPageOptions } from './http';
import { legacyBridgeState } from './legacy-state';

/** Statistics history loads under way at once across the bridge's accounts. */
const HISTORY_LOADS_AT_ONCE = 4;

export interface BridgeRuntime {
  logger: Logger;
  /** Where session tokens are kept (mode 0600). */
  stateFile: string;
  /** Port of the embedded broker when the configuration names none (0: any free port). */
  embeddedBrokerPort?: number;
  /** Told about every reading published (the CLI prints them). */
  onReading?: (key: string, reading: GlucoseReading) => void;
  /** For tests: a transport with a short timeout. */
  clientOptions?: Pick<ClientOptions, 'transport'>;
  /** How the status page (when `config.http` is set) behaves, e.g. the demo's any-free-port fallback. */
  statusPage?: StatusPageOptions;
}

/** The default state file: beside the configuration, named after it. */
export function stateFileFor(configFile: string): string {
  return join(dirname(configFile), '.glucobridge-state.json');
}

/** Longest a shutdown may take before the process exits anyway. */
const STOP_LIMIT_MS = 4_500;

/** The stand-alone service: every account → its pollers → one MQTT publisher. */
export class Bridge {
  private publisher: MqttPublisher | undefined;
  private broker: EmbeddedBroker | undefined;
  private accounts: BridgeAccount[] = [];
  private state: FileStateStore | undefined;
  private brokerAddress = '';
  private statusPage: StatusPage | undefined;

  constructor(
    readonly config: BridgeConfig,
    private readonly runtime: BridgeRuntime,
  ) {}

  /** The broker the bridge publishes to (credentials left out). */
  get brokerUrl(): string {
    return this.brokerAddress;
  }

  get embeddedBroker(): EmbeddedBroker | undefined {
    return this.broker;
  }

  get accountRunners(): readonly BridgeAccount[] {
    return this.accounts;
  }

  /** The status page's address, when it is on and listening. */
  get statusUrl(): string | undefined {
    return this.statusPage?.url;
  }

  async start(): Promise<void> {
    const { logger } = this.runtime;
    const mqtt = this.config.mqtt;
    let url = mqtt.url;
    if (url === undefined) {
      this.broker = await startEmbeddedBroker(this.runtime.embeddedBrokerPort ?? 1883);
      url = this.broker.url;
      logger.info(`embedded MQTT broker listening on ${url}`);
    }
    this.publisher = new MqttPublisher({
      url,
      ...(mqtt.username === undefined ? {} : { username: mqtt.username }),
      ...(mqtt.password === undefined ? {} : { password: mqtt.password }),
      ...(mqtt.clientId === undefined ? {} : { clientId: mqtt.clientId }),
      baseTopic: mqtt.baseTopic,
      discoveryPrefix: mqtt.discoveryPrefix,
      ...(mqtt.discovery === undefined ? {} : { discovery: mqtt.discovery }),
      bridge: { model: 'Stand-alone bridge', ...configurationUrl(this.config) },
      logger,
    });
    this.brokerAddress = this.publisher.brokerUrl;
    await this.publisher.start();
    const keys = bridgeAccountKeys(this.config.accounts);
    const state = new FileStateStore(this.runtime.stateFile, logger, {
      legacy: (root) => legacyBridgeState(root, this.config.accounts, keys),
    });
    this.state = state;
    const publisher = this.publisher;
    const page = this.config.http && new StatusPage(this.config.http, logger, this.runtime.statusPage);
    // Saved sessions need no login; the others queue for one, a few at a time (no storm at start).
    const logins = new TurnLimiter({ perSecond: this.config.loginsPerSecond });
    // A day's history per person for the statistics: a few at a time, behind the first readings.
    const historyLoads = new TurnLimiter({ concurrency: HISTORY_LOADS_AT_ONCE, perSecond: Infinity });
    this.accounts = this.config.accounts.map((account, index) => {
      const accountLogger = prefixLogger(logger, account.name);
      return new BridgeAccount(
        account,
        keys[index]!,
        state.account(keys[index]!),
        publisher,
        accountLogger,
        { reading: (key, reading) => this.runtime.onReading?.(key, reading) },
        page
          ? page.clientOptions(account, this.runtime.clientOptions, accountLogger)
          : this.runtime.clientOptions,
        { logins, historyLoads },
      );
    });
    state.keepOnly(keys);
    this.reportBridgeState(publisher);
    if (page) {
      this.statusPage = page;
      const url = await page.start(publisher, this.accounts);
      if (url) logger.info(`status page on ${url} (health: ${url}healthz, metrics: ${url}metrics)`);
    }
    await Promise.all(this.accounts.map((account) => account.start()));
    page?.running();
    // Accounts dropped from the configuration lose their Home Assistant entities.
    publisher.retainSubjects(this.accounts.flatMap((account) => account.keys));
  }

  /** The bridge device's own state: how many accounts, and the last account error (with its account's name). */
  private reportBridgeState(publisher: MqttPublisher): void {
    let lastError: BridgeStatus['lastError'] = null;
    const update = () => publisher.updateBridgeState({ accounts: this.accounts.length, lastError });
    for (const account of this.accounts) {
      account.follower.on('problem', (error) => {
        if (error)
          lastError = {
            code: error.code,
            message: error.message,
            account: account.config.name,
            time: new Date(),
          };
        else if (lastError?.account === account.config.name) lastError = null;
        update();
      });
    }
    update();
  }

  /** Publishes `offline`, flushes, closes sessions and the embedded broker, within about 5 s. */
  async stop(): Promise<void> {
    const work = (async () => {
      await this.statusPage?.stop();
      await Promise.allSettled(this.accounts.map((account) => account.stop()));
      await this.state?.flush();
      await this.publisher?.stop();
      await this.broker?.close();
    })();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.runtime.logger.warn('shutdown took too long; exiting anyway');
        resolve();
      }, STOP_LIMIT_MS);
    });
    await Promise.race([work, limit]);
    clearTimeout(timer);
  }
}

/**
 * Each account's key in the state file: its login's `accountKey`, with the name's slug added when two
 * accounts share a login (one LibreLinkUp login, one account per child).
 */
export function bridgeAccountKeys(accounts: readonly AccountConfig[]): string[] {
  const base = accounts.map((a) =>
    accountKey(a.source.provider, a.source as unknown as Record<string, unknown>),
  );
  return base.map((key, index) =>
    base.indexOf(key) === base.lastIndexOf(key)
      ? key
      : `${key}:${accounts[index]!.name.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`,
  );
}

/** The status page's address for Home Assistant's device page, when other machines can open it. */
function configurationUrl(config: BridgeConfig): { configurationUrl?: string } {
  const url = StatusPage.configurationUrl(config.http);
  return url === undefined ? {} : { configurationUrl: url };
}

function prefixLogger(logger: Logger, name: string): Logger {
  return {
    debug: (m) => logger.debug(`[${name}] ${m}`),
    info: (m) => logger.info(`[${name}] ${m}`),
    warn: (m) => logger.warn(`[${name}] ${m}`),
    error: (m) => logger.error(`[${name}] ${m}`),
  };
}
