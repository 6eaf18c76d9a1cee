import { expect } from 'chai';
import { LibreLinkUpSimulator, LIBRE_DEMO_ACCOUNTS } from '../../src/simulator/librelinkup';
import { sensorSerial, sensorStart } from '../../src/simulator/librelinkup-records';
import { Simulator } from '../../src/simulator/server';
import { runCli } from './helpers';

const FAMILY = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('family@'))!;
const [MIA, LEO] = FAMILY.patients as [(typeof FAMILY.patients)[0], (typeof FAMILY.patients)[0]];
const DAY = 24 * 3600_000;

interface JsonReading {
  subject: string;
  time: string;
  sensor?: Record<string, unknown>;
}

describe('glucobridge read: the sensor on the latest reading (LibreLinkUp)', () => {
  let sim: Simulator;
  let server: string;
  const env = { GLUCOBRIDGE_USERNAME: FAMILY.email, GLUCOBRIDGE_PASSWORD: FAMILY.password };

  before(async () => {
    sim = new Simulator({ providers: [new LibreLinkUpSimulator()] });
    await sim.listen();
    server = `${sim.urlFor('librelinkup')}/{region}`;
  });
  after(() => sim.close());

  it('--json gives {serial, activated, ends, daysLeft, warmingUp} from sensor.sn and sensor.a, 14 days by default', async () => {
    const run = await runCli(
      ['read', '--provider', 'librelinkup', '--server', server, '--patient', 'Mia', '--json'],
      env,
    );
    expect(run.stderr).to.equal('');
    const [reading] = JSON.parse(run.stdout) as JsonReading[];
    const start = sensorStart(MIA, Date.now());
    const { daysLeft, ...rest } = reading?.sensor ?? {};
    expect(rest).to.deep.equal({
      serial: sensorSerial(MIA, start),
      activated: new Date(start).toISOString(),
      ends: new Date(start + 14 * DAY).toISOString(),
      warmingUp: Date.now() - start < 60 * 60_000,
    });
    expect(daysLeft).to.be.closeTo((start + 14 * DAY - Date.now()) / DAY, 0.11);
  });

  it('only the newest reading of each person carries it; --sensor-days 15 moves the end', async () => {
    const run = await runCli(
      [
        'read',
        '--provider',
        'librelinkup',
        '--server',
        server,
        '--minutes',
        '60',
        '--sensor-days',
        '15',
        '--json',
      ],
      env,
    );
    expect(run.stderr).to.equal('');
    const readings = JSON.parse(run.stdout) as JsonReading[];
    for (const patient of [MIA, LEO]) {
      const own = readings.filter((r) => r.subject === patient.patientId);
      expect(own.length).to.be.greaterThan(5);
      expect(own.slice(0, -1).every((r) => r.sensor === undefined)).to.equal(true);
      const start = sensorStart(patient, Date.now());
      expect(own.at(-1)?.sensor?.ends).to.equal(new Date(start + 15 * DAY).toISOString());
    }
    const bad = await runCli(['read', '--provider', 'librelinkup', '--sensor-days', '0'], env);
    expect(bad.stderr).to.contain('--sensor-days must be a whole number from 1 to 30');
  });
});
