import type { AccountFollower } from '../../src/follow/follower';
import type { SubjectState } from '../../src/follow/subject-state';
import { toCgmError, type CgmError } from '../../src/model/errors';
import type { GlucoseReading } from '../../src/model/reading';
import type { Account } from './account';
import { within } from '../../src/within';
import { failBackground, readingStatus, staleStatus } from './status';
import type { Node } from './types';

/** How long a close waits for a poll in flight before leaving it to finish on its own. */
const STOP_WAIT_MS = 3_000;

export interface FollowHandlers {
  reading(reading: GlucoseReading, subject: SubjectState): void;
  /** The person's stale flag or problem changed (for a Home Assistant output). */
  status?(subject: SubjectState): void;
  staleText: string;
}

export interface Following {
  /** Polls now (an input message); resolves with the person's problem after it, if any. Never rejects. */
  pollNow(): Promise<CgmError | undefined>;
  /** The person followed, once known. */
  readonly subject: SubjectState | undefined;
  stop(): Promise<void>;
}

/**
 * Poll mode: the node watches one person of its account's follower (the follower polls them once for
 * every node that watches). Readings become status and messages; a new problem reaches Catch nodes once
 * through node.error; nothing here can reject unhandled.
 */
export function follow(
  node: Node<unknown>,
  account: Account,
  options: { subject?: string; staleMinutes: number },
  handlers: FollowHandlers,
): Following {
  let subject: SubjectState | undefined;
  let follower: AccountFollower | undefined;
  let release: (() => void) | undefined;
  let stopped = false;
  /** While an input message is handled, its own `done` reports the failure (with the message). */
  let quiet = false;
  node.status({ fill: 'grey', shape: 'ring', text: account.provider });

  const show = (state: SubjectState): void => {
    const problem = state.problem;
    if (problem) {
      if (!quiet) failBackground(node, problem);
    } else if (state.stale) node.status(staleStatus(state.last, account.unit, handlers.staleText));
    else if (state.last) node.status(readingStatus(state.last, account.unit));
  };
  const onReading = (state: SubjectState, reading: GlucoseReading): void => {
    if (stopped || state !== subject) return;
    node.status(readingStatus(reading, account.unit));
    handlers.reading(reading, state);
  };
  const onStatus = (state: SubjectState): void => {
    if (stopped || state !== subject) return;
    show(state);
    handlers.status?.(state);
  };
  /** Finds the person (after the follower's discovery); returns why not, to be shown by the caller. */
  const attach = async (): Promise<CgmError | undefined> => {
    if (stopped || subject || !follower) return undefined;
    try {
      const found = await follower.resolve(options.subject);
      if (stopped || subject) return undefined;
      subject = found;
      release = follower.watch(found.id, { staleMinutes: options.staleMinutes });
      show(found);
      return undefined;
    } catch (thrown) {
      return toCgmError(thrown);
    }
  };
  /** A person not found yet is looked for again whenever the follower finds people. */
  const onSubject = (): void => {
    void attach().then((error) => {
      if (error && !stopped) failBackground(node, error);
    });
  };
  const onPush = (): void => void (subject && follower?.pollNow(subject.id));
  const onProblem = (error: CgmError): void => void failBackground(node, error);
  account.on('push', onPush);
  account.on('problem', onProblem);

  const ready = account
    .follower()
    .then(async (opened) => {
      if (stopped) return;
      follower = opened;
      opened.on('reading', onReading);
      opened.on('status', onStatus);
      opened.on('subject', onSubject);
      const error = await attach();
      if (error && !stopped) failBackground(node, error);
    })
    .catch((thrown: unknown) => {
      if (!stopped) failBackground(node, thrown);
    });

  return {
    get subject() {
      return subject;
    },
    async pollNow() {
      await ready;
      const missing = subject ? undefined : await attach();
      if (!subject || !follower) return missing ?? follower?.problem;
      quiet = true;
      try {
        await follower.pollNow(subject.id);
      } finally {
        quiet = false;
      }
      return subject.problem;
    },
    async stop() {
      stopped = true;
      release?.();
      account.off('push', onPush);
      account.off('problem', onProblem);
      follower?.off('reading', onReading);
      follower?.off('status', onStatus);
      follower?.off('subject', onSubject);
      await within(ready, STOP_WAIT_MS);
    },
  };
}
