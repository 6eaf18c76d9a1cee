import { expect } from 'chai';
import { createDemoSimulator, DEXCOM_DEMO_ACCOUNTS, LIBRE_DEMO_ACCOUNTS } from '../../src/simulator';
import type { Simulator } from '../../src/simulator/server';
import { tracePoint } from '../../src/simulator/trace';
import { runCli } from './helpers';

const OUS = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'ous')!;
const LIBRE = LIBRE_DEMO_ACCOUNTS[0]!;

interface JsonReading {
  provider: string;
  subject: string;
  time: string;
  mgdl: number;
  mmol: number;
  trend: string;
  arrow: string;
  limit?: string;
}

describe('glucobridge read (against the simulator)', function () {
  this.timeout(20_000);
  let sim: Simulator;
  let dexcomServer: string;
  let libreServer: string;
  const dexcomEnv = { GLUCOBRIDGE_USERNAME: OUS.username, GLUCOBRIDGE_PASSWORD: OUS.password };
  const libreEnv = { GLUCOBRIDGE_USERNAME: LIBRE.email, GLUCOBRIDGE_PASSWORD: LIBRE.password };

  before(async () => {
    sim = createDemoSimulator();
    await sim.listen();
    dexcomServer = `${sim.urlFor('dexcom')}/ous`;
    libreServer = `${sim.urlFor('librelinkup')}/{region}`;
  });
  after(() => sim.close());

  it('prints the latest Dexcom reading as JSON with the trace value', async () => {
    const run = await runCli(
      ['read', '--provider', 'dexcom', '--region', 'ous', '--server', dexcomServer, '--json'],
      dexcomEnv,
    );
    expect(run.stderr).to.equal('');
    expect(run.code).to.equal(0);
    const readings = JSON.parse(run.stdout) as JsonReading[];
    expect(readings).to.have.length(1);
    const reading = readings[0]!;
    expect(Object.keys(reading).filter((k) => k !== 'limit')).to.deep.equal([
      'provider',
      'subject',
      'time',
      'mgdl',
      'mmol',
      'trend',
      'arrow',
    ]);
    const point = tracePoint(OUS.accountId, Date.parse(reading.time), OUS.profile ?? 'steady');
    expect(reading.mgdl).to.equal(point.mgdl);
    expect(reading.provider).to.equal('dexcom');
    expect(Date.now() - Date.parse(reading.time)).to.be.below(11 * 60_000);
  });

  it('prints a Dexcom history, oldest first, in mmol/L as a table', async () => {
    const json = await runCli(
      [
        'read',
        '--provider',
        'dexcom',
        '--server',
        dexcomServer,
        '--region',
        'ous',
        '--minutes',
        '60',
        '--json',
      ],
      dexcomEnv,
    );
    const readings = JSON.parse(json.stdout) as JsonReading[];
    expect(readings.length).to.be.within(11, 13);
    const times = readings.map((r) => Date.parse(r.time));
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    const table = await runCli(
      [
        'read',
        '--provider',
        'dexcom',
        '--server',
        dexcomServer,
        '--region',
        'ous',
        '--minutes',
        '60',
        '--units',
        'mmol',
      ],
      dexcomEnv,
    );
    expect(table.code).to.equal(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(/^time \(UTC\)\s+glucose\s+trend\s+age$/);
    expect(lines).to.have.length(readings.length + 1);
    const last = readings.at(-1)!;
    // The simulated sensor reads LOW at some hours: its value then shows as `LOW (2.2)`.
    const value = last.mmol.toFixed(1);
    const shown = last.limit ? `${last.limit.toUpperCase()} (${value})` : value;
    expect(lines.at(-1)).to.contain(`${shown} mmol/L`);
  });

  it('reads LibreLinkUp through the region redirect, in both units', async () => {
    const mgdl = await runCli(
      ['read', '--provider', 'librelinkup', '--server', libreServer, '--json'],
      libreEnv,
    );
    expect(mgdl.stderr).to.equal('');
    const [reading] = JSON.parse(mgdl.stdout) as JsonReading[];
    expect(reading?.provider).to.equal('librelinkup');
    expect(reading?.subject).to.equal(LIBRE.patients[0]?.patientId);
    const mmol = await runCli(
      ['read', '--provider', 'librelinkup', '--server', libreServer, '--units', 'mmol'],
      libreEnv,
    );
    expect(mmol.code).to.equal(0);
    expect(mmol.stdout).to.match(/\d+\.\d mmol\/L/);
    const history = await runCli(
      ['read', '--provider', 'librelinkup', '--server', libreServer, '--minutes', '120', '--json'],
      libreEnv,
    );
    const readings = JSON.parse(history.stdout) as JsonReading[];
    expect(readings.length).to.be.at.least(20);
  });

  it('picks a LibreLinkUp patient by name', async () => {
    const second = LIBRE.patients[1]!;
    const run = await runCli(
      [
        'read',
        '--provider',
        'librelinkup',
        '--server',
        libreServer,
        '--patient',
        `${second.firstName} ${second.lastName}`,
        '--json',
      ],
      libreEnv,
    );
    expect(run.stderr).to.equal('');
    expect((JSON.parse(run.stdout) as JsonReading[])[0]?.subject).to.equal(second.patientId);
  });

  it('fails with status 2, the code and a hint for a wrong password, without echoing it', async () => {
    sim.clearRequests();
    const run = await runCli(['read', '--provider', 'dexcom', '--server', dexcomServer, '--region', 'ous'], {
      GLUCOBRIDGE_USERNAME: OUS.username,
      GLUCOBRIDGE_PASSWORD: 'Wrong-Secret-4711',
    });
    expect(run.code).to.equal(2);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.match(/^AUTH_INVALID: /);
    expect(run.stderr).to.match(/\nhint: .*region/i);
    expect(run.stderr).not.to.contain('Wrong-Secret-4711');
    expect(run.stderr).not.to.contain(OUS.username);
    expect(run.stderr).not.to.match(/\bat .*\.ts:\d+/);
    expect(sim.requests('/General/')).to.have.length(1);
  });

  it('refuses usage mistakes with status 2', async () => {
    expect((await runCli(['read', '--provider', 'medtronic'], dexcomEnv)).code).to.equal(2);
    const units = await runCli(['read', '--provider', 'dexcom', '--units', 'mg'], dexcomEnv);
    expect(units.code).to.equal(2);
    expect(units.stderr).to.contain('--units must be mgdl or mmol');
    const minutes = await runCli(['read', '--provider', 'dexcom', '--minutes', '5000'], dexcomEnv);
    expect(minutes.stderr).to.contain('--minutes must be');
    const unknown = await runCli(['read', '--password', 'x'], dexcomEnv);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr.split('\n')[0]).to.equal('glucobridge read: unknown option --password');
  });

  it('failure 1: an impossible Dexcom reading prints one PROTOCOL line, never "Invalid time value"; good ones still print', async () => {
    const good = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
    for (const wt of ['Date(8640000000000001)', 'Date(99999999999999)']) {
      sim.faults.add({
        kind: 'answer',
        provider: 'dexcom',
        path: 'ReadPublisherLatestGlucoseValues',
        response: {
          status: 200,
          body: [
            { WT: wt, ST: wt, DT: wt, Value: 100, Trend: 'Flat' },
            { WT: `Date(${good})`, ST: `Date(${good})`, DT: `Date(${good})`, Value: 123, Trend: 'Flat' },
          ],
        },
      });
      const run = await runCli(
        ['read', '--provider', 'dexcom', '--region', 'ous', '--server', dexcomServer, '--json'],
        dexcomEnv,
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stderr).to.match(/^PROTOCOL: .*record 0 refused: WT /);
      expect(run.stderr.trimEnd().split('\n')).to.have.length(1);
      expect(run.stderr).to.not.include('Invalid time value');
      const readings = JSON.parse(run.stdout) as JsonReading[];
      expect(readings.map((r) => [r.time, r.mgdl])).to.deep.equal([[new Date(good).toISOString(), 123]]);
    }
    // And the next answer from the cloud itself prints as before.
    const next = await runCli(
      ['read', '--provider', 'dexcom', '--region', 'ous', '--server', dexcomServer, '--json'],
      dexcomEnv,
    );
    expect(next.code).to.equal(0);
    expect(next.stderr).to.equal('');
    expect(Date.now() - Date.parse((JSON.parse(next.stdout) as JsonReading[])[0]!.time)).to.be.below(
      11 * 60_000,
    );
  });

  it('reports a missing password as CONFIG', async () => {
    const run = await runCli(['read', '--provider', 'librelinkup', '--server', libreServer], {});
    expect(run.code).to.equal(2);
    expect(run.stderr).to.match(/^CONFIG: /);
  });

  it('names the environment variables where a core hint names a field', async () => {
    const run = await runCli(['read', '--provider', 'dexcom', '--server', dexcomServer], {
      GLUCOBRIDGE_PASSWORD: OUS.password,
    });
    expect(run.code).to.equal(2);
    expect(run.stderr).to.contain(
      'hint: give the "username" (GLUCOBRIDGE_USERNAME) or the "account ID" (GLUCOBRIDGE_ACCOUNT_ID)',
    );
    const wrong = await runCli(['read', '--provider', 'dexcom', '--server', dexcomServer], {
      GLUCOBRIDGE_USERNAME: OUS.username,
      GLUCOBRIDGE_PASSWORD: 'not-the-password',
    });
    expect(wrong.stderr).to.match(
      /hint: check the "username" \(GLUCOBRIDGE_USERNAME\) and "password" \(GLUCOBRIDGE_PASSWORD\), and the "region" \(--region\)/,
    );
  });
});
