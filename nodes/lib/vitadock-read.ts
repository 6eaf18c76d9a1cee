import { CgmError } from '../../src/model/errors';
import { VitaDockClient } from '../../src/providers/vitadock/client';
import { measurementToJson } from '../../src/providers/vitadock/modules';
import type { Account } from './account';

/** How far back "latest" looks for a weight, blood pressure, …: people measure these rarely. */
const LATEST_WINDOW_MINUTES = 30 * 24 * 60;

/**
 * VitaDock's non-glucose modules (CardioDock, TargetScale, ThermoDock, …): the newest measurement,
 * or those of the last `minutes`, as JSON with ISO times.
 */
export async function readModule(
  account: Account,
  module: string,
  mode: string,
  minutes: number,
): Promise<unknown> {
  const source = await account.source();
  if (!(source instanceof VitaDockClient)) throw new CgmError('CONFIG', `${module} is a VitaDock module`);
  if (mode === 'history') {
    return (await source.measurements({ module, minutes })).map(measurementToJson);
  }
  const all = await source.measurements({ module, minutes: LATEST_WINDOW_MINUTES });
  const newest = all[all.length - 1];
  if (!newest) throw new CgmError('NO_DATA', `VitaDock ${module}: no measurement in the last 30 days`);
  return measurementToJson(newest);
}
