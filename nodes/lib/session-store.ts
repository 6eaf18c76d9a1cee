import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SessionState } from '../../src/providers/provider';
import type { NodeContextStore } from './types';

const KEY = 'glucobridgeSession';

// Node-RED deletes a node's context on every close unless a context store is configured, so a copy
// kept in this process lets sessions survive redeploys in any setup (restarts need a file store).
const processCopy = new Map<string, unknown>();

const sealedSchema = z.object({ v: z.literal(1), iv: z.string(), tag: z.string(), data: z.string() });
const stateSchema = z.object({
  provider: z.enum(['dexcom', 'librelinkup', 'vitadock']),
  account: z.string(),
  data: z.record(z.string(), z.union([z.string(), z.number()])),
});

/**
 * Keeps an account's session tokens in its config node's context, sealed with AES-256-GCM under a key
 * derived from the account's own secrets: a file-backed context store then holds nothing usable on its
 * own, and a changed password simply makes the old session unreadable (a fresh login follows).
 * Survives redeploys always, restarts when a persistent context store is configured.
 */
export class SessionStore {
  private readonly key: Buffer;

  constructor(
    private readonly id: string,
    private readonly context: NodeContextStore,
    secret: string,
    private readonly store: string | undefined,
  ) {
    this.key = createHash('sha256').update('glucobridge-session\u0000').update(secret).digest();
  }

  load(): Promise<SessionState | undefined> {
    return new Promise((resolve) => {
      try {
        this.context.get(KEY, this.store, (err, value) =>
          resolve((err ? undefined : this.open(value)) ?? this.open(processCopy.get(this.id))),
        );
      } catch {
        resolve(this.open(processCopy.get(this.id))); // an unknown or broken store
      }
    });
  }

  save(state: SessionState | undefined): Promise<void> {
    const sealed = state ? this.seal(state) : undefined;
    if (sealed) processCopy.set(this.id, sealed);
    else processCopy.delete(this.id);
    return new Promise((resolve) => {
      try {
        this.context.set(KEY, sealed, this.store, () => resolve());
      } catch {
        resolve();
      }
    });
  }

  private seal(state: SessionState): z.infer<typeof sealedSchema> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(state), 'utf8'), cipher.final()]);
    return {
      v: 1,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
  }

  private open(value: unknown): SessionState | undefined {
    const sealed = sealedSchema.safeParse(value);
    if (!sealed.success) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.data.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(sealed.data.tag, 'base64'));
      const text = Buffer.concat([
        decipher.update(Buffer.from(sealed.data.data, 'base64')),
        decipher.final(),
      ]).toString('utf8');
      const state = stateSchema.safeParse(JSON.parse(text));
      return state.success ? state.data : undefined;
    } catch {
      return undefined; // sealed under other secrets: the password changed
    }
  }
}
