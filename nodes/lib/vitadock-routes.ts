import type { Account } from './account';
import type { NodeAPI } from './types';

/** Placeholder until the VitaDock client lands. */
export function registerVitaDockRoutes(_RED: NodeAPI): void {}

export function servePush(_RED: NodeAPI, _account: Account): () => void {
  return () => undefined;
}
