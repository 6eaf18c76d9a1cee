// The LibreLinkUp sensor and the cloud's own limits, end to end: simulator → follower → bridge → a
// real (embedded) broker, read back as Home Assistant and a subscriber see them.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/bridge/broker';
import { parseBridgeConfig } from '../../src/bridge/config';
import { Bridge } from '../../src/bridge/runner';
import { silentLogger } from '../../src/model/logger';
import { LibreLinkUpSimulator, LIBRE_DEMO_ACCOUNTS } from '../../src/simulator/librelinkup';
import { sensorSerial, sensorStart } from '../../src/simulator/librelinkup-records';
import { Simulator } from '../../src/simulator/server';
import type { SimResponse } from '../../src/simulator/types';
import { until } from '../until';
import { watchBroker } from './helpers';

const FAMILY = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('family@'))!;
const MIA = FAMILY.patients[0]!;
const DAY = 24 * 3600_000;

/**
 * Every current measurement at 200 mg/dL, and Mia's target range 70–160 (the cloud's own), in every answer
 * that carries the connection: the connections list and each graph (the statistics read it).
 */
function at200(response: SimResponse): SimResponse {
  const body = response.body as { data?: unknown };
  const fix = (connection: Record<string, unknown>) => ({
    ...connection,
    targetLow: 70,
    targetHigh: 160,
    glucoseMeasurement: { ...(connection.glucoseMeasurement as object), ValueInMgPerDl: 200, Value: 200 },
  });
  if (Array.isArray(body.data)) {
    return { ...response, body: { ...body, data: (body.data as Record<string, unknown>[]).map(fix) } };
  }
  const graph = body.data as { connection?: Record<string, unknown> } | undefined;
  if (graph?.connection) {
    return { ...response, body: { ...body, data: { ...graph, connection: fix(graph.connection) } } };
  }
  return response;
}

describe('the bridge: LibreLinkUp sensor and thresholds "cloud" (real broker)', function () {
  this.timeout(60_000);
  let sim: Simulator;
  let dir: string;

  beforeEach(async () => {
    sim = new Simulator({ providers: [new LibreLinkUpSimulator()] });
    await sim.listen();
    dir = mkdtempSync(join(tmpdir(), 'gb-sensor-'));
    sim.faults.add({
      kind: 'rewrite',
      provider: 'librelinkup',
      path: /\/llu\/connections(\/[^/]+\/graph)?$/,
      times: Infinity,
      rewrite: at200,
    });
  });
  afterEach(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One bridge run on a broker of its own (nothing retained from a run before), until it published. */
  async function run(
    thresholds: unknown,
    ready: (last: Map<string, string>) => boolean = () => true,
  ): Promise<Map<string, string>> {
    const broker: EmbeddedBroker = await startEmbeddedBroker(0);
    const mqtt = await watchBroker(broker.url);
    const bridge = new Bridge(
      parseBridgeConfig(
        {
          mqtt: { url: broker.url },
          thresholds: { urgentLow: 55, low: 70, high: 250 },
          accounts: [
            {
              name: 'Mia',
              provider: 'librelinkup',
              server: `${sim.urlFor('librelinkup')}/{region}`,
              username: FAMILY.email,
              password: FAMILY.password,
              patient: 'Mia',
              ...(thresholds === undefined ? {} : { thresholds }),
            },
          ],
        },
        {},
      ),
      { logger: silentLogger, stateFile: join(dir, 'state.json') },
    );
    try {
      await bridge.start();
      await until('the state', () => mqtt.last.get('glucobridge/mia/state'));
      await until('the sensor entities', () =>
        mqtt.last.get('homeassistant/sensor/glucobridge_mia/sensor_ends/config'),
      );
      // The cloud's limits arrive with the person's details, after the first discovery.
      await until('the discovery of these limits', () => ready(mqtt.last));
      return new Map(mqtt.last);
    } finally {
      await bridge.stop();
      await mqtt.client.endAsync(true);
      await broker.close();
    }
  }

  it('publishes the sensor: serial (diagnostic), start and end as timestamps, and the sensor object in the state', async () => {
    const last = await run(undefined);
    const state = JSON.parse(last.get('glucobridge/mia/state')!) as { sensor: Record<string, unknown> };
    const start = sensorStart(MIA, Date.now());
    expect(state.sensor).to.include({
      serial: sensorSerial(MIA, start),
      activated: new Date(start).toISOString(),
      ends: new Date(start + 14 * DAY).toISOString(),
    });
    expect(state.sensor.daysLeft).to.be.a('number');
    expect(state.sensor.warmingUp).to.be.a('boolean');
    const config = (id: string, component = 'sensor') =>
      JSON.parse(last.get(`homeassistant/${component}/glucobridge_mia/${id}/config`) ?? '{}') as Record<
        string,
        unknown
      >;
    expect(config('sensor_serial')).to.include({
      entity_category: 'diagnostic',
      state_topic: 'glucobridge/mia/state',
    });
    expect(config('sensor_serial').value_template).to.contain('value_json.sensor.serial');
    expect(config('sensor_started')).to.include({ device_class: 'timestamp' });
    expect(config('sensor_ends')).to.include({ device_class: 'timestamp' });
    expect(config('sensor_ends').value_template).to.contain('value_json.sensor.ends');
    expect(config('sensor_days_left')).to.include({ device_class: 'duration', unit_of_measurement: 'd' });
    expect(config('sensor_ending', 'binary_sensor')).to.include({ name: 'Sensor ends within 24 h' });
  });

  it('"cloud" takes high from the connection\'s targetHigh: 200 mg/dL is high at 160, not at the configured 250', async () => {
    const configured = JSON.parse((await run(undefined)).get('glucobridge/mia/state')!) as Record<
      string,
      unknown
    >;
    expect(configured).to.include({ mgdl: 200, high: false, low: false });

    const last = await run('cloud', (seen) =>
      (seen.get('homeassistant/binary_sensor/glucobridge_mia/high/config') ?? '').includes('160'),
    );
    const cloud = JSON.parse(last.get('glucobridge/mia/state')!) as Record<string, unknown>;
    expect(cloud).to.include({ mgdl: 200, high: true, low: false });
    const high = JSON.parse(last.get('homeassistant/binary_sensor/glucobridge_mia/high/config')!) as {
      json_attributes_template: string;
    };
    expect(JSON.parse(high.json_attributes_template)).to.deep.equal({ threshold: 160, unit: 'mg/dL' });
    const urgent = JSON.parse(last.get('homeassistant/binary_sensor/glucobridge_mia/urgent_low/config')!) as {
      json_attributes_template: string;
    };
    // The fixed low alarm of the follower's alarm rules (55 mg/dL in the simulator, as in every capture).
    expect(JSON.parse(urgent.json_attributes_template)).to.include({ threshold: 55 });
  });
});
