import type { SourceConfig } from '../src/config';
import { stopsPolling, toCgmError, type CgmError } from '../src/model/errors';
import type { Logger } from '../src/model/logger';
import type { GlucoseReading } from '../src/model/reading';
import { Poller } from '../src/poller';
import type { CgmSource, Subject } from '../src/providers/provider';
import type { AccountEntry } from './config';

/** One person as the platform shows them: the HomeKit accessory, and MQTT when configured. */
export interface SubjectView {
  readonly uuid: string;
  readonly name: string;
  show(reading: GlucoseReading): void;
  setStale(stale: boolean): void;
  /** The account works again (`undefined`) or is refused / unreachable (HomeKit shows a fault). */
  setFailure(error: CgmError | undefined): void;
  /** A passing failure: no fault in HomeKit while the data is fresh, but MQTT may report it. */
  reportError(error: CgmError): void;
}

/** What an account needs from the platform. */
export interface AccountHost {
  logger: Logger;
  /** The view of a subject, its accessory created or taken from the cache; undefined when another account has it. */
  claim(entry: AccountEntry, subject: Subject, name: string): SubjectView | undefined;
  /** Removes this account's accessories that are not in `keep` (its subjects are known now). */
  prune(entry: AccountEntry, keep: ReadonlySet<string>): void;
  /** Every accessory of this account shows the failure (also those restored but not yet claimed). */
  fail(entry: AccountEntry, error: CgmError): void;
}

const MINUTE = 60_000;
/** Discovery retries back off to this while a cloud is down at start-up. */
const MAX_DISCOVERY_BACKOFF_MS = 30 * MINUTE;

/**
 * One configured account: finds whom it can read, runs one poller per subject, and stops itself
 * (only itself) when the cloud refuses the account.
 */
export class AccountRunner {
  private readonly pollers: Poller[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private stopped = false;
  private halted = false;
  private lastLogged: string | undefined;

  constructor(
    readonly entry: AccountEntry & { config: SourceConfig },
    readonly source: CgmSource,
    private readonly host: AccountHost,
  ) {}

  /** True once the account is refused (bad password, locked, terms, config): no more requests. */
  get isHalted(): boolean {
    return this.halted;
  }

  /** The first discovery attempt; later ones are scheduled on failure. Resolves true on success. */
  async start(): Promise<boolean> {
    return this.discover();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await Promise.all(this.pollers.map((poller) => poller.stop()));
    await this.source.close().catch(() => undefined);
  }

  private async discover(): Promise<boolean> {
    if (this.stopped || this.halted) return false;
    this.attempts += 1;
    let subjects: Subject[];
    try {
      subjects = this.select(await this.source.subjects());
    } catch (thrown) {
      const error = toCgmError(thrown);
      this.markFailed(error);
      if (stopsPolling(error)) this.halt(error);
      else this.scheduleRetry(error);
      return false;
    }
    if (this.stopped) return false;
    if (subjects.length === 0) {
      this.host.logger.warn(`${this.entry.label}: no one to follow on this account`);
    }
    const keep = new Set<string>();
    for (const subject of subjects) {
      const name = withoutEmail(
        subjects.length === 1 && this.entry.config.name ? this.entry.config.name : subject.name,
      );
      const view = this.host.claim(this.entry, subject, name);
      if (!view) continue;
      keep.add(view.uuid);
      view.setFailure(undefined);
      this.follow(subject, view);
    }
    this.host.prune(this.entry, keep);
    this.lastLogged = undefined;
    this.host.logger.info(
      `${this.entry.label}: following ${subjects.length} ${subjects.length === 1 ? 'person' : 'people'}`,
    );
    return true;
  }

  /** A LibreLinkUp `patient` narrows the connections to one (by id or name); otherwise all are followed. */
  private select(subjects: Subject[]): Subject[] {
    const wanted = 'patient' in this.entry.config ? this.entry.config.patient : undefined;
    if (!wanted) return subjects;
    const fold = (text: string) => text.trim().replace(/\s+/g, ' ').toLowerCase();
    const match = subjects.filter((s) => s.id === wanted || fold(s.name) === fold(wanted));
    if (match.length === 0)
      this.host.logger.warn(`${this.entry.label}: the configured patient is not among the connections`);
    return match;
  }

  private follow(subject: Subject, view: SubjectView): void {
    const poller = new Poller(this.source, {
      subject: subject.id,
      staleMinutes: this.entry.staleMinutes,
      logger: pollerLogger(this.host.logger, this.entry.label),
    });
    poller.on('reading', (reading) => {
      view.show(reading);
      view.setStale(poller.stale);
      view.setFailure(undefined);
      if (this.lastLogged !== undefined) {
        this.host.logger.info(`${this.entry.label}: readings resumed`);
        this.lastLogged = undefined;
      }
    });
    poller.on('stale', () => {
      view.setStale(true);
      this.host.logger.warn(`${view.name}: no new reading for ${this.entry.staleMinutes} min`);
    });
    poller.on('fresh', () => view.setStale(false));
    poller.on('error', (error) => {
      view.reportError(error);
      this.report(error);
    });
    poller.on('halted', (error) => this.halt(error));
    this.pollers.push(poller);
    poller.start();
  }

  /** Logs a failure once per kind, not once per attempt. */
  private report(error: CgmError): void {
    const kind = error.code;
    if (this.lastLogged === kind) {
      this.host.logger.debug(`${this.entry.label}: ${error.code}: ${error.message}`);
      return;
    }
    this.lastLogged = kind;
    this.host.logger.warn(
      `${this.entry.label}: ${error.code}: ${error.message}${error.hint ? ` (${error.hint})` : ''}`,
    );
  }

  /** The account is refused: say so once, with the hint, and stop every poller of this account. */
  private halt(error: CgmError): void {
    if (this.halted) return;
    this.halted = true;
    clearTimeout(this.retryTimer);
    this.markFailed(error);
    this.host.logger.error(
      `${this.entry.label}: ${error.code}: ${error.message}. Polling stopped for this account until the ` +
        `configuration changes${error.hint ? `. Hint: ${error.hint}` : ''}`,
    );
    for (const poller of this.pollers) void poller.stop();
  }

  private markFailed(error: CgmError): void {
    this.host.fail(this.entry, error);
  }

  private scheduleRetry(error: CgmError): void {
    this.report(error);
    const backoff = Math.min(MAX_DISCOVERY_BACKOFF_MS, MINUTE * 2 ** (this.attempts - 1));
    const delay = Math.max(backoff, error.retryAfterMs ?? 0);
    this.retryTimer = setTimeout(() => void this.discover(), delay);
  }
}

/** A Dexcom subject may be named by its login: an e-mail address never reaches HomeKit or the log. */
export function withoutEmail(name: string): string {
  return name.replace(/@\S*/g, '').trim() || 'Glucose';
}

/**
 * The platform reports halts itself (once per account, with the hint), so the poller's own line
 * about stopping is kept for debug output only.
 */
function pollerLogger(logger: Logger, label: string): Logger {
  return {
    debug: (message) => logger.debug(`${label}: ${message}`),
    info: (message) => logger.info(`${label}: ${message}`),
    warn: (message) => logger.warn(`${label}: ${message}`),
    error: (message) => logger.debug(`${label}: ${message}`),
  };
}
