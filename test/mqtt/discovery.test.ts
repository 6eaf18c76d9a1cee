import { expect } from 'chai';
import { HOME_ASSISTANT_TREND_OPTIONS } from '../../src/model/trend';
import { CgmError } from '../../src/model/errors';
import { bridgeDiscoveryMessages, bridgeStateMessages } from '../../src/mqtt/bridge';
import { discoveryMessages, removalMessages } from '../../src/mqtt/discovery';
import { subjectSlug, validateSubject } from '../../src/mqtt/subject';
import { VERSION } from '../../src/version';
import { ANNA, BOB, CARLA } from './fixtures';

type Config = Record<string, unknown>;

/** The blocks every entity of a subject shares. */
function shared(
  key: string,
  name: string,
  model: { manufacturer: string; model: string },
  base = 'glucobridge',
) {
  const id = base === 'glucobridge' ? `glucobridge_${key}` : `glucobridge_${key}__${base}`;
  return {
    availability: [
      { topic: `${base}/status`, payload_available: 'online', payload_not_available: 'offline' },
    ],
    device: { identifiers: [id], name, ...model, sw_version: VERSION },
    origin: {
      name: 'GlucoBridge',
      sw_version: VERSION,
      support_url: 'https://github.com/glucobridge/homebridge-glucobridge/issues',
    },
  };
}

function byTopic(messages: { topic: string; payload: string }[]): Map<string, Config> {
  return new Map(messages.map((m) => [m.topic, JSON.parse(m.payload) as Config]));
}

const TREND_TEMPLATE =
  "{{ value if value in ['rising_quickly', 'rising', 'rising_slightly', 'steady', 'falling_slightly', " +
  "'falling', 'falling_quickly', 'sensor_unavailable'] else None }}";

