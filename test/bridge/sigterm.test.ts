// Issue 17, failure 4: the built `glucobridge bridge` as a process, stopped with SIGTERM while its login
// hangs (the simulator holds the request). It must exit 0 within 5 s, not wait out the request timeout.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEXCOM_DEMO_ACCOUNTS, DexcomSimulator } from '../../src/simulator/dexcom';
import { Simulator } from '../../src/simulator/server';
import { ROOT, startProcess } from '../process';
import { until } from '../until';

const CLI = join(ROOT, 'dist', 'src', 'bridge', 'cli.js');
const ACCOUNT = DEXCOM_DEMO_ACCOUNTS[0]!;

describe('glucobridge bridge stops on SIGTERM while a login hangs', function () {
  this.timeout(20_000);
  let sim: Simulator;
  let child: ChildProcess | undefined;

  before(function () {
    // `npm test` builds dist/ first (pretest); a lone run of this file needs `npm run build`.
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  });
  beforeEach(async () => {
    sim = new Simulator({ providers: [new DexcomSimulator()] });
    await sim.listen();
  });
  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    child = undefined;
    await sim.close();
  });

  it('exits 0 within 5 s (the request timeout is 15 s)', async () => {
    sim.faults.add({ kind: 'timeout', provider: 'dexcom', path: 'Authenticate', times: Infinity });
    const dir = mkdtempSync(join(tmpdir(), 'gb-sigterm-'));
    const config = join(dir, 'glucobridge.json');
    writeFileSync(
      config,
      JSON.stringify({
        stateFile: join(dir, 'state.json'),
        accounts: [
          {
            name: 'Anna',
            provider: 'dexcom',
            server: `${sim.urlFor('dexcom')}/${ACCOUNT.region}`,
            region: ACCOUNT.region,
            username: ACCOUNT.username,
            password: ACCOUNT.password,
          },
        ],
      }),
    );
    const proc = startProcess([CLI, 'bridge', '--config', config, '--broker-port', '0']);
    child = proc.child;
    await until(
      () => `a login:\n${proc.output()}`,
      () => {
        if (proc.child.exitCode !== null) throw new Error(`no login was sent:\n${proc.output()}`);
        return sim.requests('Authenticate').length > 0;
      },
      10_000,
      20,
    );
    const signalled = Date.now();
    proc.child.kill('SIGTERM');
    const code = await proc.exited;
    const took = Date.now() - signalled;
    expect(code, proc.output()).to.equal(0);
    expect(took, proc.output()).to.be.below(5_000);
    expect(proc.output()).to.not.include(ACCOUNT.password);
  });
});
