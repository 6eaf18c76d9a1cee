// What the follower tests share: a state folder, the followers and state files a test made, and the
// fake clock, all undone after each test (each file keeps its own simulator).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type sinon from 'sinon';
import { FileStateStore } from '../../src/follow/file-store';
import type { AccountFollower } from '../../src/follow/follower';
import { silentLogger } from '../../src/model/logger';

const realSetTimeout = setTimeout;

/** Lets loopback I/O run while the fake clock stands still. */
export const settle = (ms = 30) => new Promise((resolve) => realSetTimeout(resolve, ms));

export interface FollowerTestbed {
  /** A fresh folder for the test's state files. */
  readonly dir: string;
  /** The test's fake clock, when it installs one (restored after the test). */
  clock: sinon.SinonFakeTimers | undefined;
  /** Stops `follower` after the test. */
  track<T extends AccountFollower>(follower: T): T;
  /** A state file in the test's folder, written out before the folder goes. */
  fileStore(file: string): FileStateStore;
  /** Advances the fake clock in steps, letting the loopback exchanges of each step finish. */
  advance(ms: number, step?: number): Promise<void>;
}

/** Registers the hooks in the calling `describe`; define it before the hooks that close the simulator. */
export function useFollowerTestbed(dirPrefix: string): FollowerTestbed {
  const followers: AccountFollower[] = [];
  const stores: FileStateStore[] = [];
  let dir = '';
  const bed: FollowerTestbed = {
    get dir() {
      return dir;
    },
    clock: undefined,
    track(follower) {
      followers.push(follower);
      return follower;
    },
    fileStore(file) {
      const store = new FileStateStore(file, silentLogger);
      stores.push(store);
      return store;
    },
    async advance(ms, step = 10_000) {
      for (let passed = 0; passed < ms; passed += step) {
        await bed.clock!.tickAsync(Math.min(step, ms - passed));
        await settle(15);
      }
    },
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), dirPrefix));
  });
  afterEach(async () => {
    await Promise.all(followers.splice(0).map((f) => f.stop()));
    bed.clock?.restore();
    bed.clock = undefined;
    await Promise.all(stores.splice(0).map((s) => s.flush()));
    rmSync(dir, { recursive: true, force: true });
  });
  return bed;
}
