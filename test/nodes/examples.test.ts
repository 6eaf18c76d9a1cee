import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/bridge/broker';
import { LIBRE_DEMO_ACCOUNTS } from '../../src/simulator/librelinkup';
import { VITADOCK_DEMO } from '../../src/simulator/vitadock';
import { readToken, uploadToken } from '../providers/nightscout/helpers';
import {
  ALL_NODES,
  type Clouds,
  DEXCOM,
  helper,
  startClouds,
  startServer,
  statuses,
  stopServer,
  waitFor,
} from './harness';

const EXAMPLES = join(__dirname, '..', '..', 'examples');
const OUR_TYPES = ['cgm-login', 'cgm-read-glucose', 'cgm-followers', 'cgm-upload', 'cgm-nightscout'];

// Node-RED's own nodes the examples use, loaded from the runtime like any node module.
const coreRequire = createRequire(require.resolve('@node-red/nodes/package.json'));
const CORE = [
  'common/20-inject.js',
  'common/21-debug.js',
  'common/90-comment.js',
  'function/10-function.js',
  'function/10-switch.js',
  'function/15-change.js',
  'network/10-mqtt.js',
].map((file) => coreRequire(`./core/${file}`) as (RED: never) => void);

// FlowFuse Dashboard 2.0 (a devDependency): the History chart example draws on its ui-chart. Its own
// page in a browser is test/integration/dashboard.test.ts; here its nodes must deploy and get the points.
const dashboardRequire = createRequire(require.resolve('@flowfuse/node-red-dashboard/package.json'));
const DASHBOARD = [
  'config/ui_base.js',
  'config/ui_page.js',
  'config/ui_group.js',
  'config/ui_theme.js',
  'widgets/ui_chart.js',
].map((file) => dashboardRequire(`./nodes/${file}`) as (RED: never) => void);

type FlowNode = Record<string, unknown> & { id: string; type: string };

const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, flow: JSON.parse(readFileSync(join(EXAMPLES, file), 'utf8')) as FlowNode[] }));

