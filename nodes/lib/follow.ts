import type { CgmError } from '../../src/model/errors';
import type { GlucoseReading } from '../../src/model/reading';
import { Poller, type StaleInfo } from '../../src/poller';
import type { Account } from './account';
import { nodeLogger } from './host';
import { within } from './within';
import { failBackground, readingStatus, staleStatus } from './status';
import type { Node } from './types';

/** How long a close waits for a poll in flight before leaving it to finish on its own. */
const STOP_WAIT_MS = 3_000;

export interface FollowHandlers {
  reading(reading: GlucoseReading): void;
  stale?(info: StaleInfo): void;
  staleText: string;
}

export interface Following {
  /** Polls now (an input message, a push notification); never rejects. */
  pollNow(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Poll mode: one core Poller over the account's shared source. Its events become status and
 * messages; its errors reach Catch nodes through node.error; nothing it does can reject unhandled.
 */
export function follow(
  node: Node<unknown>,
  account: Account,
  options: { subject?: string; staleMinutes: number },
  handlers: FollowHandlers,
): Following {
  let poller: Poller | undefined;
  let stopped = false;
  node.status({ fill: 'grey', shape: 'ring', text: account.provider });
  const onPush = (): void => void poller?.pollNow();
  const onProblem = (error: CgmError): void => void failBackground(node, error);
  account.on('push', onPush);
  account.on('problem', onProblem);

  const ready = account
    .source()
    .then((source) => {
      if (stopped) return;
      poller = new Poller(source, {
        ...(options.subject === undefined ? {} : { subject: options.subject }),
        staleMinutes: options.staleMinutes,
        logger: nodeLogger(node),
      });
      poller.on('reading', (reading) => {
        if (stopped) return; // a request that finished after the node closed
        node.status(readingStatus(reading, account.unit));
        handlers.reading(reading);
      });
      const current = poller;
      poller.on('stale', (info) => {
        if (stopped) return;
        // While the cloud fails, its error code (red) says more than "stale" would.
        if (!current.lastError) node.status(staleStatus(info.last, account.unit, handlers.staleText));
        handlers.stale?.(info);
      });
      poller.on('error', (error: CgmError) => {
        if (!stopped) failBackground(node, error);
      });
      // `halted` repeats the last error; it is already on the status and at the Catch nodes.
      poller.start();
    })
    .catch((thrown: unknown) => {
      if (!stopped) failBackground(node, thrown);
    });

  return {
    async pollNow() {
      await ready;
      try {
        await poller?.pollNow();
      } catch (thrown) {
        failBackground(node, thrown);
      }
    },
    async stop() {
      stopped = true;
      account.off('push', onPush);
      account.off('problem', onProblem);
      await within(
        ready.then(() => poller?.stop()),
        STOP_WAIT_MS,
      );
    },
  };
}
