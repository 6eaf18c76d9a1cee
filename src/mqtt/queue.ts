import type { MqttMessage } from './topics';

/**
 * A unit of work for the sender: messages that belong together (a reading's state, value and trend),
 * or a re-synchronisation with the broker after a connection starts.
 */
export type Job =
  | {
      type: 'messages';
      messages: MqttMessage[];
      /** Readings and measurements may be dropped when the queue is full; control messages never. */
      droppable: boolean;
      /** Only the newest job with the same tag is worth sending (stale flag, problem). */
      tag?: string;
      /** The subject the job belongs to, so removing the subject can drop its pending data. */
      key?: string;
      /** Index of the next message to send: a job cut by a disconnect resumes where it stopped. */
      next: number;
    }
  | { type: 'sync' };

export interface PushResult {
  /** Droppable jobs removed to stay within the limit. */
  dropped: number;
}

/** A FIFO of jobs, bounded in droppable jobs, with the head pinned while it is being sent. */
export class JobQueue {
  private jobs: Job[] = [];
  private headBusy = false;

  constructor(private readonly limit: number) {}

  get length(): number {
    return this.jobs.length;
  }

  /** Droppable jobs waiting: the readings and measurements not yet on the broker. */
  get pendingData(): number {
    return this.jobs.filter((j) => j.type === 'messages' && j.droppable).length;
  }

  push(job: Job): PushResult {
    if (job.type === 'messages' && job.tag !== undefined) {
      // A newer stale flag or problem supersedes one not yet sent.
      this.jobs = this.jobs.filter(
        (j, i) => !(j.type === 'messages' && j.tag === job.tag && !this.pinned(i)),
      );
    }
    if (job.type === 'sync' && this.jobs.some((j, i) => j.type === 'sync' && !this.pinned(i)))
      return { dropped: 0 };
    this.jobs.push(job);
    let dropped = 0;
    while (this.pendingData > this.limit) {
      const index = this.jobs.findIndex((j, i) => j.type === 'messages' && j.droppable && !this.pinned(i));
      if (index < 0) break;
      this.jobs.splice(index, 1);
      dropped += 1;
    }
    return { dropped };
  }

  /** Puts a job before everything else (the sync that starts each connection). */
  pushFront(job: Job): void {
    if (this.headBusy) this.jobs.splice(1, 0, job);
    else this.jobs.unshift(job);
  }

  /** The job to work on; it stays in the queue (pinned) until `done`. */
  take(): Job | undefined {
    const head = this.jobs[0];
    if (head) this.headBusy = true;
    return head;
  }

  /** The head is finished (or abandoned): remove it. */
  done(): void {
    if (this.headBusy) this.jobs.shift();
    this.headBusy = false;
  }

  /** The head stays for the next connection (it was cut by a disconnect). */
  release(): void {
    this.headBusy = false;
  }

  /** Removes the pending data of a subject; the head being sent is left to finish. */
  dropKey(key: string): number {
    const before = this.jobs.length;
    this.jobs = this.jobs.filter((j, i) => this.pinned(i) || !(j.type === 'messages' && j.key === key));
    return before - this.jobs.length;
  }

  /** Drops every pending sync (a connection ended before it could run). */
  dropSyncs(): void {
    this.jobs = this.jobs.filter((j, i) => this.pinned(i) || j.type !== 'sync');
  }

  private pinned(index: number): boolean {
    return index === 0 && this.headBusy;
  }
}
