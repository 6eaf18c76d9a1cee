// Issue 11, "done when": the shipped "Relay LibreLinkUp to Dexcom Share" example, deployed in the real
// Node-RED runtime against the simulated clouds and run for 30 simulated minutes (sinon fake time),
// leaves the Dexcom follower a history spaced 5 minutes apart, though LibreLinkUp gives a value a minute.
//
// LibreLinkUp here shows a value about a minute after it was measured, as the real service does (the
// patient's phone uploads it; reference librelinkup.md §5.5, §6.2) and as the poller's LibreLinkUp
// cadence assumes (lag 60 s). The plain simulator shows each value at once: the poller, asking 2 minutes
// after the last value, then sees every other one, and 4 min 45 s spacing turns 2-minute steps into 6.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import sinon from 'sinon';
import { HttpTransport } from '../../src/http/transport';
import { DexcomClient } from '../../src/providers/dexcom/client';
import { DexcomSimulator } from '../../src/simulator/dexcom';
import { LIBRE_DEMO_ACCOUNTS, LibreLinkUpSimulator } from '../../src/simulator/librelinkup';
import { Simulator } from '../../src/simulator/server';
import type { ProviderSimulator } from '../../src/simulator/types';
import { ALL_NODES, DEXCOM, collect, drive, helper, startServer, stopServer, waitFor } from './harness';

const MINUTE = 60_000;
/** How long after its measurement LibreLinkUp shows a value. */
const LIBRE_UPLOAD_LAG_MS = 60_000;
const EXAMPLE = join(__dirname, '..', '..', 'examples', 'Relay LibreLinkUp to Dexcom Share.json');

const coreRequire = createRequire(require.resolve('@node-red/nodes/package.json'));
const CORE = ['common/21-debug.js', 'common/90-comment.js'].map(
  (file) => coreRequire(`./core/${file}`) as (RED: never) => void,
);

type FlowNode = Record<string, unknown> & { id: string; type: string };

