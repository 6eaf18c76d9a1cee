import { expect } from 'chai';
import { HttpTransport } from '../../../src/http/transport';
import type { CgmError } from '../../../src/model/errors';
import { DexcomClient } from '../../../src/providers/dexcom/client';
import { DexcomFollowers, defaultAlertSettings } from '../../../src/providers/dexcom/followers';
import {
  FAST_RETRY,
  dexcomConfig,
  fixtureJson,
  fixtureServer,
  fromFixture,
  rejection,
  startSim,
  type SimRig,
} from './helpers';

describe('DexcomFollowers', () => {
  it('lists the xDrip fixture with typed fields and parsed dates', async () => {
    const server = await fixtureServer({
      'General/AuthenticatePublisherAccount': fromFixture('pydexcom-authenticate-publisher-account.200.json'),
      'General/LoginPublisherAccountById': fromFixture('pydexcom-login-publisher-account-by-id.200.json'),
      'Publisher/ListPublisherAccountSubscriptions': fromFixture(
        'xdrip-list-publisher-account-subscriptions.200.json',
      ),
    });
    try {
      const client = new DexcomClient(dexcomConfig({ server: server.url }), {
        retry: FAST_RETRY,
        transport: new HttpTransport({ timeoutMs: 1_000 }),
      });
      const [follower] = await new DexcomFollowers(client).list();
      expect(follower).to.deep.equal({
        contactId: 'FollowersContactId',
        contactName: 'FollowersName',
        subscriptionId: 'theirSubscriptionIdIsuppose?',
        subscriberId: undefined,
        displayName: 'YourDisplayName',
        state: 2,
        permissions: 1,
        isEnabled: false,
        isMonitoringSessionActive: true,
        created: new Date(1437101121008),
        modified: new Date(1437101121008),
        inviteExpires: new Date(1437705921008),
      });
      const list = server.requests.find((r) => r.path.endsWith('ListPublisherAccountSubscriptions'))!;
      expect([...list.query.keys()]).to.deep.equal(['sessionId']);
      expect(list.body).to.equal('');
    } finally {
      await server.close();
    }
  });

  describe('against the simulator', () => {
    let rig: SimRig;
    beforeEach(async () => {
      rig = await startSim();
    });
    afterEach(async () => {
      await rig.close();
    });

    it('invites with the exact requests and the uploader app’s alert defaults, each overridable', async () => {
      const followers = new DexcomFollowers(rig.client());
      const result = await followers.invite({
        name: 'Grandma',
        email: 'grandma@example.org',
        displayName: 'Alex',
        alerts: { LowAlert: { MaxValue: 80, IsEnabled: true } },
      });
      const exists = rig.sim.requests('DoesContactExistByName')[0]!;
      expect(exists.query).to.deep.include({ contactName: 'Grandma' });
      const create = rig.sim.requests('CreateContact')[0]!;
      expect(create.query).to.have.keys('sessionId', 'contactName', 'emailAddress');
      expect(create.query).to.deep.include({ contactName: 'Grandma', emailAddress: 'grandma@example.org' });
      expect(create.body).to.equal('');
      const invite = rig.sim.requests('CreateSubscriptionInvitation')[0]!;
      expect(invite.query).to.deep.include({ contactId: result.contactId });
      const shape = fixtureJson('derived-xdrip-create-subscription-invitation.request.json') as {
        AlertSettings: Record<string, Record<string, unknown>>;
      };
      const expected = {
        ...shape,
        DisplayName: 'Alex',
        AlertSettings: {
          ...shape.AlertSettings,
          // The seed's default has urgent low on; the override turns low on at 80.
          FixedLowAlert: { ...shape.AlertSettings.FixedLowAlert, IsEnabled: true },
          LowAlert: { ...shape.AlertSettings.LowAlert, MaxValue: 80, IsEnabled: true },
        },
      };
      expect(invite.json).to.deep.equal(expected);
      expect(result.invitationId).to.equal(
        rig.dexcom.state('demo-alex').contacts.get(result.contactId)!.invitation!.subscriptionId,
      );
    });

    it('lists, checks a name, and removes by name or contact id', async () => {
      const followers = new DexcomFollowers(rig.client());
      const first = await followers.invite({ name: 'Dad', email: 'dad@example.com' });
      const list = await followers.list();
      expect(list).to.have.length(1);
      expect(list[0]).to.include({
        contactId: first.contactId,
        contactName: 'Dad',
        displayName: 'Dad',
        state: 2,
      });
      expect(list[0]!.inviteExpires!.getTime() - list[0]!.created!.getTime()).to.be.closeTo(
        7 * 86_400_000,
        1_000,
      );
      expect(await followers.contactExists('Dad')).to.equal(true);
      expect(await followers.contactExists('Mum')).to.equal(false);

      const removed = await followers.remove('dad');
      expect(removed).to.include({ contactId: first.contactId, contactName: 'Dad' });
      expect(rig.sim.requests('DeleteContact')[0]!.query).to.deep.include({ contactId: first.contactId });
      expect(await followers.list()).to.deep.equal([]);
      const second = await followers.invite({ name: 'Dad', email: 'dad@example.com' });
      expect((await followers.remove(second.contactId)).contactName).to.equal('Dad');
      expect(rig.sim.requests('DeleteContact')).to.have.length(2);
    });

    it('never invites an existing contact: a new address for "Mum" is refused, nothing is sent to the old one', async () => {
      const followers = new DexcomFollowers(rig.client());
      await followers.invite({ name: 'Mum', email: 'old@example.com' });
      rig.sim.clearRequests();
      for (const name of ['Mum', ' mum ']) {
        const error = (await rejection(followers.invite({ name, email: 'new@example.com' }))) as CgmError;
        expect(error.code).to.equal('CONFIG');
        expect(error.message).to.equal('"Mum" is already a contact of this Dexcom account');
        expect(error.hint)
          .to.match(/remove the contact first/)
          .and.match(/another name/);
        expect(JSON.stringify(error)).not.to.include('old@example.com');
      }
      expect(rig.sim.requests('CreateContact')).to.have.length(0);
      expect(rig.sim.requests('CreateSubscriptionInvitation')).to.have.length(0);
      const contacts = [...rig.dexcom.state('demo-alex').contacts.values()];
      expect(contacts.map((c) => [c.name, c.email])).to.deep.equal([['Mum', 'old@example.com']]);
      // Removed first, the new address is the one invited.
      await followers.remove('Mum');
      await followers.invite({ name: 'Mum', email: 'new@example.com' });
      const now = [...rig.dexcom.state('demo-alex').contacts.values()];
      expect(now.map((c) => [c.name, c.email, c.invitation !== undefined])).to.deep.equal([
        ['Mum', 'new@example.com', true],
      ]);
    });

    it('a contact known only by name (not in the list) is refused too', async () => {
      const followers = new DexcomFollowers(rig.client());
      rig.dexcom.state('demo-alex').contacts.set('c-1', {
        contactId: 'c-1',
        name: 'Grandpa',
        email: 'grandpa@example.com',
        created: Date.now(),
        modified: Date.now(),
      });
      rig.dexcom.register('Publisher/ListPublisherAccountSubscriptions', () => ({ status: 200, body: [] }));
      const error = (await rejection(
        followers.invite({ name: 'Grandpa', email: 'new@example.com' }),
      )) as CgmError;
      expect(error.code).to.equal('CONFIG');
      expect(rig.sim.requests('CreateContact')).to.have.length(0);
    });

    it('removes a contact it created when the invitation then fails, so a retry starts clean', async () => {
      const followers = new DexcomFollowers(rig.client());
      rig.sim.faults.add({ kind: 'status', status: 503, path: 'CreateSubscriptionInvitation', times: 1 });
      const error = (await rejection(
        followers.invite({ name: 'Aunt', email: 'aunt@example.com' }),
      )) as CgmError;
      expect(error.code).to.equal('SERVER');
      expect(rig.sim.requests('DeleteContact')).to.have.length(1);
      expect(rig.dexcom.state('demo-alex').contacts.size).to.equal(0);
      await followers.invite({ name: 'Aunt', email: 'aunt@example.com' });
      expect((await followers.list()).map((f) => f.contactName)).to.deep.equal(['Aunt']);
    });

    it('NOT_FOUND for removing an unknown name, naming the contacts that exist; nothing deleted', async () => {
      const followers = new DexcomFollowers(rig.client());
      expect(((await rejection(followers.remove('Mum'))) as CgmError).hint).to.equal(
        'this account has no followers or contacts',
      );
      await followers.invite({ name: 'Dad', email: 'dad@example.com' });
      await followers.invite({ name: 'Grandma', email: 'grandma@example.com' });
      for (const unknown of ['Mum', '0a1e0c5a-0000-4d5e-8a6b-000000000000']) {
        const error = (await rejection(followers.remove(unknown))) as CgmError;
        expect(error.code).to.equal('NOT_FOUND');
        expect(error.message).to.equal(`"${unknown}" is not a contact of this Dexcom account`);
        expect(error.hint).to.equal('the contacts are: "Dad", "Grandma"');
      }
      expect(rig.sim.requests('DeleteContact')).to.have.length(0);
      expect(await followers.list()).to.have.length(2);
    });

    it('refuses invalid e-mail addresses, names and alert values before any request', async () => {
      const followers = new DexcomFollowers(rig.client());
      const attempts = [
        followers.invite({ name: 'Dad', email: 'not-an-address' }),
        followers.invite({ name: 'Dad', email: 'dad@example' }),
        followers.invite({ name: '  ', email: 'dad@example.com' }),
        followers.invite({ name: 'x'.repeat(65), email: 'dad@example.com' }),
        followers.invite({ name: 'Dad\n', email: 'dad @example.com' }),
        followers.invite({ name: 'Dad', email: 'dad@example.com', alerts: { HighAlert: { MinValue: 500 } } }),
        followers.invite({
          name: 'Dad',
          email: 'dad@example.com',
          alerts: { LowAlert: { AlarmDelay: '30 min' } },
        }),
        followers.contactExists(''),
        followers.remove('  '),
      ];
      for (const attempt of attempts)
        expect(((await rejection(attempt)) as CgmError).code).to.equal('CONFIG');
      expect(rig.sim.requests()).to.have.length(0);
    });

    it('keeps its defaults unchanged between invitations', () => {
      const a = defaultAlertSettings();
      a.HighAlert.MinValue = 250;
      expect(defaultAlertSettings().HighAlert.MinValue).to.equal(200);
    });
  });
});
