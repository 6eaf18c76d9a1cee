/**
 * Where an uploader keeps how far each destination got: epoch ms of the last reading the destination
 * accepted, by a destination key (`dexcom:<receiver serial>`). Uploaders take this interface; hosts
 * hand them `uploadPositions(store)` (`src/follow/upload-positions.ts`) over their account's state
 * store, so a restart or a redeploy sends only what is new.
 */
export interface UploadPositions {
  get(destination: string): Promise<number | undefined>;
  /** Resolves when the position is in the store (which writes it to disk or context on its own). */
  set(destination: string, time: number): Promise<void>;
}
