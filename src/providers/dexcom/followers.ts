import { parseBody } from '../../http/transport';
import { CgmError } from '../../model/errors';
import type { DexcomClient } from './client';
import { ENDPOINTS, NULL_UUID } from './constants';
import { booleanAnswer, subscriptionsSchema, textAnswer, type SubscriptionRecord } from './schemas';

/** One person following this account (or invited to), typed and with parsed dates. */
export interface Follower {
  contactId: string;
  contactName: string;
  /** Absent until an invitation exists. */
  subscriptionId: string | undefined;
  /** The follower's account, once they accepted (Dexcom sends the null UUID until then). */
  subscriberId: string | undefined;
  displayName: string | undefined;
  state: number;
  permissions: number;
  isEnabled: boolean;
  isMonitoringSessionActive: boolean;
  created: Date | undefined;
  modified: Date | undefined;
  inviteExpires: Date | undefined;
}

/** One alert of an invitation, in Dexcom's field names. */
export interface AlertSetting {
  MinValue: number;
  MaxValue: number;
  /** ISO-8601 duration, e.g. `PT30M`. */
  AlarmDelay: string;
  RealarmDelay: string;
  AlertType: number;
  IsEnabled: boolean;
  Sound: string;
}

export interface AlertSettings {
  HighAlert: AlertSetting;
  LowAlert: AlertSetting;
  FixedLowAlert: AlertSetting;
  NoDataAlert: AlertSetting;
}

/** The alerts Dexcom's own uploader app sends with an invitation: only urgent low is on. */
export function defaultAlertSettings(): AlertSettings {
  const alert = (
    AlertType: number,
    MinValue: number,
    MaxValue: number,
    AlarmDelay: string,
    RealarmDelay: string,
    Sound: string,
    IsEnabled: boolean,
  ): AlertSetting => ({ MinValue, MaxValue, AlarmDelay, RealarmDelay, AlertType, IsEnabled, Sound });
  return {
    HighAlert: alert(1, 200, 401, 'PT1H', 'PT2H', 'High.wav', false),
    LowAlert: alert(2, 39, 70, 'PT30M', 'PT2H', 'Low.wav', false),
    FixedLowAlert: alert(3, 39, 55, 'PT0M', 'PT30M', 'UrgentLow.wav', true),
    NoDataAlert: alert(4, 39, 401, 'PT1H', 'PT0M', 'NoData.wav', false),
  };
}

export interface InviteOptions {
  /** The contact's name in the publisher's list. */
  name: string;
  email: string;
  /** The name the follower sees for the publisher; default the contact name. */
  displayName?: string;
  /** 1 = may view the graph (the only value Dexcom's app sends). */
  permissions?: number;
  /** Each alert may be changed in part; the rest keeps the defaults. */
  alerts?: { [K in keyof AlertSettings]?: Partial<AlertSetting> };
}

export interface InviteResult {
  contactId: string;
  /** What CreateSubscriptionInvitation answered (the invitation's id). */
  invitationId: string;
}

const EMAIL =
  /^[^\s@<>()[\],;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const DURATION = /^PT(?:\d+H)?(?:\d+M)?(?:\d+S)?$/;
const CONTACT_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * The publisher's followers: list, check a name, invite (create a contact, then an invitation with
 * alert settings), remove. Names and addresses are checked before any request.
 */
export class DexcomFollowers {
  private readonly client: DexcomClient;

  constructor(client: DexcomClient) {
    this.client = client;
  }

  async list(): Promise<Follower[]> {
    const response = await this.client.call(ENDPOINTS.listSubscriptions);
    const records = parseBody(subscriptionsSchema, response.json, `Dexcom ${ENDPOINTS.listSubscriptions}`);
    return records.map(toFollower);
  }

  async contactExists(name: string): Promise<boolean> {
    const contactName = checkName(name, 'contact name');
    const response = await this.client.call(ENDPOINTS.contactExists, { query: { contactName } });
    return booleanAnswer(response, `Dexcom ${ENDPOINTS.contactExists}`);
  }