describe('mqtt discovery', () => {
  const dexcom = shared('anna', 'Anna', { manufacturer: 'Dexcom', model: 'Dexcom Share' });

  it('publishes one retained QoS 1 config per entity, in a fixed order, under the node id', () => {
    const messages = discoveryMessages(ANNA);
    // The glucose entities first (the time-in-range ones follow: test/mqtt/statistics.test.ts).
    expect(messages.map((m) => m.topic).slice(0, 9)).to.deep.equal([
      'homeassistant/sensor/glucobridge_anna/glucose/config',
      'homeassistant/sensor/glucobridge_anna/trend/config',
      'homeassistant/sensor/glucobridge_anna/last_reading/config',
      'homeassistant/sensor/glucobridge_anna/delta/config',
      'homeassistant/binary_sensor/glucobridge_anna/urgent_low/config',
      'homeassistant/binary_sensor/glucobridge_anna/low/config',
      'homeassistant/binary_sensor/glucobridge_anna/high/config',
      'homeassistant/binary_sensor/glucobridge_anna/stale/config',
      'homeassistant/binary_sensor/glucobridge_anna/problem/config',
    ]);
    for (const m of messages)
      expect({ retain: m.retain, qos: m.qos }).to.deep.equal({ retain: true, qos: 1 });
  });

  it('describes the glucose sensor with the blood glucose device class, unit and expiry', () => {
    const config = byTopic(discoveryMessages(ANNA)).get(
      'homeassistant/sensor/glucobridge_anna/glucose/config',
    );
    expect(config).to.deep.equal({
      name: 'Glucose',
      state_topic: 'glucobridge/anna/glucose',
      device_class: 'blood_glucose_concentration',
      state_class: 'measurement',
      unit_of_measurement: 'mg/dL',
      suggested_display_precision: 0,
      expire_after: 900,
      json_attributes_topic: 'glucobridge/anna/state',
      unique_id: 'glucobridge_anna_glucose',
      default_entity_id: 'sensor.anna_glucose',
      ...dexcom,
    });
  });

  it('maps the trend onto Home Assistant’s own Dexcom trend states as an enum sensor', () => {
    const config = byTopic(discoveryMessages(ANNA)).get('homeassistant/sensor/glucobridge_anna/trend/config');
    expect(config).to.deep.equal({
      name: 'Glucose trend',
      state_topic: 'glucobridge/anna/trend',
      value_template: TREND_TEMPLATE,
      device_class: 'enum',
      options: [
        'rising_quickly',
        'rising',
        'rising_slightly',
        'steady',
        'falling_slightly',
        'falling',
        'falling_quickly',
        'sensor_unavailable',
      ],
      expire_after: 900,
      icon: 'mdi:chart-line-variant',
      unique_id: 'glucobridge_anna_trend',
      default_entity_id: 'sensor.anna_trend',
      ...dexcom,
    });
    expect((config as { options: string[] }).options).to.deep.equal([...HOME_ASSISTANT_TREND_OPTIONS]);
  });

  it('has a timestamp sensor for the last reading and a delta in the unit', () => {
    const configs = byTopic(discoveryMessages(ANNA));
    expect(configs.get('homeassistant/sensor/glucobridge_anna/last_reading/config')).to.deep.equal({
      name: 'Last reading',
      state_topic: 'glucobridge/anna/state',
      value_template: '{{ value_json.time }}',
      device_class: 'timestamp',
      unique_id: 'glucobridge_anna_last_reading',
      default_entity_id: 'sensor.anna_last_reading',
      ...dexcom,
    });
    expect(configs.get('homeassistant/sensor/glucobridge_anna/delta/config')).to.deep.equal({
      name: 'Glucose delta',
      state_topic: 'glucobridge/anna/state',
      value_template: '{{ value_json.delta }}',
      state_class: 'measurement',
      unit_of_measurement: 'mg/dL',
      suggested_display_precision: 0,
      icon: 'mdi:delta',
      unique_id: 'glucobridge_anna_delta',
      default_entity_id: 'sensor.anna_delta',
      ...dexcom,
    });
  });

  it('has low, urgent low and high binary sensors with icons, carrying their threshold', () => {
    const configs = byTopic(discoveryMessages(ANNA));
    const icons: Record<string, string> = {
      urgent_low: 'mdi:arrow-collapse-down',
      low: 'mdi:arrow-down-bold',
      high: 'mdi:arrow-up-bold',
    };
    const flag = (objectId: string, name: string, field: string, threshold: number): Config => ({
      name,
      state_topic: 'glucobridge/anna/state',
      value_template: `{{ 'ON' if value_json.${field} else 'OFF' }}`,
      icon: icons[objectId],
      json_attributes_topic: 'glucobridge/anna/state',
      json_attributes_template: `{"threshold":${threshold},"unit":"mg/dL"}`,
      unique_id: `glucobridge_anna_${objectId}`,
      default_entity_id: `binary_sensor.anna_${objectId}`,
      ...dexcom,
    });
    const prefix = 'homeassistant/binary_sensor/glucobridge_anna';
    expect(configs.get(`${prefix}/urgent_low/config`)).to.deep.equal(
      flag('urgent_low', 'Urgent low', 'urgentLow', 55),
    );
    expect(configs.get(`${prefix}/low/config`)).to.deep.equal(flag('low', 'Low', 'low', 70));
    expect(configs.get(`${prefix}/high/config`)).to.deep.equal(flag('high', 'High', 'high', 180));
  });

  it('has stale and account problem sensors under diagnostics; the problem attributes carry the code', () => {
    const configs = byTopic(discoveryMessages(ANNA));
    expect(configs.get('homeassistant/binary_sensor/glucobridge_anna/stale/config')).to.deep.equal({
      name: 'Stale data',
      state_topic: 'glucobridge/anna/state',
      value_template: "{{ 'ON' if value_json.stale else 'OFF' }}",
      device_class: 'problem',
      entity_category: 'diagnostic',
      unique_id: 'glucobridge_anna_stale',
      default_entity_id: 'binary_sensor.anna_stale',
      ...dexcom,
    });
    expect(configs.get('homeassistant/binary_sensor/glucobridge_anna/problem/config')).to.deep.equal({
      name: 'Account problem',
      state_topic: 'glucobridge/anna/problem',
      value_template: "{{ 'ON' if value_json.problem else 'OFF' }}",
      json_attributes_topic: 'glucobridge/anna/problem',
      device_class: 'problem',
      entity_category: 'diagnostic',
      unique_id: 'glucobridge_anna_problem',
      default_entity_id: 'binary_sensor.anna_problem',
      ...dexcom,
    });
  });

  it('uses mmol/L with one decimal, thresholds converted, for a subject that reads mmol/L', () => {
    const configs = byTopic(discoveryMessages(BOB));
    const glucose = configs.get('homeassistant/sensor/glucobridge_bob/glucose/config');
    expect(glucose).to.include({
      unit_of_measurement: 'mmol/L',
      suggested_display_precision: 1,
      expire_after: 600,
    });
    expect(glucose?.device).to.deep.equal({
      identifiers: ['glucobridge_bob'],
      name: 'Bob',
      manufacturer: 'Abbott',
      model: 'LibreLinkUp',
      sw_version: VERSION,
    });
    expect(configs.get('homeassistant/sensor/glucobridge_bob/delta/config')).to.include({
      unit_of_measurement: 'mmol/L',
      suggested_display_precision: 1,
    });
    expect(configs.get('homeassistant/binary_sensor/glucobridge_bob/low/config')).to.include({
      json_attributes_template: '{"threshold":4,"unit":"mmol/L"}',
    });
    expect(configs.get('homeassistant/binary_sensor/glucobridge_bob/high/config')).to.include({
      json_attributes_template: '{"threshold":11,"unit":"mmol/L"}',
    });
  });

  it('adds weight, blood pressure, pulse and temperature for a VitaDock subject that has them', () => {
    const medisana = shared('carla', 'Carla', { manufacturer: 'Medisana', model: 'VitaDock Online' });
    const messages = discoveryMessages(CARLA);
    const configs = byTopic(messages);
    expect(messages.map((m) => m.topic).slice(9)).to.deep.equal([
      'homeassistant/sensor/glucobridge_carla/weight/config',
      'homeassistant/sensor/glucobridge_carla/systolic/config',
      'homeassistant/sensor/glucobridge_carla/diastolic/config',
      'homeassistant/sensor/glucobridge_carla/pulse/config',
      'homeassistant/sensor/glucobridge_carla/temperature/config',
    ]);
    const ids = (objectId: string) => ({
      unique_id: `glucobridge_carla_${objectId}`,
      default_entity_id: `sensor.carla_${objectId}`,
      ...medisana,
    });
    expect(configs.get('homeassistant/sensor/glucobridge_carla/weight/config')).to.deep.equal({
      name: 'Weight',
      value_template: '{{ value_json.weightKg }}',
      device_class: 'weight',
      unit_of_measurement: 'kg',
      suggested_display_precision: 1,
      state_topic: 'glucobridge/carla/weight',
      state_class: 'measurement',
      json_attributes_topic: 'glucobridge/carla/weight',
      ...ids('weight'),
    });
    for (const [objectId, name, field] of [
      ['systolic', 'Systolic blood pressure', 'systolic'],
      ['diastolic', 'Diastolic blood pressure', 'diastolic'],
    ]) {
      expect(configs.get(`homeassistant/sensor/glucobridge_carla/${objectId}/config`)).to.deep.equal({
        name,
        value_template: `{{ value_json.${field} }}`,
        unit_of_measurement: 'mmHg',
        icon: 'mdi:heart-pulse',
        state_topic: 'glucobridge/carla/blood_pressure',
        state_class: 'measurement',
        json_attributes_topic: 'glucobridge/carla/blood_pressure',
        ...ids(objectId!),
      });
    }
    expect(configs.get('homeassistant/sensor/glucobridge_carla/pulse/config')).to.deep.equal({
      name: 'Pulse',
      value_template: '{{ value_json.pulse }}',
      unit_of_measurement: 'bpm',
      icon: 'mdi:heart',
      state_topic: 'glucobridge/carla/blood_pressure',
      state_class: 'measurement',
      json_attributes_topic: 'glucobridge/carla/blood_pressure',
      ...ids('pulse'),
    });
    expect(configs.get('homeassistant/sensor/glucobridge_carla/temperature/config')).to.deep.equal({
      name: 'Body temperature',
      value_template: '{{ value_json.celsius }}',
      device_class: 'temperature',
      unit_of_measurement: '°C',
      suggested_display_precision: 1,
      state_topic: 'glucobridge/carla/temperature',
      state_class: 'measurement',
      json_attributes_topic: 'glucobridge/carla/temperature',
      ...ids('temperature'),
    });
  });

  it('gets only the measurement entities a subject lists', () => {
    const topics = discoveryMessages({ ...CARLA, measurementKinds: ['temperature', 'insulin'] }).map(
      (m) => m.topic,
    );
    expect(topics.filter((t) => /weight|systolic|pulse|temperature/.test(t))).to.deep.equal([
      'homeassistant/sensor/glucobridge_carla/temperature/config',
    ]);
  });

  it('follows a custom base topic and discovery prefix, keeping ids apart from the default bridge', () => {
    const messages = discoveryMessages(ANNA, { baseTopic: 'home/cgm', discoveryPrefix: 'ha' });
    expect(messages[0]?.topic).to.equal('ha/sensor/glucobridge_anna__home_cgm/glucose/config');
    const config = JSON.parse(messages[0]!.payload) as Config;
    expect(config).to.include({
      state_topic: 'home/cgm/anna/glucose',
      unique_id: 'glucobridge_anna__home_cgm_glucose',
    });
    expect(config.availability).to.deep.equal([
      { topic: 'home/cgm/status', payload_available: 'online', payload_not_available: 'offline' },
    ]);
  });

  it('removes a subject with an empty retained payload on every config and data topic', () => {
    const removal = removalMessages(CARLA);
    const configs = discoveryMessages(CARLA).map((m) => m.topic);
    expect(removal.map((m) => m.topic)).to.deep.equal([
      ...configs,
      'glucobridge/carla/state',
      'glucobridge/carla/glucose',
      'glucobridge/carla/trend',
      'glucobridge/carla/problem',
      'glucobridge/carla/weight',
      'glucobridge/carla/blood_pressure',
      'glucobridge/carla/temperature',
      'glucobridge/carla/insulin',
      'glucobridge/carla/meal',
      'glucobridge/carla/activity',
    ]);
    for (const m of removal) expect(m).to.include({ payload: '', retain: true, qos: 1 });
  });
});

