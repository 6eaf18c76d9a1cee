// The package as users get it: `npm pack`, installed offline into a fresh Node-RED user directory,
// then a real Node-RED started on it must list our five node types through its admin API.
import { expect } from 'chai';
import { freePort } from '../net';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const TYPES = ['cgm-account', 'cgm-login', 'cgm-read-glucose', 'cgm-followers', 'cgm-upload'];

interface NodeSet {
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

/** GET /nodes until Node-RED answers (it needs a few seconds to start). */
async function nodeSets(port: number, child: ChildProcess, log: () => string): Promise<NodeSet[]> {
  for (let i = 0; i < 150; i += 1) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited (${child.exitCode}):\n${log()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/nodes`, { headers: { Accept: 'application/json' } });
      if (res.ok) return (await res.json()) as NodeSet[];
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Node-RED did not answer on ${port}:\n${log()}`);
}

describe('the packed package in a fresh Node-RED', function () {
  this.timeout(240_000);
  let work: string;
  let child: ChildProcess | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'glucobridge-pack-'));
  });

  after(() => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });

  it('installs offline and Node-RED registers our five node types', async () => {
    // `npm pack` runs the prepare script, so this is the build users get.
    await run('npm', ['pack', '--pack-destination', work], { cwd: ROOT, maxBuffer: 20_000_000 });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tarball, 'npm pack made a tarball').to.be.a('string');

    const userDir = join(work, 'user');
    await run('mkdir', ['-p', userDir]);
    writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(work, tarball!)], {
      cwd: userDir,
      maxBuffer: 20_000_000,
    });
    const installed = readdirSync(join(userDir, 'node_modules'));
    // Host packages must not come along with ours (Homebridge's verified check fails otherwise).
    expect(installed).to.not.include.members(['node-red', 'homebridge', 'hap-nodejs']);

    const port = await freePort();
    let output = '';
    child = spawn(
      process.execPath,
      [join(ROOT, 'node_modules', 'node-red', 'red.js'), '-u', userDir, '-p', String(port)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

    const sets = (await nodeSets(port, child, () => output)).filter((s) =>
      s.module.startsWith('@glucobridge/'),
    );
    expect(sets.flatMap((s) => s.types).sort()).to.deep.equal([...TYPES].sort());
    for (const set of sets) {
      expect(set.enabled, set.module).to.equal(true);
      expect(set.err, `${set.module}: ${set.err}`).to.equal(undefined);
    }
    // The examples ship with it and Node-RED offers them under Import > Examples.
    const examples = await fetch(
      `http://127.0.0.1:${port}/library/examples/flows/@glucobridge/homebridge-glucobridge`,
      { headers: { Accept: 'application/json' } },
    );
    expect(examples.status).to.equal(200);
    const listed = ((await examples.json()) as { fn: string }[]).map((e) => e.fn);
    expect(listed).to.include.members(['Home Assistant via MQTT', 'Relay LibreLinkUp to Dexcom Share']);
  });
});
