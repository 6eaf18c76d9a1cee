import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  ACCOUNT_SECTIONS,
  applyPatch,
  parseAccountState,
  type AccountState,
  type AccountStore,
} from '../../src/follow/account-state';
import type { Logger } from '../../src/model/logger';
import type { NodeContextStore } from './types';

/** The context key of an account's state (release 0.1 kept only the sealed session, under `SESSION_KEY`). */
const STATE_KEY = 'glucobridgeState';
const SESSION_KEY = 'glucobridgeSession';

// Node-RED deletes a node's context on every close unless a context store is configured, so a copy
// kept in this process lets the state survive redeploys in any setup (restarts need a file store).
const processCopy = new Map<string, unknown>();

/** Forgets every account's state kept in this process, as a fresh start of Node-RED would (tests). */
export function forgetProcessCopies(): void {
  processCopy.clear();
}

const sealedSchema = z.object({ v: z.literal(1), iv: z.string(), tag: z.string(), data: z.string() });
type Sealed = z.infer<typeof sealedSchema>;

/**
 * An account's state (sessions, a refused credential's fingerprint, known people, upload positions) in
 * its config node's context. The session is sealed with AES-256-GCM under a key derived from the
 * account's own secrets: a file-backed context store then holds nothing usable on its own, and a
 * changed password makes the old session unreadable (a fresh login follows). The rest is no secret and
 * is kept plain, checked entry by entry when read. Survives redeploys always, restarts with a
 * persistent context store.
 */
export class ContextStateStore implements AccountStore {
  private readonly key: Buffer;
  private state: AccountState | undefined;

  constructor(
    private readonly id: string,
    private readonly context: NodeContextStore,
    secret: string,
    private readonly store: string | undefined,
    private readonly logger: Logger,
  ) {
    this.key = createHash('sha256').update('glucobridge-session\u0000').update(secret).digest();
  }

  async load(): Promise<AccountState> {
    const stored = (await this.read(STATE_KEY)) ?? processCopy.get(this.id);
    const state = this.open(stored);
    if (!state.session) {
      const legacy = this.openSession(await this.read(SESSION_KEY));
      if (legacy) state.session = legacy;
    }
    this.state = state;
    return state;
  }

  save(patch: Partial<AccountState>): void {
    this.state = applyPatch(this.state ?? {}, patch);
    const sealed = this.seal(this.state);
    processCopy.set(this.id, sealed);
    try {
      this.context.set(STATE_KEY, sealed, this.store, () => undefined);
    } catch {
      // An unknown or broken context store: the process copy still serves redeploys.
    }
  }

  private read(key: string): Promise<unknown> {
    return new Promise((resolve) => {
      try {
        this.context.get(key, this.store, (err, value) => resolve(err ? undefined : value));
      } catch {
        resolve(undefined);
      }
    });
  }

  /** The stored form: every section plain, except the session, which is sealed. */
  private seal(state: AccountState): Record<string, unknown> {
    const { session, ...rest } = state;
    return { ...rest, ...(session ? { session: this.sealText(JSON.stringify(session)) } : {}) };
  }

  private open(value: unknown): AccountState {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
    const { session, ...rest } = value as Record<string, unknown>;
    const state = parseAccountState(rest, `account ${this.id} context`, this.logger);
    const opened = this.openSession(session);
    if (opened) state.session = opened;
    return state;
  }

  private openSession(value: unknown): AccountState['session'] {
    const text = this.openText(value);
    if (text === undefined) return undefined;
    try {
      const parsed = ACCOUNT_SECTIONS.session.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  private sealText(text: string): Sealed {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return {
      v: 1,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
  }

  private openText(value: unknown): string | undefined {
    const sealed = sealedSchema.safeParse(value);
    if (!sealed.success) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.data.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(sealed.data.tag, 'base64'));
      return Buffer.concat([
        decipher.update(Buffer.from(sealed.data.data, 'base64')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      return undefined; // sealed under other secrets: the password changed
    }
  }
}
