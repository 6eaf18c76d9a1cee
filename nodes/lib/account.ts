import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { CgmError } from '../../src/model/errors';
import type { Logger } from '../../src/model/logger';
import type { GlucoseUnit, ProviderId } from '../../src/model/reading';
import type { SourceConfigInput } from '../../src/config';
import type { AccountStore } from '../../src/follow/account-state';
import { AccountFollower } from '../../src/follow/follower';
import { uploadPositions } from '../../src/follow/upload-positions';
import type { CgmSource, ClientOptions, LoginInfo, SessionState } from '../../src/providers/provider';
import type { PushSecrets } from '../../src/providers/vitadock/push';
import { DexcomClient } from '../../src/providers/dexcom/client';
import { DexcomFollowers } from '../../src/providers/dexcom/followers';
import { DexcomPublisher } from '../../src/providers/dexcom/publisher';
import { parseSourceConfig } from '../../src/source';
import { within } from '../../src/within';

/** What the account dialog saves (the `defaults` of cgm-account). */
export interface AccountProps {
  name?: string;
  provider: ProviderId;
  region?: string;
  server?: string;
  units?: GlucoseUnit;
  patient?: string;
  acceptTerms?: boolean;
  /** LibreLinkUp: the sensors' life in days (blank: 14; 15 for the Plus sensors). */
  sensorDays?: string | number;
  serial?: string;
  takeOverReceiver?: boolean;
  /** VitaDock: the path of the optional push endpoint in the flow's HTTP space. */
  pushPath?: string;
  /** Nightscout: the API, `v1` (default) or `v3`. */
  api?: 'v1' | 'v3';
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
  /** Nightscout: an access token of the site, or its API secret. */
  token?: string;
  apiSecret?: string;
}

export const CREDENTIAL_TYPES = {
  username: { type: 'text' },
  password: { type: 'password' },
  accountId: { type: 'password' },
  consumerKey: { type: 'password' },
  consumerSecret: { type: 'password' },
  accessToken: { type: 'password' },
  accessSecret: { type: 'password' },
  token: { type: 'password' },
  apiSecret: { type: 'password' },
} as const;

const propsSchema = z.object({
  name: z.string().optional(),
  provider: z.enum(['dexcom', 'librelinkup', 'nightscout', 'vitadock'], {
    error: 'provider must be dexcom, librelinkup, nightscout or vitadock',
  }),
  region: z.string().optional(),
  server: z.string().optional(),
  units: z.enum(['mgdl', 'mmol']).optional(),
  patient: z.string().optional(),
  acceptTerms: z.boolean().optional(),
  sensorDays: z.union([z.string(), z.number()]).optional(),
  serial: z.string().optional(),
  takeOverReceiver: z.boolean().optional(),
  pushPath: z.string().optional(),
  // A dialog saved before Nightscout existed has no `api`; an empty one means the default.
  api: z
    .enum(['v1', 'v3', ''])
    .optional()
    .transform((api) => (api === '' ? undefined : api)),
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
        ...sensorDays(props.sensorDays),
      };
    case 'nightscout':
      // A readable site needs neither secret; the site's address is required.
      return {
        provider: 'nightscout',
        ...common,
        server: text(props.server) ?? '',
        token: text(creds.token),
        apiSecret: text(creds.apiSecret),
        ...(props.api ? { api: props.api } : {}),
      };
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

/** A number of days from the dialog (a text field); blank is "not set", anything else the core judges. */
function sensorDays(value: string | number | undefined): { sensorDays?: number } {
  if (value === undefined || (typeof value === 'string' && value.trim() === '')) return {};
  return { sensorDays: Number(value) };
}

/** The secret material the stored session is sealed with. */
export function sessionSecret(props: AccountProps, creds: AccountCredentials): string {
  return JSON.stringify([props.provider, props.server ?? '', props.region ?? '', creds]);
}

export type SourceFactory = (config: SourceConfigInput, options: ClientOptions) => CgmSource;

export interface AccountOptions {
  logger: Logger;
  /** Where the account's state lives (its config node's context). */
  store: AccountStore;
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
 * The runtime half of a cgm-account config node: one core account follower for every node that uses
 * the account (one login serves them all, a refused password is never sent again, each person polled
 * once however many nodes watch them), its state in context, everything closed on redeploy.
 */
export class Account extends EventEmitter<AccountEvents> {
  readonly unit: GlucoseUnit;
  private opening: Promise<AccountFollower> | undefined;
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

  /** The account's follower, started on first use (rejects with CgmError only: CONFIG for a bad dialog). */
  follower(): Promise<AccountFollower> {
    if (this.closed) return Promise.reject(new CgmError('CONFIG', 'the account was closed (redeploy)'));
    this.opening ??= this.open();
    return this.opening;
  }

  /** The shared source (through the follower's login policy). */
  async source(): Promise<CgmSource> {
    return (await this.follower()).source;
  }

  async login(): Promise<LoginInfo> {
    return (await this.source()).login();
  }

  /**
   * The Dexcom uploader side, one per account; its upload position lives in the account's state, so a
   * redeploy sends nothing twice. CONFIG for other clouds.
   */
  async publisher(notDexcom: string): Promise<DexcomPublisher> {
    const client = await this.dexcom(notDexcom);
    this.publisherOf ??= new DexcomPublisher(client, {
      logger: this.options.logger,
      positions: uploadPositions(this.options.store, this.options.logger),
    });
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
    // A follower that never opened (bad config) has nothing to release; a slow close is not waited out.
    await within(
      opening.then((follower) => follower.stop()),
      CLOSE_WAIT_MS,
    );
  }

  private async open(): Promise<AccountFollower> {
    const config = parseSourceConfig(sourceConfig(this.props, this.creds));
    const name = text(this.props.name);
    const follower = new AccountFollower({
      key: this.id,
      ...(name ? { name } : {}),
      config,
      store: this.options.store,
      logger: this.options.logger,
      follow: 'watched',
      ...(this.options.createSource ? { createSource: this.options.createSource } : {}),
    });
    await follower.start();
    this.lastSession = (await this.options.store.load()).session;
    follower.source.onSession((state) => {
      this.lastSession = state;
    });
    if (this.closed) await follower.stop();
    return follower;
  }
}
