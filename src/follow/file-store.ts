import { readFileSync, renameSync, statSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../model/logger';
import { applyPatch, parseAccountState, type AccountState, type AccountStore } from './account-state';

/** The layout this release writes: `{"version": 2, "accounts": {<account key>: <entry>}}`. */
export const STATE_FILE_VERSION = 2;
/** A state file larger than this is not ours (a real one is a few kB per account). */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const ACCOUNT_KEY = /^[\w.:@-]{1,200}$/;

export interface FileStateStoreOptions {
  /**
   * Turns an older layout into entries by account key (the bridge's v1 file keyed by account name,
   * Homebridge's session file); undefined when the root is not that layout either.
   */
  legacy?: (root: Record<string, unknown>) => Record<string, unknown> | undefined;
  /** Changes within this window are written together, once (default 1 s; a refusal or a lock at once). */
  writeDelayMs?: number;
}

/**
 * The state store of the bridge, the CLI and Homebridge: one JSON file, mode 0600 (it holds session
 * tokens), replaced atomically (written beside, then renamed), with bursts of changes written once and
 * off the hot path. A bad entry is logged with the file and key and ignored; a file that is not
 * readable JSON is moved aside (`<file>.corrupt-<time>`) and reported, never silently reset.
 */
export class FileStateStore {
  private readonly accounts = new Map<string, AccountState>();
  private readonly writeDelayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;
  /** A change waiting to be written is a refusal or a lock: written as soon as the file is free. */
  private urgent = false;
  private lastWriteError: string | undefined;

  constructor(
    readonly file: string,
    private readonly logger: Logger,
    private readonly options: FileStateStoreOptions = {},
  ) {
    this.writeDelayMs = options.writeDelayMs ?? 1_000;
    this.load();
  }

  /** The keys of the accounts the file holds. */
  get keys(): string[] {
    return [...this.accounts.keys()];
  }

  /** The store of one account (an entry is created on its first save). */
  account(key: string): AccountStore {
    return {
      load: () => Promise.resolve(this.accounts.get(key) ?? {}),
      save: (patch, options) => this.save(key, patch, options?.urgent === true),
    };
  }

  /** Drops the entries of accounts no longer configured. */
  keepOnly(keys: Iterable<string>): void {
    const keep = new Set(keys);
    let changed = false;
    for (const key of [...this.accounts.keys()]) {
      if (keep.has(key)) continue;
      this.accounts.delete(key);
      changed = true;
    }
    if (changed) this.schedule(false);
  }

  /** Writes what is pending now; resolves when the file is on disk (or the write failed and was logged). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.dirty || this.writing) {
      if (!this.writing) this.startWrite();
      await this.writing;
    }
  }

  private save(key: string, patch: Partial<AccountState>, urgent: boolean): void {
    this.accounts.set(key, applyPatch(this.accounts.get(key) ?? {}, patch));
    this.schedule(urgent);
  }

  private schedule(urgent: boolean): void {
    this.dirty = true;
    if (urgent) {
      this.urgent = true;
      clearTimeout(this.timer);
      this.timer = undefined;
      if (!this.writing) this.startWrite();
      return;
    }
    if (this.timer || this.writing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.writing) this.startWrite();
    }, this.writeDelayMs);
    this.timer.unref?.();
  }

  private startWrite(): void {
    this.dirty = false;
    this.urgent = false;
    const text = `${JSON.stringify({ version: STATE_FILE_VERSION, accounts: Object.fromEntries(this.accounts) }, null, 2)}\n`;
    this.writing = this.write(text).finally(() => {
      this.writing = undefined;
      if (!this.dirty || this.timer) return;
      // What changed during the write waits for the delay too: each write holds every account, so a
      // thousand logins at start cost a write per `writeDelayMs`, not one after the other.
      if (this.urgent) this.startWrite();
      else this.schedule(false);
    });
  }

  private async write(text: string): Promise<void> {
    const temp = `${this.file}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await writeFile(temp, text, { mode: 0o600 });
      await chmod(temp, 0o600); // the mode option does not apply to a file that already existed
      await rename(temp, this.file);
      this.lastWriteError = undefined;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // Losing the state costs a login at the next start; never stop following for it. Said once.
      if (reason !== this.lastWriteError)
        this.logger.warn(`state file ${this.file}: cannot write (${reason})`);
      this.lastWriteError = reason;
    }
  }

  private load(): void {
    let text: string;
    try {
      if (statSync(this.file).size > MAX_FILE_BYTES) {
        this.setAside(`larger than ${MAX_FILE_BYTES / 1024 / 1024} MB`);
        return;
      }
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      this.logger.error(
        `state file ${this.file} cannot be read (${code ?? 'error'}); starting without saved sessions`,
      );
      return;
    }
    let root: unknown;
    try {
      root = JSON.parse(text);
    } catch {
      this.setAside('not valid JSON');
      return;
    }
    if (typeof root !== 'object' || root === null || Array.isArray(root)) {
      this.setAside('not a JSON object');
      return;
    }
    const entries = this.entriesOf(root as Record<string, unknown>);
    if (!entries) {
      this.setAside('not a GlucoBridge state file');
      return;
    }
    for (const [key, raw] of Object.entries(entries)) {
      if (!ACCOUNT_KEY.test(key)) {
        this.logger.warn(`state file ${this.file}: account key "${key.slice(0, 40)}" is not valid; ignored`);
        continue;
      }
      const state = parseAccountState(raw, `state file ${this.file}: accounts.${key}`, this.logger);
      if (Object.keys(state).length > 0) this.accounts.set(key, state);
    }
  }

  private entriesOf(root: Record<string, unknown>): Record<string, unknown> | undefined {
    if (typeof root.version === 'number') {
      if (root.version > STATE_FILE_VERSION) {
        this.logger.warn(
          `state file ${this.file} was written by a newer release; using what this one understands`,
        );
      }
      const accounts = root.accounts;
      if (typeof accounts === 'object' && accounts !== null && !Array.isArray(accounts)) {
        return accounts as Record<string, unknown>;
      }
      this.logger.warn(`state file ${this.file}: "accounts" is not an object; ignored`);
      return {};
    }
    return this.options.legacy?.(root);
  }

  private setAside(why: string): void {
    const aside = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      renameSync(this.file, aside);
      this.logger.error(
        `state file ${this.file} is ${why}; moved aside to ${aside}. Starting without saved sessions: ` +
          'accounts log in once more (a password refused before is tried once more).',
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      this.logger.error(
        `state file ${this.file} is ${why} and cannot be moved aside (${code}); starting without it`,
      );
    }
  }
}
