import { expect } from 'chai';
import { LIBRE_DEMO_ACCOUNTS } from '../../src/simulator/librelinkup';
import { sensorSerial, sensorStart } from '../../src/simulator/librelinkup-records';
import {
  ALL_NODES,
  type Clouds,
  accountFlow,
  helper,
  nextMessage,
  receive,
  statuses,
  useRuntime,
} from './harness';

const family = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('family@'))!;
const terms = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('terms@'))!;

describe('cgm nodes with a LibreLinkUp account', () => {
  let clouds: Clouds;
  useRuntime((started) => (clouds = started));

  async function load(
    account: Record<string, unknown>,
    who = family,
    nodes: Record<string, unknown>[] = [
      { id: 'read', type: 'cgm-read-glucose', account: 'acct', mode: 'latest', wires: [['out']] },
      { id: 'fol', type: 'cgm-followers', account: 'acct', action: 'list', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ],
  ) {
    await helper.load(
      ALL_NODES,
      accountFlow({ provider: 'librelinkup', server: clouds.libreServer, units: 'mgdl', ...account }, nodes),
      { acct: { username: who.email, password: who.password } },
    );
  }

  async function failure(id: string): Promise<string> {
    const caught = nextMessage('caught');
    receive(id, { payload: 'go' });
    return ((await caught).error as { code: string }).code;
  }

  it('cgm-followers list gives the patients this account follows', async () => {
    await load({});
    const got = nextMessage('out');
    receive('fol', { payload: 'go' });
    const subjects = (await got).payload as { id: string; name: string }[];
    expect(subjects.map((s) => s.id)).to.deep.equal(family.patients.map((p) => p.patientId));
  });

  it('cgm-followers refuses invite and remove with a clear CONFIG error', async () => {
    await load({});
    const caught = nextMessage('caught');
    receive('fol', { payload: { action: 'invite', name: 'Grandma', email: 'grandma@example.org' } });
    const error = (await caught).error as { code: string; message: string };
    expect(error.code).to.equal('CONFIG');
    expect(error.message).to.include('librelinkup: invite');
    expect(statuses('fol').at(-1)).to.deep.equal({ fill: 'red', shape: 'ring', text: 'CONFIG' });
  });

  it('reads the chosen patient in mmol/L', async () => {
    const leo = family.patients[1]!;
    await load({ patient: `${leo.firstName} ${leo.lastName}`, units: 'mmol' });
    const got = nextMessage('out');
    receive('read', { payload: 'go' });
    const msg = await got;
    const reading = msg.reading as { mmol: number; subject: string; arrow: string };
    expect(msg.topic).to.equal(leo.patientId);
    expect(msg.payload).to.equal(reading.mmol);
    expect(msg.unit).to.equal('mmol/L');
    expect(statuses('read').at(-1)!.text).to.equal(`${reading.mmol} mmol/L ${reading.arrow}`);
  });

  it('puts the sensor on the message: serial, start, end after the sensor days, days left, warming up', async () => {
    const mia = family.patients[0]!;
    await load({ patient: 'Mia', sensorDays: '15' });
    const got = nextMessage('out');
    receive('read', { payload: 'go' });
    const msg = await got;
    const start = sensorStart(mia, Date.now());
    const sensor = msg.sensor as Record<string, unknown>;
    expect(Object.keys(sensor)).to.deep.equal(['serial', 'activated', 'ends', 'daysLeft', 'warmingUp']);
    expect(sensor).to.include({
      serial: sensorSerial(mia, start),
      activated: new Date(start).toISOString(),
      ends: new Date(start + 15 * 24 * 3600_000).toISOString(),
      warmingUp: Date.now() - start < 3600_000,
    });
    expect(sensor.daysLeft).to.be.closeTo((start + 15 * 24 * 3600_000 - Date.now()) / (24 * 3600_000), 0.11);
  });

  it('NOT_FOUND: a patient this account does not follow', async () => {
    await load({ patient: 'Nobody' });
    expect(await failure('read')).to.equal('NOT_FOUND');
    expect(statuses('read').at(-1)).to.deep.equal({ fill: 'red', shape: 'ring', text: 'NOT_FOUND' });
  });

  it('TERMS_REQUIRED until acceptTerms is chosen', async () => {
    await load({}, terms);
    expect(await failure('read')).to.equal('TERMS_REQUIRED');
    expect(statuses('read').at(-1)!.text).to.equal('TERMS_REQUIRED');
  });

  it('acceptTerms passes the terms steps and reads', async () => {
    await load({ acceptTerms: true }, terms);
    const got = nextMessage('out');
    receive('read', { payload: 'go' });
    expect((await got).payload).to.be.a('number');
  });

  it('REGION_REDIRECT: a fixed server of another region cannot follow the redirect', async () => {
    await load({ server: clouds.libreServer.replace('{region}', 'us') });
    expect(await failure('read')).to.equal('REGION_REDIRECT');
    expect(statuses('read').at(-1)!.text).to.equal('REGION_REDIRECT');
  });
});
