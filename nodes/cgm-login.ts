import { onAccountInput } from './lib/host';
import type { Node, NodeAPI, NodeDef } from './lib/types';

/** cgm-login: logs in (or confirms the session) and tells who can be read. */
export = function register(RED: NodeAPI): void {
  function CgmLoginNode(this: Node, def: NodeDef & { account?: string }): void {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: NodeDef & { account?: string }): void {
    onAccountInput(RED, node, 'cgm-login', def.account, async (account, msg, send) => {
      const info = await account.login();
      msg.payload = { provider: info.provider, region: info.region, subjects: info.subjects };
      msg.topic = info.provider;
      node.status({ fill: 'green', shape: 'dot', text: `${info.provider} ${info.region}`.trim() });
      send(msg);
    });
  }
  RED.nodes.registerType('cgm-login', CgmLoginNode);
};
