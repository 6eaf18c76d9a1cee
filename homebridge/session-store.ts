import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { Logger } from '../src/model/logger';
import type { SessionState } from '../src/providers/provider';

const fileSchema = z.record(
  z.string(),
  z.object({
    provider: z.enum(['dexcom', 'librelinkup', 'vitadock']),
    account: z.string(),
    data: z.record(z.string(), z.union([z.string(), z.number()])),
  }),
);

/**
 * Session tokens by account key, in one JSON file only the Homebridge user can read. Tokens are as
 * good as a password for a while, so the file is written 0600 and never logged.
 */
export class SessionStore {
  private sessions = new Map<string, SessionState>();

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {
    this.load();
  }

  get(key: string): SessionState | undefined {
    return this.sessions.get(key);
  }

  set(key: string, state: SessionState): void {
    this.sessions.set(key, state);
    this.save();
  }

  /** Forgets the tokens of accounts no longer configured. */
  keepOnly(keys: Iterable<string>): void {
    const keep = new Set(keys);
    let changed = false;
    for (const key of [...this.sessions.keys()]) {
      if (!keep.has(key)) {
        this.sessions.delete(key);
        changed = true;
      }
    }
    if (changed) this.save();
  }

  private load(): void {
    if (!existsSync(this.file)) return;
    try {
      const parsed = fileSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      if (parsed.success) this.sessions = new Map(Object.entries(parsed.data));
      else this.logger.warn('stored sessions are unreadable; logging in afresh');
    } catch {
      this.logger.warn('stored sessions are unreadable; logging in afresh');
    }
  }

  private save(): void {
    const temp = `${this.file}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify(Object.fromEntries(this.sessions), null, 2), { mode: 0o600 });
      chmodSync(temp, 0o600); // the mode option does not apply when the file already existed
      renameSync(temp, this.file);
    } catch (error) {
      // Losing the tokens only costs a login at the next start; never stop polling for it.
      this.logger.warn(`could not store sessions: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
