// Every discovery payload we publish, held against the keys and value types Home Assistant's MQTT
// platforms accept. A key Home Assistant does not know is ignored there (or, in a device config,
// refused); a deprecated key logs a warning in every user's log. Either fails here.
//
// The table is written from Home Assistant's own schemas (home-assistant/core, homeassistant/components/mqtt):
// - schemas.py: MQTT_AVAILABILITY_SINGLE_SCHEMA, MQTT_AVAILABILITY_LIST_SCHEMA, MQTT_ENTITY_DEVICE_INFO_SCHEMA,
//   MQTT_ORIGIN_INFO_SCHEMA, MQTT_ENTITY_COMMON_SCHEMA, DEVICE_DISCOVERY_SCHEMA / COMPONENT_CONFIG_SCHEMA
//   (device-based discovery: `device`, `origin`, `components` required, each component with `platform`)
// - config.py: MQTT_RO_SCHEMA (state_topic, value_template, qos, encoding)
// - sensor.py: _PLATFORM_SCHEMA_BASE (device_class, expire_after, force_update, last_reset_value_template,
//   name, options, suggested_display_precision, state_class, unit_of_measurement) and its check that
//   `options` belongs to `device_class: enum` without state class or unit
// - binary_sensor.py: PLATFORM_SCHEMA (device_class, expire_after, force_update, name, off_delay,
//   payload_off, payload_on)
// - const.py: CONF_DEFAULT_ENTITY_ID = "default_entity_id" (HA 2025.10, core PR #151775), which replaces
//   `object_id`: deprecated in 2025.10 and ignored since 2026.4; `via_hub` is the old name of `via_device`.
// - abbreviations.py: the short forms (stat_t, uniq_id, dev, o, cmps, p, …); we publish full names only.
import { expect } from 'chai';
import { bridgeDiscoveryMessages } from '../../src/mqtt/bridge';
import { discoveryMessages, type DiscoveryOptions } from '../../src/mqtt/discovery';
import type { MqttMessage } from '../../src/mqtt/topics';
import type { SubjectDescriptor } from '../../src/mqtt/subject';
import { ANNA, BOB, CARLA } from './fixtures';

/** A LibreLinkUp person whose sensor the cloud reports: the sensor entities too. */
const DORA: SubjectDescriptor = { ...BOB, key: 'dora', name: 'Dora', sensor: true };

type Check = (value: unknown) => boolean;

const isString: Check = (v) => typeof v === 'string';
const isNullableString: Check = (v) => v === null || typeof v === 'string';
const isBoolean: Check = (v) => typeof v === 'boolean';
/** cv.positive_int: an integer ≥ 0. */
const isPositiveInt: Check = (v) => Number.isInteger(v) && (v as number) >= 0;
const isQos: Check = (v) => v === 0 || v === 1 || v === 2;
/** valid_subscribe_topic: non-empty, no NUL, wildcards only as whole levels. */
const isTopic: Check = (v) =>
  typeof v === 'string' && v !== '' && !v.includes('\u0000') && !/[^/]#|#[^]|[^/]\+|\+[^/]/.test(v);
