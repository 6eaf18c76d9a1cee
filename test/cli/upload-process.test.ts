// Issue 11: the built `glucobridge upload` as a process, run twice with the same readings, as a cron
// job or a user would. The second run must post nothing and say how many it skipped.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEXCOM_DEMO_ACCOUNTS, DexcomSimulator } from '../../src/simulator/dexcom';
import { Simulator } from '../../src/simulator/server';
import { tracePoint } from '../../src/simulator/trace';
import { childEnv } from '../net';
import { ROOT, runProcess, type ProcessRun } from '../process';

const CLI = join(ROOT, 'dist', 'src', 'bridge', 'cli.js');
const ACCOUNT = DEXCOM_DEMO_ACCOUNTS[0]!;
const MINUTE = 60_000;

/** The built `glucobridge <args>` in `cwd`, with the account's login in its environment. */
function run(args: string[], stdin: string, cwd: string): Promise<ProcessRun> {
  const env = childEnv({ GLUCOBRIDGE_USERNAME: ACCOUNT.username, GLUCOBRIDGE_PASSWORD: ACCOUNT.password });
  return runProcess([CLI, ...args], { cwd, env, stdin });
}

/** An hour of a 1-minute sensor (LibreLinkUp's pace), as `glucobridge read --json` prints readings. */
function hourOfMinutes(): string {
  const last = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
  const readings = Array.from({ length: 60 }, (_, i) => {
    const time = last - (59 - i) * MINUTE;
    const point = tracePoint('process', time, 'steady');
    return { time: new Date(time).toISOString(), mgdl: point.mgdl, trend: point.trend };
  });
  return JSON.stringify(readings);
}

describe('glucobridge upload as a process', function () {
  this.timeout(30_000);
  let sim: Simulator;
  let dexcom: DexcomSimulator;
  let dir: string;

  before(function () {
    // `npm test` builds dist/ first (pretest); a lone run of this file needs `npm run build`.
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  });
  beforeEach(async () => {
    dexcom = new DexcomSimulator();
    sim = new Simulator({ providers: [dexcom] });
    await sim.listen();
    dir = mkdtempSync(join(tmpdir(), 'gb-upload-process-'));
  });
  afterEach(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const server = () => `${sim.urlFor('dexcom')}/${ACCOUNT.region}`;
  const posts = () => sim.requests('PostReceiverEgvRecords').length;

  it('a second run with the same readings posts nothing and reports them skipped (--json)', async () => {
    const input = hourOfMinutes();
    const args = ['upload', '--serial', ACCOUNT.receiver!, '--server', server(), '--json'];
    const first = await run(args, input, dir);
    expect(first.stderr).to.equal('');
    expect(first.code).to.equal(0);
    const one = JSON.parse(first.stdout) as { uploaded: number; skipped: number; lastUploaded: string };
    expect(one.uploaded).to.be.within(12, 13);
    expect(one.uploaded + one.skipped).to.equal(60);
    const egvs = dexcom.state(ACCOUNT.username).uploads.size;
    expect(egvs).to.equal(one.uploaded);
    const posted = dexcom.state(ACCOUNT.username).egvsPosted;
    const postsBefore = posts();

    const second = await run(args, input, dir);
    expect(second.code, second.stderr).to.equal(0);
    expect(JSON.parse(second.stdout)).to.deep.equal({
      uploaded: 0,
      skipped: 60,
      lastUploaded: one.lastUploaded,
    });
    expect(posts()).to.equal(postsBefore);
    expect(dexcom.state(ACCOUNT.username).egvsPosted).to.equal(posted);
    expect(dexcom.state(ACCOUNT.username).uploads.size).to.equal(egvs);

    // The default state file is the bridge's name, in the working directory, private to the user.
    const file = join(dir, '.glucobridge-state.json');
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).to.include(`"dexcom:${ACCOUNT.receiver!}"`);
    expect(text).not.to.include(ACCOUNT.password);
  });

  it('says it in words without --json, and --state and --spacing change where and how often', async () => {
    const input = hourOfMinutes();
    const state = join(dir, 'elsewhere', 'state.json');
    const args = ['upload', '--serial', ACCOUNT.receiver!, '--server', server(), '--state', state];
    const first = await run([...args, '--spacing', '0'], input, dir);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/^uploaded 60 reading\(s\) in 1 batch\(es\), 0 skipped; newest \S+Z\n$/);
    const second = await run(args, input, dir);
    expect(second.stdout).to.match(
      /^uploaded 0 reading\(s\) in 0 batch\(es\), 60 skipped \(uploaded before, or too close to the reading before\); newest /,
    );
    expect(existsSync(state)).to.equal(true);
    expect(existsSync(join(dir, '.glucobridge-state.json'))).to.equal(false);
  });
});