describe('examples/Relay LibreLinkUp to Dexcom Share.json for 30 simulated minutes', function () {
  this.timeout(60_000);
  let sim: Simulator;
  let dexcom: DexcomSimulator;
  let dexcomServer: string;
  let libreServer: string;
  let clock: sinon.SinonFakeTimers;

  /** LibreLinkUp as seen a minute late: its newest value is the one measured a minute ago. */
  function lagging(libre: LibreLinkUpSimulator): ProviderSimulator {
    return {
      provider: libre.provider,
      prefix: libre.prefix,
      describe: (baseUrl) => libre.describe(baseUrl),
      handle: (request, context) =>
        libre.handle(request, {
          ...context,
          clock: { now: () => context.clock.now() - LIBRE_UPLOAD_LAG_MS },
        }),
    };
  }

  beforeEach(async () => {
    dexcom = new DexcomSimulator();
    sim = new Simulator({ providers: [dexcom, lagging(new LibreLinkUpSimulator())] });
    await sim.listen();
    dexcomServer = `${sim.urlFor('dexcom')}/${DEXCOM.region}`;
    libreServer = `${sim.urlFor('librelinkup')}/{region}`;
    await startServer();
    clock = sinon.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      now: Date.now(),
    });
  });

  afterEach(async () => {
    clock.restore();
    await stopServer();
    await sim.close();
  });

  /** The example as shipped, its accounts pointed at the simulator with the demo logins. */
  function localised(): { nodes: FlowNode[]; credentials: Record<string, Record<string, string>> } {
    const flow = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as FlowNode[];
    const libre = LIBRE_DEMO_ACCOUNTS[0]!;
    const credentials: Record<string, Record<string, string>> = {};
    const nodes = flow.map((node) => {
      if (node.type !== 'cgm-account') return node;
      // Generous request timeouts: fake minutes pass while loopback HTTP answers in real time.
      if (node.provider === 'dexcom') {
        credentials[node.id] = { username: DEXCOM.username, password: DEXCOM.password };
        return { ...node, server: dexcomServer, serial: DEXCOM.receiver, timeoutMs: 120_000 };
      }
      credentials[node.id] = { username: libre.email, password: libre.password };
      return { ...node, server: libreServer, timeoutMs: 120_000 };
    });
    return { nodes, credentials };
  }

  const advance = (ms: number) =>
    drive(clock, new Promise<void>((resolve) => setTimeout(resolve, ms)), {
      stepMs: 5_000,
      realMs: 2,
      maxMs: ms + 5_000,
    });

  it('uploads one reading per 5 minutes, and the follower reads them back 5 minutes apart', async () => {
    const { nodes, credentials } = localised();
    const upload = nodes.find((n) => n.type === 'cgm-upload')!;
    const reader = nodes.find((n) => n.type === 'cgm-read-glucose')!;
    expect(upload.spacing, 'the example names its spacing').to.equal(285);
    // What the example's reader and uploader send, watched from helper nodes wired beside them.
    reader.wires = [[...(reader.wires as string[][])[0]!, 'relayed']];
    upload.wires = [[...(upload.wires as string[][])[0]!, 'results']];
    nodes.push(
      { id: 'relayed', type: 'helper', z: reader.z },
      { id: 'results', type: 'helper', z: upload.z },
    );
    await helper.load([...CORE, ...ALL_NODES] as never[], nodes, credentials);
    const relayed = collect('relayed');
    const results = collect('results');

    await advance(30 * MINUTE);
    // The reading relayed last may still be on its way to Dexcom (real loopback I/O): let it answer.
    const answered = () =>
      results.reduce((n, m) => {
        const r = m.payload as { uploaded: number; skipped: number };
        return n + r.uploaded + r.skipped;
      }, 0);
    await waitFor(() => answered() === relayed.length, 'an answer for every relayed reading');
    // Stop the flow before counting: a reading due while the follower's history is read would be uploaded
    // after the count.
    await helper.unload();

    // LibreLinkUp gave a value about every minute; Dexcom got one per 5 minutes.
    expect(relayed.length).to.be.within(25, 32);
    const libreTimes = relayed.map((m) => Date.parse((m.reading as { time: string }).time));
    for (let i = 1; i < libreTimes.length; i += 1)
      expect(libreTimes[i]! - libreTimes[i - 1]!).to.be.at.most(2 * MINUTE);
    const outcome = results.map((m) => m.payload as { uploaded: number; skipped: number });
    expect(outcome.reduce((n, r) => n + r.uploaded + r.skipped, 0)).to.equal(relayed.length);
    const uploaded = outcome.reduce((n, r) => n + r.uploaded, 0);
    expect(uploaded).to.be.within(5, 7);

    // The follower's view: Dexcom's read endpoint, as the Follow app and `glucobridge read` use it.
    const follower = new DexcomClient(
      {
        provider: 'dexcom',
        region: 'ous',
        server: dexcomServer,
        username: DEXCOM.username,
        password: DEXCOM.password,
        takeOverReceiver: false,
      },
      { transport: new HttpTransport({ timeoutMs: 120_000 }) },
    );
    const history = await drive(clock, follower.history({ minutes: 60 }), { stepMs: 100, realMs: 2 });
    await follower.close();
    expect(history).to.have.length(uploaded);
    // Never closer than 4 min 45 s; 5 minutes when the poller saw every minute's value, 6 when it saw the
    // next one a minute late (LibreLinkUp keeps only the newest minute value: a missed one is gone).
    const gaps = history.slice(1).map((r, i) => r.time.getTime() - history[i]!.time.getTime());
    for (const gap of gaps) expect(gap).to.be.oneOf([5 * MINUTE, 6 * MINUTE]);
    expect(gaps.filter((gap) => gap === 5 * MINUTE).length).to.be.at.least(gaps.length - 2);
    // Each at the instant LibreLinkUp gave it, with its value.
    const byTime = new Map(
      relayed.map((m) => [Date.parse((m.reading as { time: string }).time), m.reading as { mgdl: number }]),
    );
    for (const reading of history) expect(byTime.get(reading.time.getTime())?.mgdl).to.equal(reading.mgdl);
    expect(dexcom.state(DEXCOM.username).egvsPosted).to.be.at.most(uploaded + 1);
  });
});
