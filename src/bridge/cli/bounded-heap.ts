// `glucobridge bridge` runs in a worker thread whose JavaScript heap has a limit. The larger the
// limit, the further V8 lets a heap grow between full collections: with a server's default of several
// GiB, up to about four times what is live (measured: 245 MiB of old space before the collection that
// left 47). A thousand accounts starting at once (logins, first readings, a day of history each, the
// parsed histories pretenured into the old generation) pushed the process to about 370 MiB for about
// 50 MiB of live data; with 512 MiB and a 16 MiB young generation the same start peaks near 180 MiB.
// The limit is also a promise: a bridge that would eat the machine stops with a clear message instead,
// for its service manager to start it again.
import { isMainThread, parentPort, resourceLimits, Worker, workerData } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import type { CliIo } from './io';
import { EXIT_FAILURE, EXIT_OUT_OF_HEAP } from './io';

/** The bridge's heap limit (MiB) unless `--max-heap` says otherwise: several times what 1000 accounts keep live. */
export const DEFAULT_MAX_HEAP_MIB = 512;
/**
 * The young generation (MiB), where objects that die within a few requests are collected. V8's default
 * (48 MiB) holds more of a start burst's garbage at once; measured at 1000 accounts with a 512 MiB heap,
 * the peak was 195 MiB with it, 180 MiB with 24 and 178 MiB with 16.
 */
const YOUNG_GENERATION_MIB = 16;
export const MAX_HEAP_RANGE = { min: 64, max: 65_536 } as const;

/** What the main thread sends the worker when the process is asked to stop (SIGINT, SIGTERM). */
const STOP = 'stop';

/** The bridge's output, one ordered channel for both streams (two relayed streams could swap lines). */
interface OutputMessage {
  stream: 'stdout' | 'stderr';
  text: string;
}

function isOutputMessage(value: unknown): value is OutputMessage {
  if (typeof value !== 'object' || value === null) return false;
  const { stream, text } = value as Record<string, unknown>;
  return (stream === 'stdout' || stream === 'stderr') && typeof text === 'string';
}

/** The limit the bridge runs with and where it came from (said in the bridge's first lines). */
export interface HeapLimit {
  mib: number;
  from: string;
}

/**
 * The heap limit: `--max-heap MiB` (or `--max-heap=MiB`) from the bridge's arguments, else a
 * `--max-old-space-size` given to node (on its command line or in NODE_OPTIONS, as users raised the
 * limit before the bridge had its own option), else the default. A `--max-heap` that is not a whole
 * number in range counts as absent here; the bridge's own option check then reports it.
 */
export function chooseHeapLimit(argv: readonly string[], nodeOptions: readonly string[]): HeapLimit {
  // Node's parser, as the bridge's own check reads it; here only this option, the others left alone.
  const { values } = parseArgs({
    args: [...argv],
    options: { 'max-heap': { type: 'string' } },
    strict: false,
    allowPositionals: true,
  });
  const text = values['max-heap'];
  if (typeof text === 'string' && validMaxHeap(text)) return { mib: Number(text), from: '--max-heap' };
  const node = /--max-old-space-size[= ](\d+)/.exec(nodeOptions.join(' '))?.[1];
  if (node !== undefined && validMaxHeap(node))
    return { mib: Number(node), from: "node's --max-old-space-size" };
  return { mib: DEFAULT_MAX_HEAP_MIB, from: 'the default; --max-heap changes it' };
}

/** A whole number of MiB in `MAX_HEAP_RANGE`, written in digits. */
export function validMaxHeap(text: string): boolean {
  const value = Number(text);
  return /^\d+$/.test(text) && value >= MAX_HEAP_RANGE.min && value <= MAX_HEAP_RANGE.max;
}

/** True in the worker this module started (its stop request comes as a message, not a signal). */
export function inBridgeWorker(): boolean {
  return !isMainThread && parentPort !== null;
}

/** The heap limit this worker was given, or undefined outside the bridge's worker. */
export function workerHeapLimit(): HeapLimit | undefined {
  if (!inBridgeWorker()) return undefined;
  const from = (workerData as { heapLimitFrom?: unknown } | null)?.heapLimitFrom;
  return { mib: resourceLimits.maxOldGenerationSizeMb ?? 0, from: typeof from === 'string' ? from : '' };
}

/** In the worker: the bridge's output, sent to the main thread in order. */
export function relayOutput(stream: OutputMessage['stream'], text: string): void {
  parentPort?.postMessage({ stream, text } satisfies OutputMessage);
}

/** Resolves when the main thread passes on a stop request. */
export function stopRequested(): Promise<void> {
  return new Promise<void>((resolve) => {
    parentPort?.on('message', (message) => {
      if (message === STOP) resolve();
    });
  });
}

/**
 * Runs `script` (the CLI itself) in a worker with a heap of at most `limit.mib`, passes SIGINT and
 * SIGTERM on as one stop request (a second signal, as `timeout` sends to the process and its group,
 * changes nothing: the bridge stops within about 5 s) and resolves with the worker's exit status. The
 * worker's output goes to `io`. Running out of heap is reported in one line (exit status 3).
 */
export function runWithBoundedHeap(
  script: string,
  argv: string[],
  limit: HeapLimit,
  io: Pick<CliIo, 'stdout' | 'stderr'>,
): Promise<number> {
  const worker = new Worker(script, {
    argv,
    workerData: { heapLimitFrom: limit.from },
    // What the worker writes to process.stdout itself (not through its io) still reaches `io`.
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: limit.mib, maxYoungGenerationSizeMb: YOUNG_GENERATION_MIB },
  });
  worker.stdout.setEncoding('utf8').on('data', (text: string) => io.stdout(text));
  worker.stderr.setEncoding('utf8').on('data', (text: string) => io.stderr(text));
  worker.on('message', (message: unknown) => {
    if (isOutputMessage(message)) io[message.stream](message.text);
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    worker.postMessage(STOP);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return new Promise<number>((resolve) => {
    let failed: number | undefined;
    worker.on('error', (error: Error & { code?: string }) => {
      const outOfHeap = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      failed = outOfHeap ? EXIT_OUT_OF_HEAP : EXIT_FAILURE;
      io.stderr(
        outOfHeap
          ? `SERVER: the bridge used up its ${limit.mib} MiB heap and stopped; start it again with a larger --max-heap\n`
          : `SERVER: ${error.message}\n`,
      );
    });
    worker.on('exit', (code) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(failed ?? code);
    });
  });
}
