import { expect } from 'chai';
import { STATISTICS_FIELDS, type GlucoseStatistics } from '../../src/stats/statistics';
import {
  ALL_NODES,
  type Clouds,
  dexcomCredentials,
  dexcomReadFlow,
  helper,
  nextMessage,
  receive,
  statuses,
  useRuntime,
} from './harness';

describe('cgm-read-glucose statistics mode in the Node-RED runtime', () => {
  let clouds: Clouds;
  useRuntime((started) => (clouds = started));

  it('sends the last 24 h statistics in the one shape and shows time in range in the status', async () => {
    const flow = dexcomReadFlow(clouds.dexcomServer, 'statistics');
    await helper.load(ALL_NODES, flow, dexcomCredentials());
    const got = nextMessage('out');
    receive('read', { payload: 'go' });
    const msg = await got;
    const stats = msg.payload as GlucoseStatistics;
    expect(Object.keys(stats)).to.deep.equal([...STATISTICS_FIELDS]);
    // The Dexcom cloud gives the whole day.
    expect(stats.coverage).to.be.above(0.99);
    expect(stats.percentInRange! + stats.percentBelow70! + stats.percentAbove180!).to.be.closeTo(100, 0.2);
    expect(stats.percentBelow54!).to.be.at.most(stats.percentBelow70!);
    expect(msg.unit).to.equal('mg/dL');
    expect(statuses('read').at(-1)).to.deep.equal({
      fill: 'green',
      shape: 'dot',
      text: `TIR ${stats.percentInRange!.toFixed(1)} %`,
    });
    // Asked again at once: the same result (computed at most every 5 minutes).
    const again = nextMessage('out');
    receive('read', { payload: 'again' });
    expect((await again).payload).to.deep.equal(stats);
  });

  it('a wrong password reaches Catch with AUTH_INVALID', async () => {
    const flow = dexcomReadFlow(clouds.dexcomServer, 'statistics');
    await helper.load(ALL_NODES, flow, dexcomCredentials('wrong-password'));
    const caught = nextMessage('caught', 10_000);
    receive('read', { payload: 'go' });
    expect(((await caught).error as { code?: string }).code).to.equal('AUTH_INVALID');
  });
});
