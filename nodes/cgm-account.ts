import { toCgmError } from '../src/model/errors';
import {
  Account,
  CREDENTIAL_TYPES,
  parseAccountProps,
  sessionSecret,
  type AccountCredentials,
} from './lib/account';
import { ACCOUNT_KEY, nodeLogger, sessionContextStore } from './lib/host';
import { ContextStateStore } from './lib/state-store';
import type { Node, NodeAPI, NodeDef } from './lib/types';
import { registerVitaDockRoutes, servePush } from './lib/vitadock-routes';

type AccountNode = Node<AccountCredentials> & Record<string, unknown>;

/** cgm-account: the config node. Wiring only; the Account class owns the source and its session. */
export = function register(RED: NodeAPI): void {
  function CgmAccountNode(this: AccountNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const credentials: AccountCredentials = this.credentials ?? {};
    let account: Account;
    try {
      const props = parseAccountProps(def);
      const logger = nodeLogger(this);
      const store = new ContextStateStore(
        this.id,
        this.context(),
        sessionSecret(props, credentials),
        sessionContextStore(RED.settings),
        logger,
      );
      account = new Account(this.id, props, credentials, { logger, store });
    } catch (thrown) {
      // Users find this error through findAccount and show it on their own status.
      this[`glucobridgeError`] = toCgmError(thrown);
      return;
    }
    this[ACCOUNT_KEY] = account;
    const unroute = account.provider === 'vitadock' ? servePush(RED, account) : () => undefined;
    this.on('close', (_removed, done) => {
      unroute();
      account.close().then(
        () => done(),
        () => done(),
      );
    });
  }
  RED.nodes.registerType('cgm-account', CgmAccountNode, {
    credentials: CREDENTIAL_TYPES,
    settings: { cgmAccountSessionStore: { value: '', exportable: false } },
  });
  registerVitaDockRoutes(RED);
};
