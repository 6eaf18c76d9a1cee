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
    expect(invited.out).to.match(
      /^invited Grandma at grandma@example\.org \(contact [0-9a-f-]{36}\); Dexcom e-mails the invitation\n$/,
    );
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

    const removed = await run(['remove', '--name', 'Grandma']);
    expect(removed).to.include({ code: 0, out: `removed Grandma (contact ${String(list[0]!.contactId)})\n` });
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
    expect(noContact.err).to.match(/^usage: give --name or --contact/);
    expect(rig.sim.requests()).to.have.length(0);
  });

  it('refuses to invite an existing contact at a new address, and sends nothing', async () => {
    expect((await run(['invite', '--name', 'Mum', '--email', 'old@example.com'])).code).to.equal(0);
    rig.sim.clearRequests();
    const again = await run(['invite', '--name', 'Mum', '--email', 'new@example.com']);
    expect(again.code).to.equal(2);
    expect(again.out).to.equal('');
    expect(again.err).to.match(
      /^CONFIG: "Mum" is already a contact of this Dexcom account\nhint: .*remove the contact first and invite again, or choose another name\n$/,
    );
    expect(rig.sim.requests('CreateContact')).to.have.length(0);
    expect(rig.sim.requests('CreateSubscriptionInvitation')).to.have.length(0);
  });

  it('NOT_FOUND naming the followers that exist when removing an unknown name, exit status 2', async () => {
    await run(['invite', '--name', 'Dad', '--email', 'dad@example.com']);
    await run(['invite', '--name', 'Grandma', '--email', 'grandma@example.com']);
    for (const args of [
      ['--name', 'Mum'],
      ['--contact', '0a1e0c5a-0000-4d5e-8a6b-000000000000'],
    ]) {
      const gone = await run(['remove', ...args]);
      expect(gone.code).to.equal(2);
      expect(gone.err).to.equal(
        `NOT_FOUND: "${args[1]!}" is not a contact of this Dexcom account\nhint: the contacts are: "Dad", "Grandma"\n`,
      );
      expect(gone.err).not.to.include(US.password);
    }
    expect(rig.sim.requests('DeleteContact')).to.have.length(0);
  });
});