describe('examples/*.json', () => {
  let clouds: Clouds;
  let broker: EmbeddedBroker;

  before(async () => {
    broker = await startEmbeddedBroker(0);
  });

  after(async () => {
    await broker.close();
  });

  beforeEach(async () => {
    clouds = await startClouds();
    await startServer();
  });

  afterEach(async () => {
    await stopServer();
    await clouds.sim.close();
  });

  it('there is a flow for every use the issue names', () => {
    expect(examples.map((e) => e.file).sort()).to.deep.equal([
      'Followers management.json',
      'History chart.json',
      'Home Assistant via MQTT.json',
      'Lamp colour by glucose.json',
      'Night-time low alert.json',
      'Relay LibreLinkUp to Dexcom Share.json',
      'Relay to Nightscout.json',
    ]);
  });

  it('every node type of the package appears in an example, each example has a comment', () => {
    const used = new Set(examples.flatMap((e) => e.flow.map((n) => n.type)));
    for (const type of OUR_TYPES) expect(used, type).to.include(type);
    for (const { file, flow } of examples)
      expect(
        flow.map((n) => n.type),
        file,
      ).to.include('comment');
  });

  /** Points the example's accounts at the simulator with its demo credentials, the broker at ours. */
  function localise(flow: FlowNode[]) {
    const credentials: Record<string, Record<string, string>> = {};
    const libre = LIBRE_DEMO_ACCOUNTS[0]!;
    const nodes = flow.map((node) => {
      if (node.type === 'mqtt-broker') return { ...node, broker: '127.0.0.1', port: String(broker.port) };
      if (node.type === 'cgm-nightscout') {
        credentials[node.id] = { server: clouds.site('relay'), token: uploadToken('relay') };
        return node;
      }
      if (node.type !== 'cgm-account') return node;
      switch (node.provider) {
        case 'dexcom':
          credentials[node.id] = { username: DEXCOM.username, password: DEXCOM.password };
          return { ...node, server: clouds.dexcomServer, serial: DEXCOM.receiver };
        case 'librelinkup':
          credentials[node.id] = { username: libre.email, password: libre.password };
          return { ...node, server: clouds.libreServer };
        case 'nightscout':
          credentials[node.id] = { token: readToken('mia') };
          return { ...node, server: clouds.site('mia') };
        default:
          credentials[node.id] = { ...VITADOCK_DEMO };
          return { ...node, server: clouds.vitadockServer };
      }
    });
    return { nodes, credentials };
  }

  for (const { file, flow } of examples) {
    it(`${file} deploys and its readers turn green against the simulator`, async () => {
      const { nodes, credentials } = localise(flow);
      await helper.load([...CORE, ...DASHBOARD, ...ALL_NODES] as never[], nodes, credentials);
      for (const node of nodes.filter((n) => n.type !== 'tab')) {
        expect(helper.getNode(node.id), `${file}: ${node.id}`).to.not.equal(null);
      }
      // Pollers show their first reading; Nightscout uploaders the first reading on the site.
      const pollers = nodes
        .filter((n) => (n.type === 'cgm-read-glucose' && n.mode === 'poll') || n.type === 'cgm-nightscout')
        .map((n) => n.id);
      await waitFor(
        () => pollers.every((id) => statuses(id).some((s) => s.fill === 'green')),
        `${file}: first readings`,
      );
      for (const id of nodes.filter((n) => OUR_TYPES.includes(n.type)).map((n) => n.id)) {
        expect(
          statuses(id).filter((s) => s.fill === 'red'),
          `${file}: ${id} ${JSON.stringify(statuses(id))}`,
        ).to.deep.equal([]);
      }
    });
  }

  it('the History chart example gives the dashboard chart the day’s readings and the target band', async () => {
    const { nodes, credentials } = localise(examples.find((e) => e.file === 'History chart.json')!.flow);
    const chart = nodes.find((n) => n.type === 'ui-chart')!;
    await helper.load([...CORE, ...DASHBOARD, ...ALL_NODES] as never[], nodes, credentials);
    const got: { payload: { x: number; y: number }[]; action: string; ui_update: unknown }[] = [];
    (helper.getNode(chart.id) as { on(e: 'input', l: (m: never) => void): void }).on('input', (m) =>
      got.push(m),
    );
    await waitFor(() => got.length > 0, 'the chart’s points');
    const { payload, action, ui_update } = got[0]!;
    expect(action).to.equal('replace');
    // Dexcom gives the whole day: about 288 readings, oldest first, in mg/dL.
    expect(payload.length).to.be.within(250, 300);
    expect(payload.map((p) => p.x)).to.deep.equal(payload.map((p) => p.x).sort((a, b) => a - b));
    for (const point of payload) expect(point.y).to.be.within(39, 401);
    expect(JSON.stringify(ui_update))
      .to.contain('"markArea"')
      .and.contain('"yAxis":70')
      .and.contain('"yAxis":180');
  });

  it('the Home Assistant example publishes retained discovery to the broker', async () => {
    const { nodes, credentials } = localise(examples.find((e) => e.file.startsWith('Home Assistant'))!.flow);
    await helper.load([...CORE, ...ALL_NODES] as never[], nodes, credentials);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`);
    try {
      const seen = new Map<string, string>();
      client.on('message', (topic, payload) => seen.set(topic, payload.toString()));
      await client.subscribeAsync(['glucobridge/#', 'homeassistant/#']);
      // mqtt out sends each message on its own: under load they arrive in any order, so wait for all three kinds.
      const configs = () =>
        [...seen.keys()].filter((t) => t.startsWith('homeassistant/') && t.endsWith('/config'));
      await waitFor(
        () =>
          [...seen.keys()].some((t) => t.endsWith('/state')) &&
          configs().length > 3 &&
          seen.has('glucobridge/status'),
        'retained state, discovery and availability',
      );
      expect(seen.get('glucobridge/status')).to.equal('online');
      expect(configs()).to.not.be.empty;
    } finally {
      await client.endAsync();
    }
  });
});
