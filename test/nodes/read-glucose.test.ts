import { expect } from 'chai';
import {
  ALL_NODES,
  type Clouds,
  dexcomCredentials,
  dexcomFlow,
  helper,
  nextMessage,
  receive,
  startClouds,
  startServer,
  statuses,
  stopServer,
} from './harness';

describe('cgm-read-glucose in the Node-RED runtime', () => {
  let clouds: Clouds;

  beforeEach(async () => {
    clouds = await startClouds();
    await startServer();
  });

  afterEach(async () => {
    await stopServer();
    await clouds.sim.close();
  });

  it('latest: sends the value in the account unit, the reading and the subject, and turns green', async () => {
    const flow = dexcomFlow(clouds.dexcomServer, [
      { id: 'read', type: 'cgm-read-glucose', account: 'acct', mode: 'latest', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    await helper.load(ALL_NODES, flow, dexcomCredentials());
    const got = nextMessage('out');
    receive('read', { payload: 'go' });
    const msg = await got;
    const reading = msg.reading as { mgdl: number; time: string; arrow: string; provider: string };
    expect(msg.payload).to.equal(reading.mgdl);
    expect(reading.provider).to.equal('dexcom');
    expect(reading.time).to.match(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(msg.topic).to.be.a('string').and.not.equal('');
    expect(msg.unit).to.equal('mg/dL');
    const last = statuses('read').at(-1);
    expect(last).to.deep.equal({
      fill: 'green',
      shape: 'dot',
      text: `${reading.mgdl} mg/dL ${reading.arrow}`,
    });
  });
});
