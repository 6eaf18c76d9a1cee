import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SessionState } from '../providers/provider';
import type { Logger } from '../model/logger';

interface StateFileShape {
  sessions: Record<string, SessionState>;
  /** The subject keys each account published last time, so a failed login does not drop their entities. */
  subjects?: Record<string, string[]>;
}

/**
 * Session tokens kept between runs so a restart does not log in again (a fresh Dexcom login per
 * restart is how accounts get locked). The file holds secrets: it is written with mode 0600.
 */
export class StateStore {
  private state: StateFileShape = { sessions: {} };

  constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<StateFileShape>;
      if (parsed && typeof parsed.sessions === 'object' && parsed.sessions !== null) {
        this.state.sessions = parsed.sessions;
      }
      if (parsed && typeof parsed.subjects === 'object' && parsed.subjects !== null) {
        this.state.subjects = parsed.subjects;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn(`state file ${file} is unreadable; starting without saved sessions`);
      }
    }
  }

  session(account: string): SessionState | undefined {
    return this.state.sessions[account];
  }

  saveSession(account: string, session: SessionState): void {
    this.state.sessions[account] = session;
    this.write();
  }

  subjectKeys(account: string): string[] | undefined {
    return this.state.subjects?.[account];
  }

  saveSubjectKeys(account: string, keys: string[]): void {
    const known = this.state.subjects?.[account];
    if (known && known.join('\n') === keys.join('\n')) return;
    this.state.subjects = { ...this.state.subjects, [account]: keys };
    this.write();
  }

  private write(): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const temp = `${this.file}.tmp`;
      writeFileSync(temp, `${JSON.stringify(this.state, null, 2)}\n`, { mode: 0o600 });
      chmodSync(temp, 0o600);
      renameSync(temp, this.file);
    } catch (error) {
      this.logger.warn(`could not save sessions to ${this.file}: ${(error as Error).message}`);
    }
  }
}
