import { expect } from 'chai';
import { main } from '../../src/bridge/cli';
import { US, startSim, type SimRig } from '../providers/dexcom/helpers';
import { credentials, fakeIo } from './dexcom-cli';

describe('glucobridge followers', () => {
  let rig: SimRig;
  beforeEach(async () => {
    rig = await startSim();
  });
  afterEach(async () => {
    await rig.close();
  });

  const run = async (args: string[]) => {
    const io = fakeIo(credentials(US));
    const code = await main(['followers', ...args, '--server', rig.server(US)], io);
    return { code, out: io.out(), err: io.err() };
  };

  it('invites, lists and removes through the CLI', async () => {
    const invited = await run([
      'invite',
      '--name',
      'Grandma',
      '--email',
      'grandma@example.org',
      '--display-name',
      'Alex',
      '--low',
      '75',
      '--high',
      '220',
      '--no-data',
    ]);
    expect(invited.err).to.equal('');
    expect(invited.code).to.equal(0);
    expect(invited.out).to.match(/^invited Grandma \(new contact [0-9a-f-]{36}\)/);
    const alerts = (
      rig.sim.requests('CreateSubscriptionInvitation')[0]!.json as {
        AlertSettings: Record<string, { MinValue: number; MaxValue: number; IsEnabled: boolean }>;
      }
    ).AlertSettings;
    expect(alerts.LowAlert).to.include({ MaxValue: 75, IsEnabled: true });
    expect(alerts.HighAlert).to.include({ MinValue: 220, IsEnabled: true });
    expect(alerts.NoDataAlert).to.include({ IsEnabled: true });
    expect(alerts.FixedLowAlert).to.include({ MaxValue: 55, IsEnabled: true });

    const listed = await run(['list', '--json']);
    expect(listed.code).to.equal(0);
    const list = JSON.parse(listed.out) as Record<string, unknown>[];
    expect(list).to.have.length(1);
    expect(Object.keys(list[0]!)).to.deep.equal([
      'contactId',
      'contactName',
      'subscriptionId',
      'displayName',
      'state',
      'permissions',
      'isEnabled',
      'isMonitoringSessionActive',
      'created',
      'inviteExpires',
    ]);
    expect(list[0]).to.include({
      contactName: 'Grandma',
      displayName: 'Alex',
      state: 2,
      permissions: 1,
      isEnabled: false,
    });
    expect(new Date(String(list[0]!.inviteExpires)).toISOString()).to.equal(list[0]!.inviteExpires);

    const text = await run(['list']);
    expect(text.out).to.match(/^Grandma {2}invited, invite expires \S+ {2}\(contact [0-9a-f-]{36}\)\n$/);

    const removed = await run(['remove', '--contact', String(list[0]!.contactId)]);
    expect(removed).to.include({ code: 0, out: `removed contact ${String(list[0]!.contactId)}\n` });
    expect(JSON.parse((await run(['list', '--json'])).out)).to.deep.equal([]);
    expect((await run(['list'])).out).to.equal('no followers\n');
  });

  it('refuses a bad e-mail address or a missing action before any request', async () => {
    const bad = await run(['invite', '--name', 'Dad', '--email', 'dad-at-example.com']);
    expect(bad.code).to.equal(2);
    expect(bad.err).to.match(/^CONFIG: that is not a valid e-mail address\nhint: /);
    const none = await run([]);
    expect(none.code).to.equal(2);
    expect(none.err).to.match(/^usage: followers needs list, invite or remove/);
    const noContact = await run(['remove']);
    expect(noContact.err).to.match(/^usage: --contact is required/);
    expect(rig.sim.requests()).to.have.length(0);
  });

  it('reports a removal of an unknown contact with its code and exit status 2', async () => {
    const gone = await run(['remove', '--contact', '0a1e0c5a-0000-4d5e-8a6b-000000000000']);
    expect(gone.code).to.equal(2);
    expect(gone.err).to.match(/^CONFIG: Dexcom Publisher\/DeleteContact: InvalidArgument/);
    expect(gone.err).not.to.include(US.password);
  });
});