describe('mqtt discovery: the bridge device', () => {
  it('links every person’s device to the bridge with via_device when the bridge is published', () => {
    for (const m of discoveryMessages(ANNA, { bridge: {} })) {
      const config = JSON.parse(m.payload) as { device: Config };
      expect(config.device.via_device).to.equal('glucobridge_bridge');
    }
    const custom = JSON.parse(discoveryMessages(ANNA, { bridge: {}, baseTopic: 'home/cgm' })[0]!.payload) as {
      device: Config;
    };
    expect(custom.device.via_device).to.equal('glucobridge_bridge__home_cgm');
    // Without a bridge device there is nothing to point at.
    const alone = JSON.parse(discoveryMessages(ANNA)[0]!.payload) as { device: Config };
    expect(alone.device).not.to.have.property('via_device');
  });

  it('is "GlucoBridge bridge" with its version, connection state, accounts and last error', () => {
    const messages = bridgeDiscoveryMessages({
      model: 'Stand-alone bridge',
      configurationUrl: 'http://10.0.0.2:8080/',
    });
    expect(messages.map((m) => m.topic)).to.deep.equal([
      'homeassistant/binary_sensor/glucobridge_bridge/connection_state/config',
      'homeassistant/sensor/glucobridge_bridge/accounts/config',
      'homeassistant/sensor/glucobridge_bridge/last_error/config',
    ]);
    const configs = byTopic(messages);
    const device = {
      identifiers: ['glucobridge_bridge'],
      name: 'GlucoBridge bridge',
      manufacturer: 'GlucoBridge',
      model: 'Stand-alone bridge',
      sw_version: VERSION,
      configuration_url: 'http://10.0.0.2:8080/',
    };
    const origin = {
      name: 'GlucoBridge',
      sw_version: VERSION,
      support_url: 'https://github.com/glucobridge/homebridge-glucobridge/issues',
    };
    const availability = [
      { topic: 'glucobridge/status', payload_available: 'online', payload_not_available: 'offline' },
    ];
    // The connection state reads the availability topic (with the last will) and is never unavailable itself.
    expect(
      configs.get('homeassistant/binary_sensor/glucobridge_bridge/connection_state/config'),
    ).to.deep.equal({
      name: 'Connection state',
      state_topic: 'glucobridge/status',
      payload_on: 'online',
      payload_off: 'offline',
      device_class: 'connectivity',
      entity_category: 'diagnostic',
      unique_id: 'glucobridge_bridge_connection_state',
      default_entity_id: 'binary_sensor.glucobridge_bridge_connection_state',
      device,
      origin,
    });
    expect(configs.get('homeassistant/sensor/glucobridge_bridge/accounts/config')).to.deep.equal({
      name: 'Accounts',
      state_topic: 'glucobridge/bridge/state',
      value_template: '{{ value_json.accounts }}',
      icon: 'mdi:account-multiple',
      entity_category: 'diagnostic',
      unique_id: 'glucobridge_bridge_accounts',
      default_entity_id: 'sensor.glucobridge_bridge_accounts',
      availability,
      device,
      origin,
    });
    expect(configs.get('homeassistant/sensor/glucobridge_bridge/last_error/config')).to.include({
      state_topic: 'glucobridge/bridge/state',
      value_template: "{{ value_json.lastError.code if value_json.lastError else 'none' }}",
      entity_category: 'diagnostic',
    });
  });

  it('has no configuration_url unless given one, and refuses one that is not http(s)', () => {
    const [first] = bridgeDiscoveryMessages({});
    expect((JSON.parse(first!.payload) as { device: Config }).device).to.deep.equal({
      identifiers: ['glucobridge_bridge'],
      name: 'GlucoBridge bridge',
      manufacturer: 'GlucoBridge',
      model: 'Bridge',
      sw_version: VERSION,
    });
    expect(() => bridgeDiscoveryMessages({ configurationUrl: 'javascript:alert(1)' }))
      .to.throw(CgmError)
      .with.property('code', 'CONFIG');
  });

  it('reports its state as retained JSON on <base>/bridge/state', () => {
    const time = new Date(Date.UTC(2026, 2, 14, 8, 0));
    expect(bridgeStateMessages({ accounts: 2, lastError: null })).to.deep.equal([
      {
        topic: 'glucobridge/bridge/state',
        payload: JSON.stringify({ version: VERSION, accounts: 2, lastError: null }),
        retain: true,
        qos: 1,
      },
    ]);
    const [failed] = bridgeStateMessages(
      { accounts: 3, lastError: { code: 'AUTH_INVALID', message: 'wrong password', account: 'Anna', time } },
      { baseTopic: 'home/cgm' },
    );
    expect(failed!.topic).to.equal('home/cgm/bridge/state');
    expect(JSON.parse(failed!.payload)).to.deep.equal({
      version: VERSION,
      accounts: 3,
      lastError: {
        code: 'AUTH_INVALID',
        message: 'wrong password',
        account: 'Anna',
        time: time.toISOString(),
      },
    });
  });

  it('keeps the name "bridge" for itself: no account may take it', () => {
    expect(() => subjectSlug('Bridge'))
      .to.throw(CgmError)
      .with.property('code', 'CONFIG');
    expect(() => validateSubject({ ...ANNA, key: 'bridge' })).to.throw(CgmError);
  });
});

