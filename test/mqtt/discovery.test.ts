import { expect } from 'chai';
import { HOME_ASSISTANT_TREND_OPTIONS } from '../../src/model/trend';
import { discoveryMessages, removalMessages } from '../../src/mqtt/discovery';
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
  "{{ {'doubleUp': 'rising_quickly', 'singleUp': 'rising', 'fortyFiveUp': 'rising_slightly', " +
  "'flat': 'steady', 'fortyFiveDown': 'falling_slightly', 'singleDown': 'falling', " +
  "'doubleDown': 'falling_quickly', 'rateOutOfRange': 'sensor_unavailable'}.get(value, 'None') }}";

describe('mqtt discovery', () => {
  const dexcom = shared('anna', 'Anna', { manufacturer: 'Dexcom', model: 'Dexcom Share' });

  it('publishes one retained QoS 1 config per entity, in a fixed order, under the node id', () => {
    const messages = discoveryMessages(ANNA);
    expect(messages.map((m) => m.topic)).to.deep.equal([
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
      object_id: 'anna_glucose',
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
      object_id: 'anna_trend',
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
      object_id: 'anna_last_reading',
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
      object_id: 'anna_delta',
      default_entity_id: 'sensor.anna_delta',
      ...dexcom,
    });
  });

  it('has low, urgent low and high binary sensors carrying their threshold', () => {
    const configs = byTopic(discoveryMessages(ANNA));
    const flag = (objectId: string, name: string, field: string, threshold: number): Config => ({
      name,
      state_topic: 'glucobridge/anna/state',
      value_template: `{{ 'ON' if value_json.${field} else 'OFF' }}`,
      json_attributes_topic: 'glucobridge/anna/state',
      json_attributes_template: `{"threshold":${threshold},"unit":"mg/dL"}`,
      unique_id: `glucobridge_anna_${objectId}`,
      object_id: `anna_${objectId}`,
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

  it('has a stale problem sensor and an account problem sensor whose attributes carry the error code', () => {
    const configs = byTopic(discoveryMessages(ANNA));
    expect(configs.get('homeassistant/binary_sensor/glucobridge_anna/stale/config')).to.deep.equal({
      name: 'Stale data',
      state_topic: 'glucobridge/anna/state',
      value_template: "{{ 'ON' if value_json.stale else 'OFF' }}",
      device_class: 'problem',
      unique_id: 'glucobridge_anna_stale',
      object_id: 'anna_stale',
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
      object_id: 'anna_problem',
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
      object_id: `carla_${objectId}`,
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
