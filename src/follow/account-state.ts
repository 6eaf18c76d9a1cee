import { z } from 'zod';
import type { Logger } from '../model/logger';
import { PROVIDER_IDS } from '../model/reading';

const sessionSchema = z.object({
  provider: z.enum(PROVIDER_IDS),
  account: z.string().min(1).max(200),
  data: z.record(z.string().max(100), z.union([z.string().max(10_000), z.number()])),
});

const refusedSchema = z.object({
  /** Random per refusal, so equal passwords of two accounts give different fingerprints. */
  salt: z.string().min(8).max(100),
  /** HMAC-SHA256 of the credentials under the salt: proves "same credentials", reveals nothing. */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  code: z.literal('AUTH_INVALID'),
  message: z.string().max(2_000),
  hint: z.string().max(2_000).optional(),
  /** When the refusal happened (epoch ms). */
  at: z.number().int().nonnegative(),
});

const loginSchema = z.object({
  refused: refusedSchema.optional(),
  /** No login before this instant (epoch ms). */
  lockedUntil: z.number().int().nonnegative().optional(),
  /** Locks in a row, for doubling the wait. */
  locks: z.number().int().nonnegative().max(1_000).optional(),
});

const knownSubjectSchema = z.object({
  id: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  slug: z
    .string()
    .regex(/^[a-z0-9]+(?:_[a-z0-9]+)*$/)
    .max(64),
});

/**
 * One account's entry in the state store. Each section is checked on its own, so one bad section
 * costs only itself. Nothing here is a password; `session` holds tokens and is kept like one.
 */
export const ACCOUNT_SECTIONS = {
  /** Whose state this is (`accountKey` of provider and login): a store keyed otherwise (Node-RED's node id) drops state of another login. */
  identity: z.string().min(1).max(100),
  /** Tokens that spare a login at the next start. */
  session: sessionSchema,
  /** The login policy's memory: a refused credential's fingerprint, a lock. */
  login: loginSchema,
  /** The people last followed, so a failed login at start does not remove them from the hosts. */
  subjects: z.array(knownSubjectSchema).max(1_000),
  /** Upload positions per destination (Dexcom receiver, Nightscout site): epoch ms of the last reading accepted. */
  uploads: z.record(z.string().max(500), z.number().int().nonnegative()),
  /** Protocol versions adopted from the cloud (LibreLinkUp's minimum app version). */
  versions: z.record(z.string().max(100), z.string().max(50)),
} as const;

type Sections = typeof ACCOUNT_SECTIONS;
export type AccountState = { -readonly [K in keyof Sections]?: z.output<Sections[K]> };
export type KnownSubject = z.output<typeof knownSubjectSchema>;
export type StoredLogin = z.output<typeof loginSchema>;

/**
 * One account's persisted state, wherever a host keeps it (a file for the bridge and Homebridge, node
 * context for Node-RED). `save` never throws: a store that cannot write logs it and keeps going.
 */
export interface AccountStore {
  load(): Promise<AccountState>;
  /** Replaces the sections given (`undefined` deletes one); `urgent` writes at once (a refusal, a lock). */
  save(patch: Partial<AccountState>, options?: { urgent?: boolean }): void;
}

/**
 * Checks an entry section by section: bad sections are logged (where, which key, why) and left out,
 * the rest is kept. Unknown sections (from a newer release) are left alone.
 */
export function parseAccountState(raw: unknown, where: string, logger: Logger): AccountState {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    logger.warn(`${where}: not an object; ignored`);
    return {};
  }
  const entry = raw as Record<string, unknown>;
  const state: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(ACCOUNT_SECTIONS)) {
    if (entry[name] === undefined) continue;
    const parsed = (schema as z.ZodType).safeParse(entry[name]);
    if (parsed.success) state[name] = parsed.data;
    else logger.warn(`${where}.${name}: ${firstIssue(parsed.error)}; ignored`);
  }
  return state;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'not valid';
  const path = issue.path.map(String).join('.');
  return `${path ? `${path}: ` : ''}${issue.message}`;
}

/**
 * Sections that map independent keys (one upload position per destination, one version per protocol):
 * a patch sets the keys it names and leaves the others, so writers of different keys never race.
 */
const KEYED_SECTIONS = new Set(['uploads', 'versions']);

/** Applies a patch: given sections replace (keyed ones merge key by key), `undefined` ones go. */
export function applyPatch(state: AccountState, patch: Partial<AccountState>): AccountState {
  const next: Record<string, unknown> = { ...state };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete next[key];
    else if (KEYED_SECTIONS.has(key))
      next[key] = { ...(next[key] as object | undefined), ...(value as object) };
    else next[key] = value;
  }
  return next;
}

/** A store in memory (the CLI, tests). */
export class MemoryAccountStore implements AccountStore {
  constructor(private state: AccountState = {}) {}

  load(): Promise<AccountState> {
    return Promise.resolve(this.state);
  }

  save(patch: Partial<AccountState>): void {
    this.state = applyPatch(this.state, patch);
  }

  get current(): AccountState {
    return this.state;
  }
}
