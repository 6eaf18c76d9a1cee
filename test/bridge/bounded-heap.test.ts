// The bridge's worker with a bounded heap: the limit reaches V8, running out of it is one clear line
// and status 3, and the real `glucobridge bridge` says which limit it runs under and stops once however
// many signals come.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { chooseHeapLimit, DEFAULT_MAX_HEAP_MIB, runWithBoundedHeap } from '../../src/bridge/cli/bounded-heap';
import { EXIT_OUT_OF_HEAP } from '../../src/bridge/cli/io';
import { runCli } from '../cli/helpers';
import { ROOT, startProcess } from '../process';
import { until } from '../until';

const FIXTURE = join(__dirname, 'fixtures', 'heap-worker.js');
const CLI = join(ROOT, 'dist', 'src', 'bridge', 'cli.js');
const HEAP_MODULE = join(ROOT, 'dist', 'src', 'bridge', 'cli', 'bounded-heap.js');
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

  it("takes --max-heap, else node's --max-old-space-size, else the default", () => {
    const mib = (argv: string[], node: string[] = []) => chooseHeapLimit(argv, node).mib;
    expect(chooseHeapLimit(['bridge'], [])).to.deep.equal({
      mib: DEFAULT_MAX_HEAP_MIB,
      from: 'the default; --max-heap changes it',
    });
    expect(mib(['bridge', '--max-heap', '256'])).to.equal(256);
    expect(mib(['bridge', '--max-heap=300', '--demo'])).to.equal(300);
    // As users raised the limit before: NODE_OPTIONS or node's own command line.
    expect(chooseHeapLimit(['bridge'], ['', '--max-old-space-size=2048'])).to.deep.equal({
      mib: 2048,
      from: "node's --max-old-space-size",
    });
    expect(mib(['bridge'], ['--max-old-space-size 1024'])).to.equal(1024);
    expect(mib(['bridge', '--max-heap', '300'], ['--max-old-space-size=2048'])).to.equal(300);
    // Not a whole number of MiB in range: the default here; the bridge's option check reports it.
    for (const bad of ['10', 'lots', '1e3', '0x100', '256.0', ''])
      expect(mib(['bridge', '--max-heap', bad]), bad).to.equal(DEFAULT_MAX_HEAP_MIB);
    // Without its value; and the last one counts, as in the bridge's own option check.
    expect(mib(['bridge', '--max-heap'])).to.equal(DEFAULT_MAX_HEAP_MIB);
    expect(mib(['bridge', '--max-heap', '256', '--config', 'x.json', '--max-heap=300'])).to.equal(300);
  });

  it('gives V8 the limit and passes the exit status on', async () => {
    const run = collect();
    const code = await runWithBoundedHeap(FIXTURE, ['report'], { mib: 96, from: 'test' }, run.io);
    expect(code).to.equal(3);
    const limit = Number(/heap limit (\d+)/.exec(run.stdout)?.[1]);
    // The old generation's 96 MiB plus the young generation; nowhere near a default limit (GiBs).
    expect(limit).to.be.within(96 * MIB, 160 * MIB);
  });

  it('running out of heap is one line naming the limit and --max-heap, status 3', async () => {
    const run = collect();
    const code = await runWithBoundedHeap(FIXTURE, ['grow'], { mib: 64, from: 'test' }, run.io);
    expect(code).to.equal(EXIT_OUT_OF_HEAP).and.to.equal(3);
    expect(run.stderr).to.equal(
      'SERVER: the bridge used up its 64 MiB heap and stopped; start it again with a larger --max-heap\n',
    );
  });

  it('a second signal while the bridge stops is not a kill: one stop request, status 0', async () => {
    if (!existsSync(HEAP_MODULE)) throw new Error(`${HEAP_MODULE} is missing: run npm run build`);
    const script = [
      `const { runWithBoundedHeap } = require(${JSON.stringify(HEAP_MODULE)});`,
      `const io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };`,
      `runWithBoundedHeap(${JSON.stringify(FIXTURE)}, ['linger'], { mib: 96, from: 'test' }, io)`,
      `  .then((code) => process.exit(code));`,
    ].join('\n');
    const proc = startProcess(['-e', script]);
    try {
      await until(
        () => `the worker:\n${proc.output()}`,
        () => /heap limit/.test(proc.output()),
        10_000,
        10,
      );
      proc.child.kill('SIGTERM');
      // The worker takes a second to stop; meanwhile the process is signalled again, as `timeout` does.
      await new Promise((resolve) => setTimeout(resolve, 200));
      proc.child.kill('SIGTERM');
      proc.child.kill('SIGINT');
      expect(await proc.exited, proc.output()).to.equal(0);
      expect(proc.output()).to.include('stopped after 1 stop request(s)');
    } finally {
      await proc.stop();
    }
  });

  it('refuses a --max-heap that is not a whole number of MiB in 64–65536, with the usage', async () => {
    for (const bad of ['10', '65537', '1e3', '256.0']) {
      const run = await runCli(['bridge', `--max-heap=${bad}`], {});
      expect(run.code, bad).to.equal(2);
      expect(run.stderr, bad).to.match(/^usage: --max-heap must be a whole number of MiB, 64–65536\n/);
    }
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
      // One stop request, however many signals: `timeout` signals the process and its group.
      proc.child.kill('SIGTERM');
      proc.child.kill('SIGTERM');
      proc.child.kill('SIGINT');
      expect(await proc.exited, proc.output()).to.equal(0);
      expect(proc.output()).to.include('stopping: publishing offline and closing sessions');
    } finally {
      await proc.stop();
    }
  });
});
