// The bridge's worker with a bounded heap: the limit reaches V8, running out of it is one clear line
// and status 2, and the real `glucobridge bridge` says which limit it runs under.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEFAULT_MAX_HEAP_MIB, maxHeapMiB, runWithBoundedHeap } from '../../src/bridge/cli/bounded-heap';
import { runCli } from '../cli/helpers';
import { ROOT, startProcess } from '../process';
import { until } from '../until';

const FIXTURE = join(__dirname, 'fixtures', 'heap-worker.js');
const CLI = join(ROOT, 'dist', 'src', 'bridge', 'cli.js');
const MIB = 1024 * 1024;

function collect(): {
  stdout: string;
  stderr: string;
  io: { stdout(t: string): void; stderr(t: string): void };
} {
  const out = { stdout: '', stderr: '' };
  return Object.assign(out, {
    io: { stdout: (t: string) => (out.stdout += t), stderr: (t: string) => (out.stderr += t) },
  });
}

describe('the bridge runs with a bounded heap', function () {
  this.timeout(30_000);

  it('reads --max-heap from the arguments, else the default', () => {
    expect(maxHeapMiB(['bridge'])).to.equal(DEFAULT_MAX_HEAP_MIB);
    expect(maxHeapMiB(['bridge', '--max-heap', '256'])).to.equal(256);
    expect(maxHeapMiB(['bridge', '--max-heap=300', '--demo'])).to.equal(300);
    // Out of range or not a number: the default here; the bridge's option check reports it.
    expect(maxHeapMiB(['bridge', '--max-heap', '10'])).to.equal(DEFAULT_MAX_HEAP_MIB);
    expect(maxHeapMiB(['bridge', '--max-heap', 'lots'])).to.equal(DEFAULT_MAX_HEAP_MIB);
  });

  it('gives V8 the limit and passes the exit status on', async () => {
    const run = collect();
    const code = await runWithBoundedHeap(FIXTURE, ['report'], 96, run.io);
    expect(code).to.equal(3);
    const limit = Number(/heap limit (\d+)/.exec(run.stdout)?.[1]);
    // The old generation's 96 MiB plus the young generation; nowhere near a default limit (GiBs).
    expect(limit).to.be.within(96 * MIB, 160 * MIB);
  });

  it('running out of heap is one line naming the limit and --max-heap, status 2', async () => {
    const run = collect();
    const code = await runWithBoundedHeap(FIXTURE, ['grow'], 64, run.io);
    expect(code).to.equal(2);
    expect(run.stderr).to.equal(
      'SERVER: the bridge used up its 64 MiB heap and stopped; start it again with a larger --max-heap\n',
    );
  });

  it('refuses a --max-heap outside 64–65536 MiB with the usage', async () => {
    const run = await runCli(['bridge', '--max-heap', '10'], {});
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/^usage: --max-heap must be a whole number of MiB, 64–65536\n/);
  });

  it('glucobridge bridge says its limit, runs and stops on SIGTERM with status 0', async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
    const proc = startProcess([
      CLI,
      'bridge',
      '--demo',
      '--broker-port',
      '0',
      '--http',
      'off',
      '--max-heap',
      '200',
    ]);
    try {
      await until(
        () => `a first reading:\n${proc.output()}`,
        () => / mg\/dL /.test(proc.output()),
        20_000,
        20,
      );
      expect(proc.output()).to.include("memory: the bridge's heap is limited to 200 MiB (--max-heap)");
      proc.child.kill('SIGTERM');
      expect(await proc.exited, proc.output()).to.equal(0);
      expect(proc.output()).to.include('stopping: publishing offline and closing sessions');
    } finally {
      await proc.stop();
    }
  });
});
