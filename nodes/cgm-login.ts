import { CgmError } from '../src/model/errors';
import { findAccount } from './lib/host';
import { errorStatus, failInput, guardInput } from './lib/status';
import type { Node, NodeAPI, NodeDef } from './lib/types';

/** cgm-login: logs in (or confirms the session) and tells who can be read. */
export = function register(RED: NodeAPI): void {
  function CgmLoginNode(this: Node, def: NodeDef & { account?: string }): void {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: NodeDef & { account?: string }): void {
    const account = findAccount(RED, 'cgm-login', def.account);
    if (account instanceof CgmError) {
      node.status(errorStatus(account));
      node.on('input', (_msg, _send, done) => void failInput(node, account, done));
      return;
    }
    node.on('input', (msg, send, done) => {
      guardInput(node, done, async () => {
        const info = await account.login();
        msg.payload = { provider: info.provider, region: info.region, subjects: info.subjects };
        msg.topic = info.provider;
        node.status({ fill: 'green', shape: 'dot', text: `${info.provider} ${info.region}`.trim() });
        send(msg);
        done();
      });
    });
  }
  RED.nodes.registerType('cgm-login', CgmLoginNode);
};
