import { expect } from 'chai';
import { Simulator } from '../../src/simulator/server';
import { VITADOCK_DEMO, VITADOCK_YEARS, VitaDockSimulator } from '../../src/simulator/vitadock';
import { runCli } from './helpers';

const DAY = 24 * 3600_000;
const YEARS_ENV = {
  GLUCOBRIDGE_VITADOCK_CONSUMER_KEY: VITADOCK_DEMO.consumerKey,
  GLUCOBRIDGE_VITADOCK_CONSUMER_SECRET: VITADOCK_DEMO.consumerSecret,
  GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN: VITADOCK_YEARS.accessToken,
  GLUCOBRIDGE_VITADOCK_ACCESS_SECRET: VITADOCK_YEARS.accessSecret,
};

interface JsonMeasurement {
  module: string;
  time: string;
  weightKg: number;
}

describe('glucobridge read --provider vitadock: the whole record of a weekly scale', function () {
  this.timeout(30_000);
  let sim: Simulator;
  let server: string;

  before(async () => {
    sim = new Simulator({ providers: [new VitaDockSimulator({ historyDays: 2 })] });
    await sim.listen();
    server = sim.urlFor('vitadock');
  });
  after(() => sim.close());

  const read = (...extra: string[]) =>
    runCli(
      ['read', '--provider', 'vitadock', '--server', server, '--module', 'targetscales', ...extra],
      YEARS_ENV,
    );

  it('--since YYYY-MM-DD returns weigh-ins from years ago, weekly, through every page', async () => {
    const since = new Date(Date.now() - 5 * 365 * DAY).toISOString().slice(0, 10);
    const run = await read('--since', since, '--json');
    expect(run.stderr).to.equal('');
    const records = JSON.parse(run.stdout) as JsonMeasurement[];
    // Five years of weekly weigh-ins: more than two pages of 100.
    expect(records.length).to.be.within(5 * 52 - 2, 5 * 53 + 2);
    const first = Date.parse(records[0]!.time);
    expect(first).to.be.below(Date.now() - 4.9 * 365 * DAY);
    expect(first).to.be.at.least(Date.parse(`${since}T00:00:00Z`));
    const gaps = records.slice(1).map((r, i) => Date.parse(r.time) - Date.parse(records[i]!.time));
    expect(new Set(gaps)).to.deep.equal(new Set([7 * DAY]));
    expect(sim.requests('/data/targetscales').length).to.be.greaterThan(2);
  });

  it('--minutes has no 30-day cap for a module, and the latest is still one line', async () => {
    const twoYears = await read('--minutes', String(2 * 365 * 24 * 60), '--json');
    expect(twoYears.stderr).to.equal('');
    const records = JSON.parse(twoYears.stdout) as JsonMeasurement[];
    expect(records.length).to.be.within(2 * 52 - 1, 2 * 53 + 1);
    const latest = await read();
    expect(latest.code).to.equal(0);
    expect(latest.stdout.trim().split('\n')).to.have.length(1);
  });

  it('refuses --minutes with --since, a day that does not exist, and a day in the future', async () => {
    expect((await read('--minutes', '60', '--since', '2020-01-01')).stderr).to.contain('not both');
    expect((await read('--since', '2023-02-30')).stderr).to.contain('--since must be a day');
    expect((await read('--since', '2999-01-01')).stderr).to.contain('in the past');
    const cgm = await runCli(['read', '--provider', 'dexcom', '--since', '2020-01-01'], {});
    expect(cgm.stderr).to.contain('further than the cloud keeps readings');
  });

  it('the simulator banner says what read --provider vitadock needs', () => {
    const lines = new VitaDockSimulator({ historyDays: 1 })
      .describe('http://127.0.0.1:1/vitadock')
      .join('\n');
    for (const needed of [
      `GLUCOBRIDGE_VITADOCK_CONSUMER_KEY=${VITADOCK_DEMO.consumerKey}`,
      `GLUCOBRIDGE_VITADOCK_CONSUMER_SECRET=${VITADOCK_DEMO.consumerSecret}`,
      `GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN=${VITADOCK_DEMO.accessToken}`,
      `GLUCOBRIDGE_VITADOCK_ACCESS_SECRET=${VITADOCK_DEMO.accessSecret}`,
      `GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN=${VITADOCK_YEARS.accessToken}`,
      'glucobridge read --provider vitadock --server http://127.0.0.1:1/vitadock',
    ])
      expect(lines).to.contain(needed);
  });
});