/** cv.template: any string (a constant renders as itself). */
const isTemplate: Check = isString;
/** cv.icon: `prefix:name`. */
const isIcon: Check = (v) => typeof v === 'string' && /^[a-z0-9-]+:[a-z0-9-]+$/.test(v);
/** cv.configuration_url: http(s) (or homeassistant://). */
const isUrl: Check = (v) => typeof v === 'string' && /^(https?|homeassistant):\/\/\S+$/.test(v);
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v);
const listOf =
  (check: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(check);
const record =
  (table: Table, required: string[] = []): Check =>
  (v) =>
    problems(v, table, '', required).length === 0;

type Table = Record<string, Check>;

/** `default_entity_id` must name an entity of the component's own domain. */
const entityIdOf =
  (domain: string): Check =>
  (v) =>
    typeof v === 'string' && new RegExp(`^${domain}\\.[a-z0-9_]+$`).test(v);

const AVAILABILITY: Table = {
  availability_topic: isTopic,
  availability_template: isTemplate,
  payload_available: isString,
  payload_not_available: isString,
  availability_mode: oneOf('all', 'any', 'latest'),
  availability: listOf(
    record(
      {
        topic: isTopic,
        payload_available: isString,
        payload_not_available: isString,
        value_template: isTemplate,
      },
      ['topic'],
    ),
  ),
};

const DEVICE: Table = {
  identifiers: listOf(isString),
  connections: listOf(listOf(isString)),
  manufacturer: isString,
  model: isString,
  model_id: isString,
  name: isString,
  hw_version: isString,
  serial_number: isString,
  sw_version: isString,
  via_device: isString,
  suggested_area: isString,
  configuration_url: isUrl,
};

const ORIGIN: Table = { name: isString, sw_version: isString, support_url: isUrl };

const entityCommon = (domain: string): Table => ({
  ...AVAILABILITY,
  device: record(DEVICE),
  origin: record(ORIGIN, ['name']),
  enabled_by_default: isBoolean,
  entity_category: oneOf('config', 'diagnostic'),
  entity_picture: isUrl,
  icon: isIcon,
  json_attributes_topic: isTopic,
  json_attributes_template: isTemplate,
  unique_id: isString,
  default_entity_id: entityIdOf(domain),
});

const READ_ONLY: Table = {
  state_topic: isTopic,
  value_template: isTemplate,
  qos: isQos,
  encoding: isString,
};

/** The sensor device classes a GlucoBridge payload may use (all are members of SensorDeviceClass). */
const SENSOR_DEVICE_CLASSES = [
  'blood_glucose_concentration',
  'enum',
  'timestamp',
  'weight',
  'temperature',
  'pressure',
  'duration',
];
/** The binary sensor device classes we may use (all are members of BinarySensorDeviceClass). */
const BINARY_SENSOR_DEVICE_CLASSES = ['problem', 'connectivity', 'safety', 'running'];

const SENSOR: Table = {
  ...READ_ONLY,
  ...entityCommon('sensor'),
  device_class: oneOf(...SENSOR_DEVICE_CLASSES),
  expire_after: isPositiveInt,
  force_update: isBoolean,
  last_reset_value_template: isTemplate,
  name: isNullableString,
  options: (v) => Array.isArray(v) && v.length > 0 && v.every(isString),
  suggested_display_precision: isPositiveInt,
  state_class: oneOf('measurement', 'measurement_angle', 'total', 'total_increasing'),
  unit_of_measurement: isNullableString,
};

const BINARY_SENSOR: Table = {
  ...READ_ONLY,
  ...entityCommon('binary_sensor'),
  device_class: oneOf(...BINARY_SENSOR_DEVICE_CLASSES),
  expire_after: isPositiveInt,
  force_update: isBoolean,
  name: isNullableString,
  off_delay: isPositiveInt,
  payload_off: isString,
  payload_on: isString,
};

const PLATFORMS: Record<string, Table> = { sensor: SENSOR, binary_sensor: BINARY_SENSOR };

/** Keys Home Assistant still reads but warns about (or already ignores): never publish them. */
const DEPRECATED: Record<string, string> = {
  object_id: 'deprecated in HA 2025.10 and ignored since 2026.4: use default_entity_id',
  via_hub: 'old name of device.via_device',
};

/** Device-based discovery: the root of `<prefix>/device/<id>/config`. */
const DEVICE_DISCOVERY: Table = {
  ...AVAILABILITY,
  device: record(DEVICE),
  origin: record(ORIGIN, ['name']),
  components: (v) => v !== null && typeof v === 'object',
  state_topic: isTopic,
  command_topic: isTopic,
  qos: isQos,
  encoding: isString,
};

/** Everything wrong with one object against a table: unknown, deprecated, missing or mistyped keys. */
function problems(value: unknown, table: Table, where: string, required: string[] = []): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${where}: not an object`];
  const out: string[] = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key in DEPRECATED) out.push(`${where}${key}: ${DEPRECATED[key]}`);
    else if (!(key in table)) out.push(`${where}${key}: not a key Home Assistant accepts here`);
    else if (!table[key]!(v)) out.push(`${where}${key}: value ${JSON.stringify(v)} has the wrong type`);
  }
  for (const key of required) if (!(key in value)) out.push(`${where}${key}: required`);
  if (DEVICE === table) return out;
  const device = (value as { device?: Record<string, unknown> }).device;
  if (device) {
    for (const key of Object.keys(device)) {
      if (key in DEPRECATED) out.push(`${where}device.${key}: ${DEPRECATED[key]}`);
      else if (!(key in DEVICE)) out.push(`${where}device.${key}: not a device key`);
    }
    if (!device.identifiers && !device.connections) out.push(`${where}device: needs identifiers`);
  }
  return out;
}

/** The platform-level rules of sensor.py beyond the key table. */
function sensorRules(config: Record<string, unknown>, where: string): string[] {
  const out: string[] = [];
  if ('options' in config) {
    if (config.device_class !== 'enum') out.push(`${where}options: only for device_class enum`);
    if ('state_class' in config || 'unit_of_measurement' in config)
      out.push(`${where}options: not with a state class or unit`);
  }
  if (
    config.device_class === 'blood_glucose_concentration' &&
    !['mg/dL', 'mmol/L'].includes(String(config.unit_of_measurement))
  )
    out.push(`${where}unit_of_measurement: blood glucose takes mg/dL or mmol/L`);
  if (config.entity_category === 'config')
    out.push(`${where}entity_category: a sensor may only be diagnostic`);
  return out;
}

/** Every problem of one published discovery message, in either layout. */
function check(message: MqttMessage): string[] {
  const config = JSON.parse(message.payload) as Record<string, unknown>;
  const levels = message.topic.split('/');
  if (levels[1] === 'device') {
    const out = problems(config, DEVICE_DISCOVERY, `${message.topic} `, ['device', 'origin', 'components']);
    for (const [id, component] of Object.entries(
      config.components as Record<string, Record<string, unknown>>,
    )) {
      const { platform, ...own } = component;
      const table = PLATFORMS[String(platform)];
      const where = `${message.topic} components.${id}.`;
      if (!table) {
        out.push(`${where}platform: ${String(platform)} is not one we expect`);
        continue;
      }
      out.push(...problems(own, table, where, ['unique_id']));
      if (!('state_topic' in own) && !('state_topic' in config)) out.push(`${where}state_topic: required`);
      if (platform === 'sensor') out.push(...sensorRules(own, where));
    }
    return out;
  }
  const platform = levels[1] ?? '';
  const table = PLATFORMS[platform];
  if (!table) return [`${message.topic}: component ${platform} is not one we expect`];
  const where = `${message.topic} `;
  const out = problems(config, table, where, ['state_topic', 'unique_id']);
  if (platform === 'sensor') out.push(...sensorRules(config, where));
  return out;
}

function everyPayload(options: DiscoveryOptions): MqttMessage[] {
  return [
    ...bridgeDiscoveryMessages(
      { model: 'Stand-alone bridge', configurationUrl: 'http://127.0.0.1:8080/' },
      options,
    ),
    ...[ANNA, BOB, CARLA, DORA].flatMap((subject) => discoveryMessages(subject, options)),
  ];
}

describe('Home Assistant MQTT schema: every discovery payload', () => {
  for (const layout of ['entity', 'device'] as const) {
    it(`${layout} layout: only keys and value types the sensor and binary_sensor platforms accept`, () => {
      const messages = everyPayload({ layout, bridge: {} });
      expect(messages.length).to.be.greaterThan(layout === 'entity' ? 20 : 3);
      expect(messages.flatMap(check)).to.deep.equal([]);
    });
  }

  it('also with a custom base topic and discovery prefix, and without the bridge', () => {
    const messages = [ANNA, BOB].flatMap((s) =>
      discoveryMessages(s, { baseTopic: 'home/cgm', discoveryPrefix: 'ha' }),
    );
    expect(
      messages.flatMap((m) => check({ ...m, topic: m.topic.replace(/^ha\//, 'homeassistant/') })),
    ).to.deep.equal([]);
  });

  it('the check itself refuses a deprecated, an unknown or a mistyped key', () => {
    const [glucose] = discoveryMessages(ANNA);
    const bend = (change: Record<string, unknown>): string[] =>
      check({ ...glucose!, payload: JSON.stringify({ ...JSON.parse(glucose!.payload), ...change }) });
    expect(bend({ object_id: 'anna_glucose' })).to.have.length(1);
    expect(bend({ colour: 'red' })).to.have.length(1);
    expect(bend({ expire_after: '900' })).to.have.length(1);
    expect(bend({ unit_of_measurement: 'mg/dl' })).to.have.length(1);
    expect(bend({ device: { name: 'Anna' } })).to.not.deep.equal([]);
  });
});
