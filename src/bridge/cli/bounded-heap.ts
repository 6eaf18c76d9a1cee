// `glucobridge bridge` runs in a worker thread whose JavaScript heap has a limit. V8 sizes how far it
// lets the heap grow between full collections by that limit: without one (several GiB on a server) it
// lets a heap grow to four times what is live, so a thousand accounts starting at once (their logins,
// first readings and a day of history each) pushed the process to about 370 MiB for about 50 MiB of
// live data; with 512 MiB (and a 16 MiB young generation) the same start peaks near 180 MiB. The limit is also a promise: a bridge
// that would eat the machine stops with a clear message instead, and its service manager starts it.
import { isMainThread, parentPort, resourceLimits, Worker } from 'node:worker_threads';
import type { CliIo } from './io';
import { EXIT_FAILURE } from './io';

/** The bridge's heap limit (MiB) unless `--max-heap` says otherwise: several times what 1000 accounts keep live. */
export const DEFAULT_MAX_HEAP_MIB = 512;
/**
 * The young generation (MiB), where objects that die within a few requests are collected. V8's default
 * (48 MiB) holds more of a start burst's garbage at once; measured at 1000 accounts with a 512 MiB heap,
 * the peak was 195 MiB with it, 180 MiB with 24 and 178 MiB with 16.
 */
const YOUNG_GENERATION_MIB = 16;
export const MAX_HEAP_RANGE = { min: 64, max: 65_536 } as const;

/** Message the main thread sends the worker when the process is asked to stop (SIGINT, SIGTERM). */
const STOP = 'stop';

/**
 * `--max-heap MiB` (or `--max-heap=MiB`) from the bridge's arguments; the default when absent or not
 * a whole number in range (the bridge's own option check then reports the mistake).
 */
export function maxHeapMiB(argv: readonly string[]): number {
  let text: string | undefined;
  argv.forEach((arg, index) => {
    if (arg === '--max-heap') text = argv[index + 1];
    else if (arg.startsWith('--max-heap=')) text = arg.slice('--max-heap='.length);
  });
  const value = Number(text);
  return text !== undefined && validMaxHeap(value) ? value : DEFAULT_MAX_HEAP_MIB;
}

export function validMaxHeap(value: number): boolean {
  return Number.isInteger(value) && value >= MAX_HEAP_RANGE.min && value <= MAX_HEAP_RANGE.max;
}

/** True in the worker this module started (its stop request comes as a message, not a signal). */
export function inBridgeWorker(): boolean {
  return !isMainThread && parentPort !== null;
}

/** The heap limit (MiB) this worker was given, or undefined outside the bridge's worker. */
export function workerHeapLimitMiB(): number | undefined {
  return inBridgeWorker() ? resourceLimits.maxOldGenerationSizeMb : undefined;
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
 * Runs `script` (the CLI itself) in a worker with a heap of at most `maxHeapMib`, passes SIGINT and
 * SIGTERM on as a stop request and resolves with the worker's exit status. The worker's output goes to
 * `io`. Running out of heap is reported in one line (exit status 2).
 */
export function runWithBoundedHeap(
  script: string,
  argv: string[],
  maxHeapMib: number,
  io: Pick<CliIo, 'stdout' | 'stderr'>,
): Promise<number> {
  const worker = new Worker(script, {
    argv,
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMib, maxYoungGenerationSizeMb: YOUNG_GENERATION_MIB },
  });
  worker.stdout.setEncoding('utf8').on('data', (text: string) => io.stdout(text));
  worker.stderr.setEncoding('utf8').on('data', (text: string) => io.stderr(text));
  const stop = () => worker.postMessage(STOP);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<number>((resolve) => {
    let failed = false;
    worker.on('error', (error: Error & { code?: string }) => {
      failed = true;
      io.stderr(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `SERVER: the bridge used up its ${maxHeapMib} MiB heap and stopped; start it again with a larger --max-heap\n`
          : `SERVER: ${error.message}\n`,
      );
    });
    worker.on('exit', (code) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(failed ? EXIT_FAILURE : code);
    });
  });
}
