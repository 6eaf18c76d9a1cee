import { CgmError } from '../../src/model/errors';
import type { Logger } from '../../src/model/logger';
import { Account } from './account';
import { guardInput, refuseInput } from './status';
import type { Node, NodeAPI, NodeMessage, NodeSend } from './types';

/**
 * The core's logger on top of a node's own log methods (the core redacts before it logs). Every core
 * error also reaches the node as an event or a rejection, which the status funnel reports once (a Catch
 * message, or one [error] line with code and hint, see `failBackground`); the core's own error lines
 * ("polling stopped: …") would say it a second time in other words, so they are debug lines here.
 */
export function nodeLogger(node: Node<unknown>): Logger {
  return {
    debug: (message) => node.debug(message),
    info: (message) => node.log(message),
    warn: (message) => node.warn(message),
    error: (message) => node.debug(message),
  };
}

/** The runtime account a config node carries, under a property no Node-RED field uses. */
export const ACCOUNT_KEY = 'glucobridgeAccount';

/**
 * The account a node's `account` property names, or a CONFIG error saying what is missing
 * (`type` picks the calling node's message catalog).
 */
export function findAccount(RED: NodeAPI, type: string, id: unknown): Account | CgmError {
  const node = typeof id === 'string' && id !== '' ? RED.nodes.getNode(id) : null;
  if (node === null || typeof node !== 'object') {
    return new CgmError('CONFIG', RED._(`${type}.errors.no-account`));
  }
  const account = (node as Record<string, unknown>)[ACCOUNT_KEY];
  if (account instanceof Account) return account;
  const failure = (node as Record<string, unknown>).glucobridgeError;
  return failure instanceof CgmError ? failure : new CgmError('CONFIG', RED._(`${type}.errors.no-account`));
}

/**
 * Wires a node that acts on its account for each input message: `handle` does the work and sends;
 * `done` follows, and any failure reaches the status and Catch nodes. Without a usable account the
 * node shows why and fails every input.
 */
export function onAccountInput(
  RED: NodeAPI,
  node: Node,
  type: string,
  accountId: unknown,
  handle: (account: Account, msg: NodeMessage, send: NodeSend) => Promise<void>,
): void {
  const account = findAccount(RED, type, accountId);
  if (account instanceof CgmError) {
    refuseInput(node, account);
    return;
  }
  node.on('input', (msg, send, done) => {
    guardInput(node, done, async () => {
      await handle(account, msg, send);
      done();
    });
  });
}

/**
 * The context store the sealed session goes to: the `cgmAccountSessionStore` setting, else the first
 * file-backed store in `contextStorage` (so sessions survive restarts), else the default store.
 */
export function sessionContextStore(settings: Record<string, unknown>): string | undefined {
  const explicit = settings.cgmAccountSessionStore;
  if (typeof explicit === 'string' && explicit !== '') return explicit;
  const storage = settings.contextStorage;
  if (storage === null || typeof storage !== 'object') return undefined;
  for (const [name, store] of Object.entries(storage as Record<string, unknown>)) {
    if (
      store !== null &&
      typeof store === 'object' &&
      (store as { module?: unknown }).module === 'localfilesystem'
    ) {
      return name;
    }
  }
  return undefined;
}
