import { DexcomClient } from '../../providers/dexcom/client';
import { DexcomFollowers, type Follower, type InviteOptions } from '../../providers/dexcom/followers';
import { dexcomConfigFromCli } from './upload';
import { parseOptions, UsageError, type CliIo } from './io';

export const FOLLOWERS_USAGE = `glucobridge followers list [--json]
glucobridge followers invite --name NAME --email ADDRESS [--display-name N] [--low 70] [--high 200]
                             [--urgent-low 55] [--no-data]
glucobridge followers remove --name NAME | --contact CONTACT_ID
  invite: NAME must not be a contact yet (Dexcom would invite the address that contact was created
    with): remove it first, or choose another name
  remove: the follower's name as \`followers list\` shows it (or its contact id)
  every form takes [--region us|ous|jp] [--server URL]; credentials from GLUCOBRIDGE_USERNAME,
  GLUCOBRIDGE_PASSWORD (or GLUCOBRIDGE_ACCOUNT_ID)
`;

const OPTIONS = {
  region: { type: 'string' },
  server: { type: 'string' },
  json: { type: 'boolean' },
  name: { type: 'string' },
  email: { type: 'string' },
  'display-name': { type: 'string' },
  low: { type: 'string' },
  high: { type: 'string' },
  'urgent-low': { type: 'string' },
  'no-data': { type: 'boolean' },
  contact: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `glucobridge followers list|invite|remove`: who follows this Dexcom account. */
export async function followersCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(argv, OPTIONS, FOLLOWERS_USAGE);
  const [action, ...extra] = positionals;
  if (values.help) {
    io.stdout(FOLLOWERS_USAGE);
    return 0;
  }
  if (action === undefined || extra.length > 0 || !['list', 'invite', 'remove'].includes(action)) {
    throw new UsageError(`followers needs list, invite or remove\n${FOLLOWERS_USAGE}`);
  }
  const invite = action === 'invite' ? inviteOptions(values) : undefined;
  if (action === 'remove' && !values.contact === !values.name)
    throw new UsageError(`give --name or --contact\n${FOLLOWERS_USAGE}`);
  const client = new DexcomClient(dexcomConfigFromCli(values, io.env));
  const followers = new DexcomFollowers(client);
  try {
    if (invite) {
      const result = await followers.invite(invite);
      io.stdout(
        `invited ${invite.name} at ${invite.email} (contact ${result.contactId}); Dexcom e-mails the invitation\n`,
      );
    } else if (action === 'remove') {
      const removed = await followers.remove(values.contact ?? values.name ?? '');
      io.stdout(`removed ${removed.contactName} (contact ${removed.contactId})\n`);
    } else {
      const list = await followers.list();
      io.stdout(values.json ? `${JSON.stringify(list.map(followerJson), null, 2)}\n` : table(list));
    }
    return 0;
  } finally {
    await client.close();
  }
}

function inviteOptions(values: {
  name?: string;
  email?: string;
  'display-name'?: string;
  low?: string;
  high?: string;
  'urgent-low'?: string;
  'no-data'?: boolean;
}): InviteOptions {
  if (!values.name || !values.email)
    throw new UsageError(`--name and --email are required\n${FOLLOWERS_USAGE}`);
  const alerts: NonNullable<InviteOptions['alerts']> = {};
  // A threshold given on the command line also switches that alert on.
  if (values.low !== undefined) alerts.LowAlert = { MaxValue: mgdl(values.low, '--low'), IsEnabled: true };
  if (values.high !== undefined)
    alerts.HighAlert = { MinValue: mgdl(values.high, '--high'), IsEnabled: true };
  if (values['urgent-low'] !== undefined) {
    alerts.FixedLowAlert = { MaxValue: mgdl(values['urgent-low'], '--urgent-low'), IsEnabled: true };
  }
  if (values['no-data']) alerts.NoDataAlert = { IsEnabled: true };
  return {
    name: values.name,
    email: values.email,
    ...(values['display-name'] === undefined ? {} : { displayName: values['display-name'] }),
    alerts,
  };
}

function mgdl(text: string, option: string): number {
  if (!/^\d{2,3}$/.test(text)) throw new UsageError(`${option} takes a whole mg/dL value, e.g. 70`);
  return Number(text);
}

function followerJson(f: Follower): Record<string, unknown> {
  return {
    contactId: f.contactId,
    contactName: f.contactName,
    subscriptionId: f.subscriptionId ?? null,
    displayName: f.displayName ?? null,
    state: f.state,
    permissions: f.permissions,
    isEnabled: f.isEnabled,
    isMonitoringSessionActive: f.isMonitoringSessionActive,
    created: f.created?.toISOString() ?? null,
    inviteExpires: f.inviteExpires?.toISOString() ?? null,
  };
}

function table(list: Follower[]): string {
  if (list.length === 0) return 'no followers\n';
  return `${list
    .map((f) => {
      const status = f.isEnabled ? 'following' : f.subscriptionId ? 'invited' : 'contact only';
      const expires =
        f.inviteExpires && !f.isEnabled ? `, invite expires ${f.inviteExpires.toISOString()}` : '';
      return `${f.contactName}  ${status}${expires}  (contact ${f.contactId})`;
    })
    .join('\n')}\n`;
}
