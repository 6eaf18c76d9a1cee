import { expect } from 'chai';
import { NIGHTSCOUT_DEMO_SITES, NightscoutSimulator } from '../../src/simulator/nightscout';
import { Simulator } from '../../src/simulator/server';
import { tracePoint } from '../../src/simulator/trace';
import { childEnv } from '../net';
import { CLI_FROM_SOURCES, ROOT, runProcess, type ProcessRun } from '../process';
import { demoSite, readToken } from '../providers/nightscout/helpers';
import { runCli } from './helpers';

interface JsonReading {
  provider: string;
  subject: string;
  time: string;
  mgdl: number;
  trend: string;
}

/** `glucobridge <argv>` as its own process, with only the given environment besides PATH. */
function glucobridge(argv: string[], env: Record<string, string>): Promise<ProcessRun> {
  return runProcess([...CLI_FROM_SOURCES, ...argv], { cwd: ROOT, env: childEnv(env) });
}

describe('glucobridge read --provider nightscout', function () {
  this.timeout(60_000);
  let sim: Simulator;
  let server: (name: string) => string;

  before(async () => {
    sim = new Simulator({ providers: [new NightscoutSimulator()] });
    await sim.listen();
    server = (name) => `${sim.urlFor('nightscout')}/${name}`;
  });
  after(() => sim.close());

  /** `read --provider nightscout --server <the demo site>` and `more`. */
  const readSite = (name: string, ...more: string[]) => [
    'read',
    '--provider',
    'nightscout',
    '--server',
    server(name),
    ...more,
  ];

  describe('as a process', () => {
    it('prints the latest reading of a 1-minute site with the token from the environment', async () => {
      const run = await glucobridge(readSite('mia', '--json'), {
        GLUCOBRIDGE_NIGHTSCOUT_TOKEN: readToken('mia'),
      });
      expect(run.stderr).to.equal('');
      expect(run.code).to.equal(0);
      const [reading, ...rest] = JSON.parse(run.stdout) as JsonReading[];
      expect(rest).to.have.length(0);
      const time = Date.parse(reading!.time);
      expect(reading!.provider).to.equal('nightscout');
      expect(reading!.mgdl).to.equal(tracePoint('nightscout-mia', time).mgdl);
      expect(time % 60_000).to.equal(0);
      expect(Date.now() - time).to.be.within(0, 2 * 60_000);
    });

    it('reads an hour over API v3 with the token, and a site with two uploaders with the API secret', async () => {
      const v3 = await glucobridge(readSite('mia', '--api', 'v3', '--minutes', '60', '--json'), {
        GLUCOBRIDGE_NIGHTSCOUT_TOKEN: readToken('mia'),
      });
      expect(v3.stderr).to.equal('');
      const times = (JSON.parse(v3.stdout) as JsonReading[]).map((r) => Date.parse(r.time));
      expect(times.length).to.be.within(59, 61);
      expect(times.slice(1).map((t, i) => t - times[i]!)).to.satisfy((steps: number[]) =>
        steps.every((s) => s === 60_000),
      );
      const two = await glucobridge(readSite('noah', '--minutes', '60'), {
        GLUCOBRIDGE_NIGHTSCOUT_API_SECRET: demoSite('noah').apiSecret,
      });
      expect(two.code).to.equal(0);
      const rows = two.stdout.trimEnd().split('\n');
      expect(rows[0]).to.match(/^time \(UTC\)\s+glucose\s+trend\s+age$/);
      // Two devices upload each reading: still one row per five minutes.
      expect(rows.length - 1).to.be.within(11, 13);
    });

    it('fails with status 2 and AUTH_INVALID for a wrong token, without printing it', async () => {
      const wrong = 'glucobridge-abcdefabcdef0123';
      const run = await glucobridge(readSite('mia'), {
        GLUCOBRIDGE_NIGHTSCOUT_TOKEN: wrong,
      });
      expect(run.code).to.equal(2);
      expect(run.stdout).to.equal('');
      expect(run.stderr).to.match(/^AUTH_INVALID: Nightscout entries: the access token was refused/);
      expect(run.stderr).to.match(/\nhint: check token/);
      expect(run.stderr).not.to.contain(wrong);
      expect(
        sim.requests('/mia/').filter((r) => r.headers['api-secret'] !== undefined).length,
      ).to.be.at.least(1);
    });
  });

  it('reads a site that is readable without a secret', async () => {
    const run = await runCli(readSite('leo', '--json'), {});
    expect(run.stderr).to.equal('');
    expect((JSON.parse(run.stdout) as JsonReading[])[0]?.provider).to.equal('nightscout');
  });

  it('says where the URL is wrong', async () => {
    const run = await runCli(['read', '--provider', 'nightscout', '--server', `${server('leo')}/api/v1`], {});
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/^NOT_FOUND: /);
    expect(run.stderr).to.contain('hint: remove "/api/v1" from the end of server');
  });

  it('takes secrets from the environment only, and wants a server', async () => {
    const argvToken = await runCli(readSite('mia', '--token', readToken('mia')));
    expect(argvToken.code).to.equal(2);
    expect(argvToken.stderr.split('\n')[0]).to.equal('glucobridge read: unknown option --token');
    const noServer = await runCli(['read', '--provider', 'nightscout'], {
      GLUCOBRIDGE_NIGHTSCOUT_TOKEN: readToken('mia'),
    });
    expect(noServer.code).to.equal(2);
    expect(noServer.stderr).to.contain('--server is required for nightscout');
    const badApi = await runCli(readSite('mia', '--api', 'v2'));
    expect(badApi.stderr).to.contain('--api must be v1 or v3');
  });

  it('the simulator banner lists the Nightscout sites', async () => {
    let stop: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => (stop = resolve));
    const running = runCli(['simulate', '--port', '0'], {}, { interrupted });
    await new Promise((resolve) => setTimeout(resolve, 200));
    stop();
    const run = await running;
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/Nightscout sites \(API v1 and v3\):/);
    for (const s of NIGHTSCOUT_DEMO_SITES) expect(run.stdout).to.contain(`/nightscout/${s.site}`);
  });
});
