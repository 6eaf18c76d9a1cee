// VitaDock Online facts in one place (reference/vitadock.md §0–§4).

/** Production server: auth under /auth, data under /data, the consent pages at the root. */
export const VITADOCK_SERVER = 'https://cloud.vitadock.com';

/** Every data module the client reads, by its path below /data. */
export const VITADOCK_DATA_MODULES = [
  'glucodockglucoses',
  'glucodockinsulins',
  'glucodockmeals',
  'cardiodocks',
  'targetscales',
  'thermodocks',
  'activitydocks',
  'tracker/activity',
  'tracker/stats',
] as const;
export type VitaDockDataModule = (typeof VITADOCK_DATA_MODULES)[number];

/** The glucose module: its records become GlucoseReadings rather than Measurements. */
export const GLUCOSE_MODULE = 'glucodockglucoses' satisfies VitaDockDataModule;

/**
 * Push `module_id` values: 0–5 are documented (seed 003); the rest are the indexes of Medisana's
 * sample module list, which the server may or may not use. -1 means the user revoked the access.
 */
export const MODULE_BY_PUSH_ID: Readonly<Record<number, VitaDockDataModule>> = {
  0: 'cardiodocks',
  1: 'glucodockglucoses',
  2: 'glucodockinsulins',
  3: 'glucodockmeals',
  4: 'targetscales',
  5: 'thermodocks',
  6: 'activitydocks',
  7: 'tracker/activity',
  31: 'tracker/stats',
};
export const REVOKED_PUSH_ID = -1;

export function pushIdOf(module: VitaDockDataModule): number | undefined {
  for (const [id, name] of Object.entries(MODULE_BY_PUSH_ID)) if (name === module) return Number(id);
  return undefined;
}

/** The largest page Medisana's samples ask for ("the max objects … is 100"). */
export const PAGE_SIZE = 100;
/** The largest answer accepted: a page of 100 records is a few tens of KB. */
export const MAX_ANSWER_BYTES = 2 * 1024 * 1024;
/** A stop for a server that ignores `start` and keeps sending full pages. */
export const MAX_PAGES = 200;

/** Readings re-read before the sync cursor: `date_since` may compare strictly, clocks may differ. */
export const SYNC_OVERLAP_MS = 60_000;

export const MINUTE_MS = 60_000;
export const DAY_MS = 24 * 60 * MINUTE_MS;

export const REAUTHORISE_HINT =
  'authorise GlucoBridge again in VitaDock Online (glucobridge vitadock authorize) and store the new tokens';
