import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { CgmError } from '../../src/model/errors';
import type { Logger } from '../../src/model/logger';
import type { GlucoseUnit, ProviderId } from '../../src/model/reading';
import type { SourceConfigInput } from '../../src/config';
import type { CgmSource, ClientOptions, LoginInfo, SessionState } from '../../src/providers/provider';
import type { PushSecrets } from '../../src/providers/vitadock/push';
import { DexcomClient } from '../../src/providers/dexcom/client';
import { DexcomFollowers } from '../../src/providers/dexcom/followers';
import { DexcomPublisher } from '../../src/providers/dexcom/publisher';
import { createSource } from '../../src/source';
import { within } from './within';
import type { SessionStore } from './session-store';

/** What the account dialog saves (the `defaults` of cgm-account). */
export interface AccountProps {
  name?: string;
  provider: ProviderId;
  region?: string;
  server?: string;
  units?: GlucoseUnit;
  patient?: string;
  acceptTerms?: boolean;
  serial?: string;
  takeOverReceiver?: boolean;
  /** VitaDock: the path of the optional push endpoint in the flow's HTTP space. */
  pushPath?: string;
  /** Per-request timeout (ms); not in the dialog, for tests and unusual networks. */
  timeoutMs?: number;
}

/** Secrets kept as Node-RED credentials, never sent back to the editor. */
export interface AccountCredentials {
  username?: string;
  password?: string;
  accountId?: string;
  consumerKey?: string;
  consumerSecret?: string;
  accessToken?: string;
  accessSecret?: string;
}

export const CREDENTIAL_TYPES = {
  username: { type: 'text' },
  password: { type: 'password' },
  accountId: { type: 'password' },
  consumerKey: { type: 'password' },
  consumerSecret: { type: 'password' },
  accessToken: { type: 'password' },
  accessSecret: { type: 'password' },
} as const;

const propsSchema = z.object({
  name: z.string().optional(),
  provider: z.enum(['dexcom', 'librelinkup', 'vitadock'], {
    error: 'provider must be dexcom, librelinkup or vitadock',
  }),
  region: z.string().optional(),
  server: z.string().optional(),
  units: z.enum(['mgdl', 'mmol']).optional(),
  patient: z.string().optional(),
  acceptTerms: z.boolean().optional(),
  serial: z.string().optional(),
  takeOverReceiver: z.boolean().optional(),
  pushPath: z.string().optional(),
  timeoutMs: z.number().optional(),
});

/** The dialog's saved properties, checked; unknown extras are dropped. */
export function parseAccountProps(def: Record<string, unknown>): AccountProps {
  const parsed = propsSchema.safeParse(def);
  if (!parsed.success) {
    throw new CgmError('CONFIG', parsed.error.issues.map((i) => i.message).join('; '));
  }
  return parsed.data;
}

const text = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
};

/** The core's account configuration from the dialog and the credentials; empty fields are left out. */
export function sourceConfig(props: AccountProps, creds: AccountCredentials): SourceConfigInput {
  const common = {
    ...(text(props.name) ? { name: text(props.name) } : {}),
    ...(text(props.server) ? { server: text(props.server) } : {}),
    ...(props.timeoutMs ? { timeoutMs: props.timeoutMs } : {}),
  };
  switch (props.provider) {
    case 'dexcom':
      return {
        provider: 'dexcom',
        ...common,
        ...(text(props.region) ? { region: text(props.region) as 'us' | 'ous' | 'jp' } : {}),
        username: text(creds.username),
        password: creds.password ?? '',
        accountId: text(creds.accountId),
        serial: text(props.serial),
        takeOverReceiver: props.takeOverReceiver === true,
      };
    case 'librelinkup':
      return {
        provider: 'librelinkup',
        ...common,
        region: text(props.region),
        username: creds.username ?? '',
        password: creds.password ?? '',
        patient: text(props.patient),
        acceptTerms: props.acceptTerms === true,
      };
    case 'nightscout':
      // The token/API secret fields of the dialog come with the host wiring (issue 10).
      return { provider: 'nightscout', ...common, server: text(props.server) ?? '' };
    case 'vitadock':
      return {
        provider: 'vitadock',
        ...common,
        consumerKey: creds.consumerKey ?? '',
        consumerSecret: creds.consumerSecret ?? '',
        accessToken: text(creds.accessToken),
        accessSecret: text(creds.accessSecret),
      };
  }
}

/** The secret material the stored session is sealed with. */
export function sessionSecret(props: AccountProps, creds: AccountCredentials): string {
  return JSON.stringify([props.provider, props.server ?? '', props.region ?? '', creds]);
}