describe('mqtt discovery: device-based layout', () => {
  it('puts a person’s whole device in one retained config with the entities as components', () => {
    const entity = discoveryMessages(ANNA, { bridge: {} });
    const device = discoveryMessages(ANNA, { layout: 'device', bridge: {} });
    expect(device).to.have.length(1);
    expect(device[0]).to.include({
      topic: 'homeassistant/device/glucobridge_anna/config',
      retain: true,
      qos: 1,
    });
    const payload = JSON.parse(device[0]!.payload) as {
      device: Config;
      origin: Config;
      availability: Config[];
      components: Record<string, Config>;
    };
    const first = JSON.parse(entity[0]!.payload) as Config;
    expect(payload.device).to.deep.equal(first.device);
    expect(payload.origin).to.deep.equal(first.origin);
    expect(payload.availability).to.deep.equal(first.availability);
    // Each component is the per-entity config with its platform, without the shared blocks.
    expect(Object.keys(payload.components)).to.deep.equal(entity.map((m) => m.topic.split('/')[3]));
    for (const m of entity) {
      const [, component, , objectId] = m.topic.split('/');
      const { device: _d, origin: _o, availability: _a, ...own } = JSON.parse(m.payload) as Config;
      expect(payload.components[objectId!]).to.deep.equal({ platform: component, ...own });
    }
  });

  it('gives the bridge device per-component availability, none on its connection state', () => {
    const [message] = bridgeDiscoveryMessages({}, { layout: 'device' });
    expect(message!.topic).to.equal('homeassistant/device/glucobridge_bridge/config');
    const payload = JSON.parse(message!.payload) as { components: Record<string, Config> };
    expect(payload).not.to.have.property('availability');
    expect(payload.components.connection_state).not.to.have.property('availability');
    expect(payload.components.accounts).to.have.property('availability');
    expect(payload.components.last_error).to.have.property('availability');
  });

  it('removes a subject in device layout with its one config and its data topics', () => {
    const removal = removalMessages(ANNA, { layout: 'device' }).map((m) => m.topic);
    expect(removal[0]).to.equal('homeassistant/device/glucobridge_anna/config');
    expect(removal).to.include('glucobridge/anna/state');
    expect(removal.filter((t) => t.startsWith('homeassistant/'))).to.have.length(1);
  });
});
