import { toCgmError } from '../../model/errors';
import type { Logger } from '../../model/logger';
import type { MqttPublisher } from '../../mqtt/publisher';
import type { ClientOptions } from '../../providers/provider';
import type { BridgeAccount } from '../account';
import type { AccountConfig } from '../config';
import { BridgeMonitor } from './monitor';
import { StatusServer } from './server';
import { isLoopback, type HttpSettings } from './settings';

export { DEFAULT_LISTEN, resolveHttpSettings, withListen, type HttpSettings } from './settings';

export interface StatusPageOptions {
  /** The demo: when the port is taken (another bridge), any free port rather than none. */
  anyPortIfTaken?: boolean;
}

/**
 * The bridge's status page, `/healthz` and `/metrics` as one piece for the runner: a monitor that
 * watches the accounts and the publisher, and the server. A page that cannot listen is logged and
 * left out: publishing glucose matters more than showing it.
 */
export class StatusPage {
  readonly monitor = new BridgeMonitor();
  private server: StatusServer | undefined;

  constructor(
    private readonly settings: HttpSettings,
    private readonly logger: Logger,
    private readonly options: StatusPageOptions = {},
  ) {}

  /** The page's address once it listens. */
  get url(): string | undefined {
    return this.server?.url;
  }

  /**
   * An address Home Assistant can link the bridge device to: only a named, non-loopback host (a
   * loopback or "every interface" address means nothing in a browser elsewhere).
   */
  static configurationUrl(settings: HttpSettings | undefined): string | undefined {
    if (!settings || settings.port === 0) return undefined;
    const { host, port } = settings;
    if (isLoopback(host) || host === '0.0.0.0' || host === '::') return undefined;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  }

  /** One account's client options: its requests counted for `/metrics`. */
  clientOptions(
    account: AccountConfig,
    base: Pick<ClientOptions, 'transport'> | undefined,
    logger: Logger,
  ): Pick<ClientOptions, 'transport'> {
    return this.monitor.clientOptions(account, base, logger);
  }

  /** Watches the bridge and listens; resolves with the address, or undefined when it could not listen. */
  async start(publisher: MqttPublisher, accounts: readonly BridgeAccount[]): Promise<string | undefined> {
    this.monitor.attach(publisher, accounts);
    try {
      this.server = await this.listen(this.settings);
    } catch (thrown) {
      const error = toCgmError(thrown);
      if (this.options.anyPortIfTaken && /in use/.test(error.message)) {
        this.server = await this.listen({ ...this.settings, port: 0 }).catch(() => undefined);
      }
      if (!this.server) {
        this.logger.error(`${error.message}; running without the status page (${error.hint ?? ''})`);
        return undefined;
      }
    }
    return this.server.url;
  }

  /** The bridge finished starting: `/healthz` answers from the broker's connection from now on. */
  running(): void {
    this.monitor.running();
  }

  async stop(): Promise<void> {
    this.monitor.stop();
    await this.server?.stop();
  }

  private async listen(settings: HttpSettings): Promise<StatusServer> {
    const server = new StatusServer(settings, this.monitor, this.logger);
    await server.start();
    return server;
  }
}