export type SourceFactory = (config: SourceConfigInput, options: ClientOptions) => CgmSource;

export interface AccountOptions {
  logger: Logger;
  sessions: SessionStore;
  /** Tests swap the factory; hosts use the core's `createSource`. */
  createSource?: SourceFactory;
}

export interface AccountEvents {
  /** A verified push notification: pollers should fetch now. */
  push: [];
  /** The cloud said the account needs attention (VitaDock: access withdrawn). */
  problem: [CgmError];
}

const live = new Set<Account>();

/** How long a redeploy waits for a source to close (VitaDock finishes its request in flight). */
const CLOSE_WAIT_MS = 5_000;

/** How many accounts are open in this process (tests check that redeploys close them). */
export function openAccountCount(): number {
  return live.size;
}

/**
 * The runtime half of a cgm-account config node: one core source for every node that uses the
 * account (so one login serves them all), its session sealed into context, everything closed on
 * redeploy.
 */
export class Account extends EventEmitter<AccountEvents> {
  readonly unit: GlucoseUnit;
  private opening: Promise<CgmSource> | undefined;
  private closed = false;
  private publisherOf: DexcomPublisher | undefined;
  private lastSession: SessionState | undefined;
  private followersOf: DexcomFollowers | undefined;

  constructor(
    readonly id: string,
    readonly props: AccountProps,
    private readonly creds: AccountCredentials,
    private readonly options: AccountOptions,
  ) {
    super();
    this.unit = props.units ?? 'mgdl';
    live.add(this);
  }

  get provider(): ProviderId {
    return this.props.provider;
  }

  /** The shared source, created on first use with the persisted session (rejects with CgmError only). */
  source(): Promise<CgmSource> {
    if (this.closed) return Promise.reject(new CgmError('CONFIG', 'the account was closed (redeploy)'));
    this.opening ??= this.open();
    return this.opening;
  }

  async login(): Promise<LoginInfo> {
    return (await this.source()).login();
  }

  /** The Dexcom uploader side, one per account (it remembers what it sent); CONFIG for other clouds. */
  async publisher(notDexcom: string): Promise<DexcomPublisher> {
    const client = await this.dexcom(notDexcom);
    this.publisherOf ??= new DexcomPublisher(client, { logger: this.options.logger });
    return this.publisherOf;
  }

  /** The Dexcom followers operations; CONFIG for other clouds. */
  async followers(notDexcom: string): Promise<DexcomFollowers> {
    const client = await this.dexcom(notDexcom);
    this.followersOf ??= new DexcomFollowers(client);
    return this.followersOf;
  }

  /** What a VitaDock push is checked against; undefined until the account is authorised. */
  pushSecrets(): PushSecrets | undefined {
    const { consumerKey, consumerSecret, accessToken, accessSecret } = this.creds;
    if (this.provider !== 'vitadock' || !consumerKey || !consumerSecret) return undefined;
    const access = accessToken && accessSecret ? { accessToken, accessSecret } : this.vitaDockSession;
    return access ? { consumerKey, consumerSecret, accounts: [access] } : undefined;
  }

  /** VitaDock tokens that came as a session (authorised after the last deploy). */
  private get vitaDockSession(): { accessToken: string; accessSecret: string } | undefined {
    const state = this.lastSession;
    const { accessToken, accessSecret } = state?.data ?? {};
    return typeof accessToken === 'string' && typeof accessSecret === 'string'
      ? { accessToken, accessSecret }
      : undefined;
  }

  private async dexcom(notDexcom: string): Promise<DexcomClient> {
    const source = await this.source();
    if (!(source instanceof DexcomClient)) throw new CgmError('CONFIG', notDexcom);
    return source;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    live.delete(this);
    this.removeAllListeners();
    const opening = this.opening;
    if (!opening) return;
    // A source that never opened (bad config) has nothing to release; a slow close is not waited out.
    await within(
      opening.then((source) => source.close()),
      CLOSE_WAIT_MS,
    );
  }

  private async open(): Promise<CgmSource> {
    const config = sourceConfig(this.props, this.creds);
    const session = await this.options.sessions.load();
    const factory = this.options.createSource ?? createSource;
    const options: ClientOptions = { logger: this.options.logger };
    if (session && session.provider === this.props.provider) options.session = session;
    const source = factory(config, options);
    this.lastSession = session;
    source.onSession((state) => {
      this.lastSession = state;
      void this.options.sessions.save(state);
    });
    if (this.closed) await source.close();
    return source;
  }
}
