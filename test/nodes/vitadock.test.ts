import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import accountNode from '../../nodes/cgm-account';
import type { NodeAPI } from '../../nodes/lib/types';
import { VITADOCK_DEMO } from '../../src/simulator/vitadock';
import {
  ALL_NODES,
  type Clouds,
  accountFlow,
  collect,
  helper,
  nextMessage,
  receive,
  statuses,
  waitFor,
  useRuntime,
} from './harness';

const demoCredentials = {
  acct: {
    consumerKey: VITADOCK_DEMO.consumerKey,
    consumerSecret: VITADOCK_DEMO.consumerSecret,
    accessToken: VITADOCK_DEMO.accessToken,
    accessSecret: VITADOCK_DEMO.accessSecret,
  },
};

describe('cgm nodes with a VitaDock account', () => {
  let clouds: Clouds;
  let flowHttp: Server | undefined;
  let RED: NodeAPI | undefined;
  // The account module, remembering the RED it was given so the test can serve RED.httpNode.
  const capturingAccount = (red: NodeAPI) => {
    RED = red;
    accountNode(red);
  };
  const nodes = [capturingAccount, ...ALL_NODES.slice(1)];

  afterEach(() => {
    flowHttp?.close();
    flowHttp = undefined;
  });
  useRuntime((started) => (clouds = started));

  const flow = (account: Record<string, unknown>, extra: Record<string, unknown>[] = []) =>
    accountFlow(
      { provider: 'vitadock', name: 'Vita', server: clouds.vitadockServer, units: 'mgdl', ...account },
      [
        { id: 'read', type: 'cgm-read-glucose', account: 'acct', mode: 'latest', wires: [['out']] },
        {
          id: 'bp',
          type: 'cgm-read-glucose',
          account: 'acct',
          mode: 'history',
          minutes: 43200,
          module: 'cardiodocks',
          wires: [['out']],
        },
        { id: 'out', type: 'helper' },
        ...extra,
      ],
    );

  it('reads the newest glucose value', async () => {
    await helper.load(nodes, flow({}), demoCredentials);
    const got = nextMessage('out');
    receive('read', { payload: 'go' });
    const msg = await got;
    expect(msg.payload).to.equal((msg.reading as { mgdl: number }).mgdl);
    expect((msg.reading as { provider: string }).provider).to.equal('vitadock');
    expect(statuses('read').at(-1)).to.include({ fill: 'green' });
  });

  it('reads another module (blood pressure) when the node chooses it', async () => {
    await helper.load(nodes, flow({}), demoCredentials);
    const got = nextMessage('out');
    receive('bp', { payload: 'go' });
    const msg = await got;
    const items = msg.payload as { kind: string; systolic: number; time: string }[];
    expect(items.length).to.be.greaterThan(0);
    expect(items[0]!.kind).to.equal('bloodPressure');
    expect(msg.topic).to.equal('cardiodocks');
  });

  it('authorises through the admin routes and stores the tokens as credentials', async () => {
    await helper.load(nodes, flow({}), {
      acct: { consumerKey: VITADOCK_DEMO.consumerKey, consumerSecret: VITADOCK_DEMO.consumerSecret },
    });
    const started = await helper
      .request()
      .post('/cgm-account/acct/vitadock/authorise')
      .send({ consumerKey: '__PWRD__', server: clouds.vitadockServer });
    expect(started.status).to.equal(200);
    const url = new URL((started.body as { url: string }).url);
    expect(url.pathname).to.match(/desiredaccessrights\/request$/);
    const verifier = clouds.vitadock.approve(url.searchParams.get('oauth_token')!);

    const wrong = await helper.request().post('/cgm-account/other/vitadock/verify').send({ verifier });
    expect(wrong.status).to.equal(400);

    const done = await helper.request().post('/cgm-account/acct/vitadock/verify').send({ verifier });
    expect(done.status).to.equal(200);
    expect(done.body).to.deep.equal({ authorised: true });
    const stored = helper.credentials.get('acct')!;
    expect(stored.accessToken).to.be.a('string').with.length.greaterThan(4);
    expect(stored.accessSecret).to.be.a('string').with.length.greaterThan(4);
    expect(done.text).not.to.include(stored.accessToken);
  });

  it('the authorise route refuses without the app token and secret', async () => {
    await helper.load(nodes, flow({}), {});
    const answer = await helper.request().post('/cgm-account/acct/vitadock/authorise').send({});
    expect(answer.status).to.equal(400);
    expect((answer.body as { code: string }).code).to.equal('CONFIG');
  });

  describe('push endpoint', () => {
    async function serveFlows(): Promise<string> {
      flowHttp = createServer(RED!.httpNode as unknown as Parameters<typeof createServer>[0]);
      await new Promise<void>((resolve) => flowHttp!.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(flowHttp.address() as AddressInfo).port}/vitadock/push`;
    }

    const pollFlow = (pushPath: string) =>
      flow({ pushPath }, [
        { id: 'poller', type: 'cgm-read-glucose', account: 'acct', mode: 'poll', wires: [['polled']] },
        { id: 'polled', type: 'helper' },
      ]);

    it('a signed notification makes the pollers fetch now; a forged one is refused', async () => {
      await helper.load(nodes, pollFlow('/vitadock/push'), demoCredentials);
      const polled = collect('polled');
      const url = await serveFlows();
      await waitFor(() => polled.length === 1, 'the first poll');
      const syncs = clouds.sim.requests('/sync').length;

      const answer = await clouds.vitadock.sendPush(url, 'glucodockglucoses', VITADOCK_DEMO.accessToken);
      expect(answer.status).to.equal(200);
      await waitFor(() => clouds.sim.requests('/sync').length > syncs, 'a poll after the push');

      const push = clouds.vitadock.signPush(url, 'glucodockglucoses', VITADOCK_DEMO.accessToken);
      const forged = await fetch(push.url.replace('module_id=', 'module_id=9'), { headers: push.headers });
      expect(forged.status).to.be.oneOf([400, 401]);
    });

    it('a redeploy without the push path takes the route away', async () => {
      await helper.load(nodes, pollFlow('/vitadock/push'), demoCredentials);
      const url = await serveFlows();
      expect((await clouds.vitadock.sendPush(url, 'cardiodocks', VITADOCK_DEMO.accessToken)).status).to.equal(
        200,
      );
      await helper.setFlows(pollFlow(''), 'full', demoCredentials);
      expect((await clouds.vitadock.sendPush(url, 'cardiodocks', VITADOCK_DEMO.accessToken)).status).to.equal(
        404,
      );
    });
  });
});
