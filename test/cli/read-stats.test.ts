import { expect } from 'chai';
import { makeReading } from '../../src/model/reading';
import { createDemoSimulator, DEXCOM_DEMO_ACCOUNTS, LIBRE_DEMO_ACCOUNTS } from '../../src/simulator';
import type { Simulator } from '../../src/simulator/server';
import { computeStatistics, STATISTICS_FIELDS, type GlucoseStatistics } from '../../src/stats/statistics';
import { runCli } from './helpers';

const OUS = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'ous')!;
const LIBRE = LIBRE_DEMO_ACCOUNTS[1]!; // one patient

describe('glucobridge read --stats (against the simulator)', function () {
  this.timeout(20_000);
  let sim: Simulator;
  const dexcomEnv = { GLUCOBRIDGE_USERNAME: OUS.username, GLUCOBRIDGE_PASSWORD: OUS.password };

  before(async () => {
    sim = createDemoSimulator();
    await sim.listen();
  });
  after(() => sim.close());

  const dexcom = () => ['--provider', 'dexcom', '--region', 'ous', '--server', `${sim.urlFor('dexcom')}/ous`];

  it('--json gives the one shape, the same numbers as the day of readings `read` prints', async () => {
    const run = await runCli(['read', ...dexcom(), '--stats', '--json'], dexcomEnv);
    expect(run.stderr).to.equal('');
    expect(run.code).to.equal(0);
    const stats = JSON.parse(run.stdout) as GlucoseStatistics;
    expect(Object.keys(stats)).to.deep.equal([...STATISTICS_FIELDS]);
    expect(stats.coverage).to.be.above(0.99); // Dexcom gives the whole day
    const day = await runCli(['read', ...dexcom(), '--minutes', '1440', '--json'], dexcomEnv);
    const readings = (JSON.parse(day.stdout) as { time: string; mgdl: number; limit?: 'low' | 'high' }[]).map(
      (r) =>
        makeReading({
          provider: 'dexcom',
          subject: 's',
          time: new Date(r.time),
          mgdl: r.mgdl,
          trend: 'flat',
          ...(r.limit ? { limit: r.limit } : {}),
        }),
    );
    const again = computeStatistics(readings, { now: Date.parse(stats.to), intervalMs: 5 * 60_000 });
    // A reading may arrive between the two commands: one in 288 moves a percentage by 0.35.
    for (const field of ['percentInRange', 'percentBelow70', 'percentAbove180'] as const)
      expect(stats[field], field).to.be.closeTo(again[field]!, 1);
    expect(stats.meanMgdl).to.be.closeTo(again.meanMgdl!, 1);
  });

  it('prints a table in the chosen unit; LibreLinkUp’s 12 h show as half the coverage', async () => {
    const run = await runCli(['read', ...dexcom(), '--stats', '--units', 'mmol'], dexcomEnv);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/^last 24 h \(/);
    expect(run.stdout).to.match(/in range 3\.9–10\.0\s+\d+\.\d %/);
    expect(run.stdout).to.match(/mean\s+\d+\.\d mmol\/L/);
    const libre = await runCli(
      [
        'read',
        '--provider',
        'librelinkup',
        '--server',
        `${sim.urlFor('librelinkup')}/{region}`,
        '--stats',
        '--json',
      ],
      { GLUCOBRIDGE_USERNAME: LIBRE.email, GLUCOBRIDGE_PASSWORD: LIBRE.password },
    );
    expect(libre.stderr).to.equal('');
    expect((JSON.parse(libre.stdout) as GlucoseStatistics).coverage).to.be.within(0.45, 0.51);
  });

  it('refuses --stats with --minutes (the span is the last 24 h)', async () => {
    const both = await runCli(['read', ...dexcom(), '--stats', '--minutes', '60'], dexcomEnv);
    expect(both.code).to.equal(2);
    expect(both.stderr).to.contain('--stats takes the last 24 h');
  });
});
