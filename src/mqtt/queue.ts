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
      /** Index of the next message to publish: a job cut by a disconnect resumes at its first unacknowledged one. */
      next: number;
      /** Which messages the broker acknowledged (a resumed job skips them). */
      acked?: boolean[];
      /**
       * Sent only once everything before it is acknowledged and no sync runs (`offline` at stop:
       * nothing may overtake it, on a broker that handles pipelined messages in parallel either).
       */
      settled?: boolean;
    }
  | { type: 'sync' };

export interface PushResult {
  /** Droppable jobs removed to stay within the limit. */
  dropped: number;
}

function isData(job: Job): boolean {
  return job.type === 'messages' && job.droppable;
}

/**
 * A FIFO of jobs, bounded in droppable jobs. Several jobs may be taken (being sent) at once, always
 * in queue order; a taken job is never superseded, dropped or overtaken by a later one.
 */
export class JobQueue {
  private jobs: Job[] = [];
  private readonly taken = new Set<Job>();
  /** Droppable jobs in `jobs`, kept as they come and go (counting them is on every push). */
  private data = 0;

  constructor(private readonly limit: number) {}

  get length(): number {
    return this.jobs.length;
  }

  /** Droppable jobs waiting: the readings and measurements not yet on the broker. */
  get pendingData(): number {
    return this.data;
  }

  push(job: Job): PushResult {
    if (job.type === 'messages' && job.tag !== undefined) {
      // A newer stale flag or problem supersedes one not yet sent.
      this.keep((j) => !(j.type === 'messages' && j.tag === job.tag && !this.taken.has(j)));
    }
    if (job.type === 'sync' && this.jobs.some((j) => j.type === 'sync' && !this.taken.has(j)))
      return { dropped: 0 };
    this.jobs.push(job);
    if (isData(job)) this.data += 1;
    let dropped = 0;
    while (this.data > this.limit) {
      const index = this.jobs.findIndex((j) => isData(j) && !this.taken.has(j));
      if (index < 0) break;
      this.jobs.splice(index, 1);
      this.data -= 1;
      dropped += 1;
    }
    return { dropped };
  }

  /** Puts a job before everything not yet taken (the sync that starts each connection, its plan). */
  pushFront(job: Job): void {
    let index = 0;
    while (index < this.jobs.length && this.taken.has(this.jobs[index]!)) index += 1;
    this.jobs.splice(index, 0, job);
  }

  /** The next job not taken yet, left waiting. */
  peek(): Job | undefined {
    return this.jobs.find((j) => !this.taken.has(j));
  }

  /** The next job not taken yet; it stays in the queue (taken) until `done` or `release`. */
  take(): Job | undefined {
    const job = this.jobs.find((j) => !this.taken.has(j));
    if (job) this.taken.add(job);
    return job;
  }

  /** A taken job is finished: remove it (without argument, the oldest taken one). */
  done(job?: Job): void {
    const target = job ?? this.jobs.find((j) => this.taken.has(j));
    if (!target || !this.taken.delete(target)) return;
    const index = this.jobs.indexOf(target);
    if (index < 0) return;
    this.jobs.splice(index, 1);
    if (isData(target)) this.data -= 1;
  }

  /**
   * Taken jobs go back to waiting (a disconnect cut them; without argument, all of them). A job of
   * messages resumes at its first message the broker did not acknowledge.
   */
  release(job?: Job): void {
    const targets = job ? [job] : [...this.taken];
    for (const target of targets) {
      this.taken.delete(target);
      if (target.type !== 'messages') continue;
      const firstUnacked = target.messages.findIndex((_, i) => target.acked?.[i] !== true);
      target.next = firstUnacked < 0 ? target.messages.length : firstUnacked;
    }
  }

  /** Removes the pending data of a subject; jobs being sent are left to finish. */
  dropKey(key: string): number {
    return this.keep((j) => this.taken.has(j) || !(j.type === 'messages' && j.key === key));
  }

  /** Drops every pending sync (a connection ended before it could run). */
  dropSyncs(): void {
    this.keep((j) => this.taken.has(j) || j.type !== 'sync');
  }

  /** Keeps the jobs `wanted` says yes to; returns how many went. */
  private keep(wanted: (job: Job) => boolean): number {
    const before = this.jobs.length;
    this.jobs = this.jobs.filter(wanted);
    this.data = this.jobs.filter(isData).length;
    return before - this.jobs.length;
  }
}
