import { nightscoutDestinationSchema, describeIssues, type NightscoutDestination } from '../src/config';
import { destinationProblem } from '../src/follow/destinations';
import { NightscoutSink } from '../src/follow/upload-sink';
import { CgmError, toCgmError } from '../src/model/errors';
import { nodeLogger, sessionContextStore } from './lib/host';
import { messageReadings } from './lib/nightscout-input';
import { guardInput, NodeRedError, refuseInput } from './lib/status';
import { ContextStateStore } from './lib/state-store';
import type { Node, NodeAPI, NodeDef, NodeStatus } from './lib/types';

interface NightscoutDef extends NodeDef {
  api?: string;
  /** Per-request timeout (ms); not in the dialog, for tests and slow sites. */
  timeoutMs?: number;
}

/** The site and its secrets, kept as Node-RED credentials (a readable site's address is private too). */
interface NightscoutCredentials {
  server?: string;
  token?: string;
  apiSecret?: string;
}

/** cgm-nightscout: uploads every reading it receives to a Nightscout site, once each and in order. */
export = function register(RED: NodeAPI): void {
  function CgmNightscoutNode(this: Node<NightscoutCredentials>, def: NightscoutDef): void {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node<NightscoutCredentials>, def: NightscoutDef): void {
    const logger = nodeLogger(node);
    let sink: NightscoutSink;
    try {
      const destination = nodeDestination(def, node.credentials ?? {});
      // The position lives in the node's context (kept across redeploys, and restarts with a file store).
      const store = new ContextStateStore(
        node.id,
        node.context(),
        `cgm-nightscout:${node.id}`,
        sessionContextStore(RED.settings),
        logger,
      );
      sink = new NightscoutSink({ destination, store, logger });
    } catch (thrown) {
      refuseInput(node, toCgmError(thrown));
      return;
    }
    const badInput = RED._('cgm-nightscout.errors.bad-payload');
    /** The person whose readings this node uploads in this run: a site holds one person's glucose. */
    let person: string | undefined;
    let last: number | undefined;

    const show = (): void => node.status(status(sink, last));
    sink.on('position', (time) => {
      last = time;
      show();
    });
    sink.on('problem', (problem) => {
      // Once per change reaches Catch nodes (or the log); retries of the same failure stay quiet.
      if (problem) node.error(new NodeRedError(problem), { payload: problem.toJSON() });
      show();
    });
    node.status({ fill: 'grey', shape: 'ring', text: RED._('cgm-nightscout.status.ready') });

    node.on('input', (msg, _send, done) => {
      guardInput(node, done, () => {
        const readings = messageReadings(msg, badInput);
        const people = new Set(readings.map((r) => r.subject).filter((s) => s !== ''));
        if (person !== undefined) people.add(person);
        if (people.size > 1) throw new CgmError('CONFIG', RED._('cgm-nightscout.errors.two-people'));
        person ??= [...people][0];
        sink.enqueue(readings);
        show();
        done();
        return Promise.resolve();
      });
    });

    node.on('close', (_removed, done) => {
      sink.close().then(
        () => done(),
        () => done(),
      );
    });

    /** Green with the newest reading's time on the site, red with the code; how many wait, when any. */
    function status(of: NightscoutSink, newest: number | undefined): NodeStatus {
      const stats = of.stats();
      const waiting =
        stats.queued > 0 ? ` · ${RED._('cgm-nightscout.status.waiting', { count: stats.queued })}` : '';
      if (stats.problem) return { fill: 'red', shape: 'ring', text: `${stats.problem.code}${waiting}` };
      if (newest === undefined) {
        return { fill: 'grey', shape: 'ring', text: `${RED._('cgm-nightscout.status.ready')}${waiting}` };
      }
      return { fill: 'green', shape: 'dot', text: `↑ ${clock(newest)}${waiting}` };
    }
  }

  RED.nodes.registerType('cgm-nightscout', CgmNightscoutNode, {
    credentials: {
      server: { type: 'text' },
      token: { type: 'password' },
      apiSecret: { type: 'password' },
    },
  });
};

/** The site from the dialog and the credentials; CONFIG naming the field that is missing or wrong. */
function nodeDestination(def: NightscoutDef, creds: NightscoutCredentials): NightscoutDestination {
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  const parsed = nightscoutDestinationSchema.safeParse({
    server: text(creds.server) ?? '',
    token: text(creds.token),
    apiSecret: text(creds.apiSecret),
    ...(text(def.api) ? { api: text(def.api) } : {}),
    ...(typeof def.timeoutMs === 'number' ? { timeoutMs: def.timeoutMs } : {}),
  });
  if (!parsed.success) throw new CgmError('CONFIG', describeIssues(parsed.error));
  const problem = destinationProblem(parsed.data);
  if (problem) throw new CgmError('CONFIG', problem.message);
  return parsed.data;
}

/** The host's local wall time, `HH:MM`: what the person at the editor reads a status in. */
function clock(time: number): string {
  const at = new Date(time);
  return `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
}
