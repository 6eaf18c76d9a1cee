// The package as users get it: `npm pack`, installed offline into a fresh Node-RED user directory,
// then a real Node-RED started on it must list our five node types through its admin API.
// Offline means from this checkout alone: the runtime dependencies are copied from its node_modules into
// the fresh directory first, so npm finds every one of them installed and asks no registry (an npm cache
// that lacks one, as on a clean machine, does not matter).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, startNodeRed, type NodeRed } from './harness';

const run = promisify(execFile);
const TYPES = [
  'cgm-account',
  'cgm-login',
  'cgm-read-glucose',
  'cgm-followers',
  'cgm-upload',
  'cgm-nightscout',
];

interface NodeSet {
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

/** Copies the runtime dependency tree of this checkout (`npm ls --omit=dev`) into `target/node_modules`. */
async function copyRuntimeDependencies(target: string): Promise<number> {
  const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: ROOT,
    maxBuffer: 20_000_000,
  });
  const modules = join(ROOT, 'node_modules');
  // Top-level packages only: a nested node_modules comes along inside its parent.
  const top = stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith(modules + sep))
    .map((line) => relative(modules, line))
    .filter((rel) => !rel.split(sep).includes('node_modules'));
  for (const rel of top) cpSync(join(modules, rel), join(target, 'node_modules', rel), { recursive: true });
  return top.length;
}

describe('the packed package in a fresh Node-RED', function () {
  this.timeout(240_000);
  let work: string;
  let nodeRed: NodeRed | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'glucobridge-pack-'));
  });

  after(async () => {
    await nodeRed?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('installs offline and Node-RED registers our six node types', async () => {
    // `npm pack` builds (prepack), so this is the build users get.
    await run('npm', ['pack', '--pack-destination', work], { cwd: ROOT, maxBuffer: 20_000_000 });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tarball, 'npm pack made a tarball').to.be.a('string');
    expect(readFileSync(join(ROOT, 'package.json'), 'utf8'), 'the checkout keeps its prepare').to.contain(
      '"prepare"',
    );

    const userDir = join(work, 'user');
    await run('mkdir', ['-p', userDir]);
    writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    expect(await copyRuntimeDependencies(userDir)).to.be.greaterThan(3);
    const install = await run(
      'npm',
      ['install', '--offline', '--no-audit', '--no-fund', '--loglevel', 'warn', join(work, tarball!)],
      { cwd: userDir, maxBuffer: 20_000_000 },
    );
    // No lifecycle script of ours for npm to warn about: dist/ comes built, `prepare` stays in git.
    const said = install.stdout + install.stderr;
    expect(said).not.to.match(/prepare|install scripts/i);
    const ours = join(userDir, 'node_modules', '@glucobridge', 'homebridge-glucobridge');
    const manifest = JSON.parse(readFileSync(join(ours, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts).not.to.have.any.keys('prepare', 'preinstall', 'install', 'postinstall');
    expect(existsSync(join(ours, 'dist', 'nodes', 'cgm-account.js'))).to.equal(true);
    expect(readFileSync(join(ours, 'LICENSE'), 'utf8')).to.match(/^MIT License[\s\S]*GlucoBridge developers/);
    const installed = readdirSync(join(userDir, 'node_modules'));
    // Host packages must not come along with ours (Homebridge's verified check fails otherwise).
    expect(installed).to.not.include.members(['node-red', 'homebridge', 'hap-nodejs']);

    nodeRed = await startNodeRed(userDir);
    const nodes = await fetch(`${nodeRed.url}nodes`, { headers: { Accept: 'application/json' } });
    const sets = ((await nodes.json()) as NodeSet[]).filter((s) => s.module.startsWith('@glucobridge/'));
    expect(sets.flatMap((s) => s.types).sort()).to.deep.equal([...TYPES].sort());
    for (const set of sets) {
      expect(set.enabled, set.module).to.equal(true);
      expect(set.err, `${set.module}: ${set.err}`).to.equal(undefined);
    }
    // The examples ship with it and Node-RED offers them under Import > Examples.
    const examples = await fetch(`${nodeRed.url}library/examples/flows/@glucobridge/homebridge-glucobridge`, {
      headers: { Accept: 'application/json' },
    });
    expect(examples.status).to.equal(200);
    const listed = ((await examples.json()) as { fn: string }[]).map((e) => e.fn);
    expect(listed).to.include.members([
      'Home Assistant via MQTT',
      'Relay LibreLinkUp to Dexcom Share',
      'Relay to Nightscout',
    ]);
  });
});