  /**
   * Invites someone: creates the contact (name and e-mail address), then the invitation with its
   * alert settings; Dexcom e-mails it. A name that is already a contact is refused (CONFIG) before
   * anything is sent: Dexcom would send the invitation to the address that contact was created with,
   * which it never shows, so a new address given here would silently not be used. A contact created
   * here whose invitation then fails is deleted again, so trying again starts clean.
   */
  async invite(options: InviteOptions): Promise<InviteResult> {
    const contactName = checkName(options.name, 'contact name');
    const email = checkEmail(options.email);
    const displayName = checkName(options.displayName ?? contactName, 'display name');
    const permissions = options.permissions ?? 1;
    if (!Number.isInteger(permissions) || permissions < 1 || permissions > 255) {
      throw new CgmError('CONFIG', 'permissions must be a whole number (1 = view the graph)');
    }
    const AlertSettings = mergeAlerts(options.alerts);

    const existing = (await this.list()).find((f) => sameName(f.contactName, contactName));
    if (existing || (await this.contactExists(contactName))) {
      const name = existing?.contactName ?? contactName;
      throw new CgmError('CONFIG', `"${name}" is already a contact of this Dexcom account`, {
        hint:
          `Dexcom sends invitations to the address "${name}" was created with (it never shows which), ` +
          'not to the one given now: remove the contact first and invite again, or choose another name',
        detail: { contact: name },
      });
    }
    const created = await this.client.call(ENDPOINTS.createContact, {
      query: { contactName, emailAddress: email },
      retry: false,
    });
    const contactId = textAnswer(created, `Dexcom ${ENDPOINTS.createContact}`);
    this.client.redactor.add(email);
    try {
      const invitation = await this.client.call(ENDPOINTS.createInvitation, {
        query: { contactId },
        body: { AlertSettings, Permissions: permissions, DisplayName: displayName },
        retry: false,
      });
      return { contactId, invitationId: textAnswer(invitation, `Dexcom ${ENDPOINTS.createInvitation}`) };
    } catch (error) {
      // Without its invitation the new contact would block the next attempt under this name.
      await this.delete(contactId).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Removes a follower (the contact and its invitation or subscription), named by contact name (exact,
   * else one case-insensitive match) or contact id. One that does not exist is NOT_FOUND naming the
   * contacts that do; nothing is deleted then.
   */
  async remove(nameOrId: string): Promise<Follower> {
    const wanted = nameOrId.trim();
    if (wanted === '') throw new CgmError('CONFIG', 'name the follower to remove (its name or contact id)');
    const list = await this.list();
    const byId = list.filter((f) => f.contactId === wanted);
    const exact = list.filter((f) => f.contactName === wanted);
    const loose = list.filter((f) => sameName(f.contactName, wanted));
    const found = byId.length === 1 ? byId : exact.length > 0 ? exact : loose;
    if (found.length !== 1) {
      const names = list.map((f) => `"${f.contactName}"`).join(', ');
      const why = found.length > 1 ? 'is more than one contact' : 'is not a contact of this Dexcom account';
      throw new CgmError('NOT_FOUND', `"${wanted}" ${why}`, {
        hint:
          list.length === 0
            ? 'this account has no followers or contacts'
            : found.length > 1
              ? `give the contact id instead (contacts: ${names})`
              : `the contacts are: ${names}`,
        detail: { contacts: list.map((f) => f.contactName).join('\n') },
      });
    }
    const follower = found[0]!;
    await this.delete(follower.contactId);
    return follower;
  }

  private async delete(contactId: string): Promise<void> {
    if (!CONTACT_ID.test(contactId)) {
      throw new CgmError('PROTOCOL', 'Dexcom gave a contact id that is not letters, digits and dashes');
    }
    await this.client.call(ENDPOINTS.deleteContact, { query: { contactId }, retry: false });
  }
}

/** Contact names compared as a person would: case and surrounding spaces do not make another name. */
function sameName(a: string, b: string): boolean {
  return a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();
}

function toFollower(record: SubscriptionRecord): Follower {
  const optional = (value: string | null | undefined) =>
    value === null || value === undefined || value === '' || value === NULL_UUID ? undefined : value;
  const date = (value: SubscriptionRecord['DateTimeCreated']) =>
    value ? new Date(value.DateTime.ms) : undefined;
  return {
    contactId: record.ContactId,
    contactName: record.ContactName,
    subscriptionId: optional(record.SubscriptionId),
    subscriberId: optional(record.SubscriberId),
    displayName: optional(record.DisplayName),
    state: record.State,
    permissions: record.Permissions,
    isEnabled: record.IsEnabled,
    isMonitoringSessionActive: record.IsMonitoringSessionActive,
    created: date(record.DateTimeCreated),
    modified: date(record.DateTimeModified),
    inviteExpires: date(record.InviteExpires),
  };
}

export function checkName(name: string, what: string): string {
  const trimmed = name.trim();
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (trimmed.length === 0 || trimmed.length > 64 || /[\u0000-\u001f\u007f<>]/.test(trimmed)) {
    throw new CgmError('CONFIG', `the ${what} must be 1–64 characters, without < > or control characters`);
  }
  return trimmed;
}

export function checkEmail(email: string): string {
  const trimmed = email.trim();
  if (trimmed.length > 254 || !EMAIL.test(trimmed)) {
    throw new CgmError('CONFIG', 'that is not a valid e-mail address', {
      hint: 'give the follower’s address like name@example.com',
    });
  }
  return trimmed;
}

function mergeAlerts(overrides: InviteOptions['alerts'] = {}): AlertSettings {
  const settings = defaultAlertSettings();
  for (const key of Object.keys(settings) as (keyof AlertSettings)[]) {
    const merged: AlertSetting = { ...settings[key], ...overrides[key] };
    const { MinValue, MaxValue } = merged;
    const inRange = (v: number) => Number.isInteger(v) && v >= 39 && v <= 401;
    if (!inRange(MinValue) || !inRange(MaxValue) || MinValue > MaxValue) {
      throw new CgmError('CONFIG', `${key}: values must be whole mg/dL from 39 to 401, min ≤ max`);
    }
    if (!DURATION.test(merged.AlarmDelay) || !DURATION.test(merged.RealarmDelay)) {
      throw new CgmError('CONFIG', `${key}: delays are ISO-8601 durations like PT30M`);
    }
    settings[key] = merged;
  }
  return settings;
}
