import { z } from 'zod';
import { CgmError } from '../src/model/errors';
import type { Follower, InviteOptions } from '../src/providers/dexcom/followers';
import type { Account } from './lib/account';
import { onAccountInput } from './lib/host';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './lib/types';

const ACTIONS = ['list', 'invite', 'remove'] as const;
type Action = (typeof ACTIONS)[number];

const alertSchema = z
  .object({
    MinValue: z.number(),
    MaxValue: z.number(),
    AlarmDelay: z.string(),
    RealarmDelay: z.string(),
    IsEnabled: z.boolean(),
    Sound: z.string(),
  })
  .partial();
const requestSchema = z.object({
  action: z.string().optional(),
  name: z.string().optional(),
  email: z.string().optional(),
  displayName: z.string().optional(),
  contactId: z.string().optional(),
  alerts: z
    .object({
      HighAlert: alertSchema,
      LowAlert: alertSchema,
      FixedLowAlert: alertSchema,
      NoDataAlert: alertSchema,
    })
    .partial()
    .optional(),
});
type FollowersRequest = z.infer<typeof requestSchema>;

const followerJson = (f: Follower) => ({
  ...f,
  created: f.created?.toISOString(),
  modified: f.modified?.toISOString(),
  inviteExpires: f.inviteExpires?.toISOString(),
});

/** cgm-followers: Dexcom followers (list, invite, remove); LibreLinkUp: the patients followed. */
export = function register(RED: NodeAPI): void {
  function CgmFollowersNode(this: Node, def: NodeDef & { account?: string; action?: string }): void {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: NodeDef & { account?: string; action?: string }): void {
    onAccountInput(RED, node, 'cgm-followers', def.account, async (account, msg, send) => {
      const request = parseRequest(msg);
      const action = request.action ?? def.action ?? 'list';
      if (!ACTIONS.includes(action as Action)) {
        throw new CgmError('CONFIG', RED._('cgm-followers.errors.unknown-action'));
      }
      msg.payload = await run(account, action as Action, request);
      msg.topic = action;
      const count = Array.isArray(msg.payload) ? ` ${msg.payload.length}` : '';
      node.status({ fill: 'green', shape: 'dot', text: `${action}${count}` });
      send(msg);
    });
  }

  function parseRequest(msg: NodeMessage): FollowersRequest {
    if (msg.payload === null || typeof msg.payload !== 'object') return {};
    const parsed = requestSchema.safeParse(msg.payload);
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.join('.') ?? 'payload';
      throw new CgmError('CONFIG', `${RED._('cgm-followers.errors.unknown-action')} (${field})`);
    }
    return parsed.data;
  }

  async function run(account: Account, action: Action, request: FollowersRequest): Promise<unknown> {
    const unsupported = RED._('cgm-followers.errors.unsupported');
    if (account.provider !== 'dexcom') {
      // LibreLinkUp: the connections are the patients this account follows; nothing else exists there.
      if (account.provider === 'librelinkup' && action === 'list') return (await account.source()).subjects();
      throw new CgmError('CONFIG', `${unsupported} (${account.provider}: ${action})`);
    }
    const followers = await account.followers(unsupported);
    const need = (value: string | undefined, field: string): string => {
      if (!value) throw new CgmError('CONFIG', `${RED._('cgm-followers.errors.missing')}: ${field}`);
      return value;
    };
    switch (action) {
      case 'list':
        return (await followers.list()).map(followerJson);
      case 'invite': {
        const options: InviteOptions = {
          name: need(request.name, 'name'),
          email: need(request.email, 'email'),
        };
        if (request.displayName) options.displayName = request.displayName;
        if (request.alerts) options.alerts = request.alerts;
        return followers.invite(options);
      }
      case 'remove': {
        // By name as the list shows it, or by contact id; an unknown one is NOT_FOUND naming who exists.
        const removed = await followers.remove(need(request.contactId ?? request.name, 'name'));
        return { removed: removed.contactId, name: removed.contactName };
      }
    }
  }
  RED.nodes.registerType('cgm-followers', CgmFollowersNode);
};
