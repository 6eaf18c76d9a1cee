import { silentLogger, type Logger } from '../model/logger';
import type { UploadPositions } from '../providers/upload-positions';
import type { AccountStore } from './account-state';

export type { UploadPositions };

/** A position this far ahead of the clock came from a wrong clock: it would stop every upload. */
const FUTURE_LIMIT_MS = 86_400_000;

/**
 * The upload positions in an account's state store (section `uploads`). Each write reads the section
 * first, so positions other uploaders keep there (a Nightscout site) are left as they are. A store
 * that fails costs only the memory of the position, never the upload.
 */
export function uploadPositions(store: AccountStore, logger: Logger = silentLogger): UploadPositions {
  let writes: Promise<void> = Promise.resolve();
  return {
    async get(destination) {
      try {
        const time = (await store.load()).uploads?.[destination];
        if (time === undefined) return undefined;
        if (time > Date.now() + FUTURE_LIMIT_MS) {
          logger.warn(`the stored upload position ${new Date(time).toISOString()} is in the future; ignored`);
          return undefined;
        }
        return time;
      } catch (error) {
        logger.warn(
          `the upload position cannot be read: ${error instanceof Error ? error.message : 'error'}`,
        );
        return undefined;
      }
    },
    set(destination, time) {
      // One write after the other: a later position is never overwritten by an earlier one.
      writes = writes.then(async () => {
        try {
          const uploads = (await store.load()).uploads ?? {};
          const stored = uploads[destination];
          if (stored !== undefined && stored >= time && stored <= Date.now() + FUTURE_LIMIT_MS) return;
          store.save({ uploads: { ...uploads, [destination]: time } });
        } catch (error) {
          logger.warn(
            `the upload position cannot be stored: ${error instanceof Error ? error.message : 'error'}`,
          );
        }
      });
      return writes;
    },
  };
}
