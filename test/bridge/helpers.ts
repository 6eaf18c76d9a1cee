// Shared parts of the bridge tests: the demo clouds, a broker and a directory for each test, a
// subscriber that remembers what the broker carried, and the CONFIG error a configuration is refused with.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/bridge/broker';
import { CgmError } from '../../src/model/errors';
import { createDemoSimulator } from '../../src/simulator';
import type { Simulator } from '../../src/simulator/server';

export interface BridgeRig {
  /** The demo simulator (every cloud), listening. */
  sim: Simulator;
  /** An embedded broker on a free port. */
  broker: EmbeddedBroker;
  /** A fresh directory (`prefix` + random) for state and configuration files. */
  dir: string;
}

/**
 * Before each test of the enclosing `describe`: the demo clouds, a broker and a directory, handed to
 * `started`; after it, all three are gone (a broker a test closed itself included). Hooks registered
 * before this call run before these.
 */
export function useBridgeRig(prefix: string, started: (rig: BridgeRig) => void): void {
  let rig: BridgeRig | undefined;
  beforeEach(async () => {
    const sim = createDemoSimulator();
    await sim.listen();
    rig = { sim, broker: await startEmbeddedBroker(0), dir: mkdtempSync(join(tmpdir(), prefix)) };
    started(rig);
  });
  afterEach(async () => {
    if (!rig) return;
    await rig.sim.close();
    await rig.broker.close().catch(() => undefined);
    rmSync(rig.dir, { recursive: true, force: true });
    rig = undefined;
  });
}

export interface BrokerWatch {
  client: MqttClient;
  /** The last payload of each topic (an empty one too: a cleared retained topic). */
  last: Map<string, string>;
  /** Whether the last message of each topic came retained. */
  retained: Map<string, boolean>;
  /** How many messages came on each topic. */
  counts: Map<string, number>;
  /** The last payload of `topic` once `test` holds for it; fails after `ms` with the last one seen. */
  waitFor(topic: string, test?: (payload: string) => boolean, ms?: number): Promise<string>;
}

/** Subscribes to everything the bridge publishes (`glucobridge/#`, `homeassistant/#`) at QoS 1. */
export async function watchBroker(url: string, options: IClientOptions = {}): Promise<BrokerWatch> {
  const client = await connectAsync(url, options);
  const last = new Map<string, string>();
  const retained = new Map<string, boolean>();
  const counts = new Map<string, number>();
  const waiters: (() => void)[] = [];
  client.on('message', (topic, payload, packet) => {
    last.set(topic, payload.toString());
    retained.set(topic, packet.retain);
    counts.set(topic, (counts.get(topic) ?? 0) + 1);
    for (const wake of waiters.splice(0)) wake();
  });
  await client.subscribeAsync(['glucobridge/#', 'homeassistant/#'], { qos: 1 });
  const waitFor = async (topic: string, test: (payload: string) => boolean = () => true, ms = 15_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const payload = last.get(topic);
      if (payload !== undefined && test(payload)) return payload;
      if (Date.now() > deadline) throw new Error(`no message on ${topic} within ${ms} ms (last: ${payload})`);
      // Woken by the next message, or after a while at the latest.
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  };
  return { client, last, retained, counts, waitFor };
}

/** The CgmError `run` throws (a configuration refused); fails when it throws none or another error. */
export function configError(run: () => unknown): CgmError {
  try {
    run();
  } catch (error) {
    if (error instanceof CgmError) return error;
    throw error;
  }
  throw new Error('expected a CONFIG error');
}
