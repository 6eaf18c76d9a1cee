import { CgmError } from '../../src/model/errors';
import type { Account } from './account';

/** Placeholder until the VitaDock client lands: non-glucose modules. */
export function readModule(
  _account: Account,
  module: string,
  _mode: string,
  _minutes: number,
): Promise<unknown> {
  return Promise.reject(new CgmError('CONFIG', `module ${module} is not available yet`));
}
