import { HOME_ASSISTANT_TREND_OPTIONS } from '../model/trend';
import { mgdlToMmol, unitLabel, type ProviderId } from '../model/reading';
import { VERSION } from '../version';
import { LEAF, MEASUREMENT_LEAF } from './state';
import { statisticsEntities } from './statistics';
import { discoverableKinds, type DiscoverableKind, type SubjectDescriptor } from './subject';
import {
  BRIDGE_KEY,
  deviceDiscoveryTopic,
  discoveryTopic,
  nodeId,
  resolveTopics,
  retained,
  subjectTopic,
  type MqttMessage,
  type Topics,
  type TopicOptions,
} from './topics';

export const ORIGIN_NAME = 'GlucoBridge';
export const SUPPORT_URL = 'https://github.com/glucobridge/homebridge-glucobridge/issues';

/**
 * How discovery configs are laid out on the broker: `entity` (the default) publishes one config per
 * entity under `<prefix>/<component>/<node id>/<object id>/config`, which every Home Assistant reads;
 * `device` publishes one config per device under `<prefix>/device/<node id>/config` with the entities
 * as `components` (Home Assistant 2024.11 and later: fewer messages, one update per device).
 */
export type DiscoveryLayout = 'entity' | 'device';
export const DISCOVERY_LAYOUTS: readonly DiscoveryLayout[] = ['entity', 'device'];

/** What a host says about the bridge device it publishes (see `bridgeDiscoveryMessages`). */
export interface BridgeInfo {
  /** Home Assistant's "model" of the bridge device, e.g. `Stand-alone bridge` or `Homebridge plugin`. */
  model?: string;
  /** An http(s) address where the bridge serves its status page; Home Assistant links the device to it. */
  configurationUrl?: string;
}

export interface DiscoveryOptions extends TopicOptions {
  /** Default `entity`. */
  layout?: DiscoveryLayout;
  /**
   * Given when the bridge device is published too: every person's device then names it as its
   * `via_device`, as zigbee2mqtt links each device to its bridge. Without it no device points anywhere.
   */
  bridge?: BridgeInfo;
}

/** Who makes the device behind each cloud, and what Home Assistant shows as its model. */
const DEVICE_MAKERS: Record<ProviderId, { manufacturer: string; model: string }> = {
  dexcom: { manufacturer: 'Dexcom', model: 'Dexcom Share' },
  librelinkup: { manufacturer: 'Abbott', model: 'LibreLinkUp' },
  nightscout: { manufacturer: 'Nightscout', model: 'Nightscout site' },
  vitadock: { manufacturer: 'Medisana', model: 'VitaDock Online' },
};

export type Component = 'sensor' | 'binary_sensor';
type ConfigValue = string | number | boolean | readonly string[];

/** One Home Assistant entity before the shared blocks are added. */
export interface EntitySpec {
  component: Component;
  objectId: string;
  config: Record<string, ConfigValue>;
  /** The entity shows whether the bridge is reachable itself, so it carries no availability. */
  alwaysAvailable?: boolean;
}

/** One Home Assistant device with its entities, ready to be laid out as entity or device discovery. */
export interface DeviceSpec {
  /** The id segment: a subject key, or `BRIDGE_KEY`. */
  key: string;
  /** The `device` block without `identifiers` (added from the key). */
  device: Record<string, ConfigValue>;
  entities: EntitySpec[];
}

/** `{{ 'ON' if value_json.<field> else 'OFF' }}` for binary sensors fed by a JSON topic. */
function onOff(field: string): string {
  return `{{ 'ON' if value_json.${field} else 'OFF' }}`;
}

/**
 * The plain trend topic already carries Home Assistant's words; anything else there (`unknown`, or a
 * Dexcom name retained by an older version) renders `None`, which an MQTT sensor shows as "unknown".
 */
function trendTemplate(): string {
  const options = HOME_ASSISTANT_TREND_OPTIONS.map((o) => `'${o}'`).join(', ');
  return `{{ value if value in [${options}] else None }}`;
}

function glucoseEntities(subject: SubjectDescriptor, topics: Topics): EntitySpec[] {
  const unit = unitLabel(subject.units);
  const precision = subject.units === 'mmol' ? 1 : 0;
  // A spot-check device (a meter used a few times a day) is never "unavailable" for not measuring.
  const expiry: Record<string, number> =
    subject.continuous === false ? {} : { expire_after: Math.round(subject.staleMinutes * 60) };
  const state = subjectTopic(topics, subject.key, LEAF.state);
  const inUnit = (mgdl: number): number => (subject.units === 'mmol' ? mgdlToMmol(mgdl) : mgdl);
  const flag = (objectId: string, name: string, field: string, mgdl: number, icon: string): EntitySpec => ({
    component: 'binary_sensor',
    objectId,
    config: {
      name,
      state_topic: state,
      value_template: onOff(field),
      icon,
      json_attributes_topic: state,
      // A constant: the limit this flag compares against, in the unit the user reads.
      json_attributes_template: JSON.stringify({ threshold: inUnit(mgdl), unit }),
    },
  });
  return [
    {
      component: 'sensor',
      objectId: 'glucose',
      config: {
        name: 'Glucose',
        // The plain topic changes only with a new reading, so `expire_after` really means "no new reading".
        state_topic: subjectTopic(topics, subject.key, LEAF.glucose),
        device_class: 'blood_glucose_concentration',
        state_class: 'measurement',
        unit_of_measurement: unit,
        suggested_display_precision: precision,
        ...expiry,
        json_attributes_topic: state,
      },
    },
    {
      component: 'sensor',
      objectId: 'trend',
      config: {
        name: 'Glucose trend',
        state_topic: subjectTopic(topics, subject.key, LEAF.trend),
        value_template: trendTemplate(),
        device_class: 'enum',
        options: HOME_ASSISTANT_TREND_OPTIONS,
        ...expiry,
        icon: 'mdi:chart-line-variant',
      },
    },
    {
      component: 'sensor',
      objectId: 'last_reading',
      config: {
        name: 'Last reading',
        state_topic: state,
        value_template: '{{ value_json.time }}',
        device_class: 'timestamp',
      },
    },
    {
      component: 'sensor',
      objectId: 'delta',
      config: {
        name: 'Glucose delta',
        state_topic: state,
        value_template: '{{ value_json.delta }}',
        state_class: 'measurement',
        unit_of_measurement: unit,
        suggested_display_precision: precision,
        icon: 'mdi:delta',
      },
    },
    flag('urgent_low', 'Urgent low', 'urgentLow', subject.thresholds.urgentLow, 'mdi:arrow-collapse-down'),
    flag('low', 'Low', 'low', subject.thresholds.low, 'mdi:arrow-down-bold'),
    flag('high', 'High', 'high', subject.thresholds.high, 'mdi:arrow-up-bold'),
    {
      component: 'binary_sensor',
      objectId: 'stale',
      config: {
        name: 'Stale data',
        state_topic: state,
        value_template: onOff('stale'),
        device_class: 'problem',
        entity_category: 'diagnostic',
      },
    },
    {
      component: 'binary_sensor',
      objectId: 'problem',
      config: {
        name: 'Account problem',
        state_topic: subjectTopic(topics, subject.key, LEAF.problem),
        value_template: onOff('problem'),
        // code (e.g. AUTH_INVALID), status, retryable and hint become attributes.
        json_attributes_topic: subjectTopic(topics, subject.key, LEAF.problem),
        device_class: 'problem',
        entity_category: 'diagnostic',
      },
    },
  ];
}

function measurementEntities(
  kind: DiscoverableKind,
  subject: SubjectDescriptor,
  topics: Topics,
): EntitySpec[] {
  const topic = subjectTopic(topics, subject.key, MEASUREMENT_LEAF[kind]);
  const sensor = (objectId: string, config: Record<string, ConfigValue>): EntitySpec => ({
    component: 'sensor',
    objectId,
    config: { ...config, state_topic: topic, state_class: 'measurement', json_attributes_topic: topic },
  });
  switch (kind) {
    case 'weight':
      return [
        sensor('weight', {
          name: 'Weight',
          value_template: '{{ value_json.weightKg }}',
          device_class: 'weight',
          unit_of_measurement: 'kg',
          suggested_display_precision: 1,
        }),
      ];
    case 'bloodPressure':
      // No device_class: `pressure` would let Home Assistant convert mmHg into hPa.
      return [
        sensor('systolic', {
          name: 'Systolic blood pressure',
          value_template: '{{ value_json.systolic }}',
          unit_of_measurement: 'mmHg',
          icon: 'mdi:heart-pulse',
        }),
        sensor('diastolic', {
          name: 'Diastolic blood pressure',
          value_template: '{{ value_json.diastolic }}',
          unit_of_measurement: 'mmHg',
          icon: 'mdi:heart-pulse',
        }),
        sensor('pulse', {
          name: 'Pulse',
          value_template: '{{ value_json.pulse }}',
          unit_of_measurement: 'bpm',
          icon: 'mdi:heart',
        }),
      ];
    case 'temperature':
      return [
        sensor('temperature', {
          name: 'Body temperature',
          value_template: '{{ value_json.celsius }}',
          device_class: 'temperature',
          unit_of_measurement: '°C',
          suggested_display_precision: 1,
        }),
      ];
  }
}

/**
 * The person's sensor (LibreLinkUp): serial (diagnostic), start and expected end (timestamps), days
 * left, warming up, and "ends within 24 h" for an automation that reminds someone to change it. All
 * read the `sensor` object of the state JSON; before the cloud reports a sensor they are unknown / off.
 */
function sensorEntities(subject: SubjectDescriptor, topics: Topics): EntitySpec[] {
  if (!subject.sensor) return [];
  const state = subjectTopic(topics, subject.key, LEAF.state);
  const field = (name: string) => `{{ value_json.sensor.${name} if value_json.sensor is defined else None }}`;
  const flag = (test: string) =>
    `{{ 'ON' if value_json.sensor is defined and value_json.sensor.${test} else 'OFF' }}`;
  return [
    {
      component: 'sensor',
      objectId: 'sensor_serial',
      config: {
        name: 'Sensor serial',
        state_topic: state,
        value_template: field('serial'),
        entity_category: 'diagnostic',
        icon: 'mdi:barcode',
      },
    },
    {
      component: 'sensor',
      objectId: 'sensor_started',
      config: {
        name: 'Sensor started',
        state_topic: state,
        value_template: field('activated'),
        device_class: 'timestamp',
        entity_category: 'diagnostic',
      },
    },
    {
      component: 'sensor',
      objectId: 'sensor_ends',
      config: {
        name: 'Sensor ends',
        state_topic: state,
        value_template: field('ends'),
        device_class: 'timestamp',
      },
    },
    {
      component: 'sensor',
      objectId: 'sensor_days_left',
      config: {
        name: 'Sensor days left',
        state_topic: state,
        value_template: field('daysLeft'),
        device_class: 'duration',
        unit_of_measurement: 'd',
        suggested_display_precision: 1,
        icon: 'mdi:calendar-clock',
      },
    },
    {
      component: 'binary_sensor',
      objectId: 'sensor_warming_up',
      config: {
        name: 'Sensor warming up',
        state_topic: state,
        value_template: flag('warmingUp'),
        icon: 'mdi:timer-sand',
      },
    },
    {
      component: 'binary_sensor',
      objectId: 'sensor_ending',
      config: {
        name: 'Sensor ends within 24 h',
        state_topic: state,
        value_template: flag('daysLeft < 1'),
        icon: 'mdi:calendar-alert',
      },
    },
  ];
}

function subjectDevice(subject: SubjectDescriptor, topics: Topics, options: DiscoveryOptions): DeviceSpec {
  const maker = DEVICE_MAKERS[subject.provider];
  return {
    key: subject.key,
    device: {
      name: subject.name,
      manufacturer: maker.manufacturer,
      model: maker.model,
      sw_version: VERSION,
      ...(options.bridge ? { via_device: nodeId(topics, BRIDGE_KEY) } : {}),
    },
    entities: [
      ...glucoseEntities(subject, topics),
      ...sensorEntities(subject, topics),
      ...statisticsEntities(subject, topics),
      ...discoverableKinds(subject).flatMap((kind) => measurementEntities(kind, subject, topics)),
    ],
  };
}

function availability(topics: Topics): Record<string, string>[] {
  return [{ topic: topics.availability, payload_available: 'online', payload_not_available: 'offline' }];
}

/** The ids of one entity: `unique_id`, and `default_entity_id` (Home Assistant 2025.10; `object_id` is gone). */
function entityIds(topics: Topics, spec: DeviceSpec, entity: EntitySpec): Record<string, string> {
  return {
    unique_id: `${nodeId(topics, spec.key)}_${entity.objectId}`,
    default_entity_id: `${entity.component}.${spec.key === BRIDGE_KEY ? 'glucobridge_bridge' : spec.key}_${entity.objectId}`,
  };
}

function origin(): Record<string, string> {
  return { name: ORIGIN_NAME, sw_version: VERSION, support_url: SUPPORT_URL };
}

/** A device as discovery messages, in either layout (one retained QoS 1 message per entity, or one in all). */
export function layOut(spec: DeviceSpec, topics: Topics, layout: DiscoveryLayout = 'entity'): MqttMessage[] {
  const device = { identifiers: [nodeId(topics, spec.key)], ...spec.device };
  if (layout === 'entity') {
    return spec.entities.map((entity) =>
      retained(
        discoveryTopic(topics, entity.component, spec.key, entity.objectId),
        JSON.stringify({
          ...entity.config,
          ...entityIds(topics, spec, entity),
          ...(entity.alwaysAvailable ? {} : { availability: availability(topics) }),
          device,
          origin: origin(),
        }),
      ),
    );
  }
  // Shared availability at the root would also reach an always-available entity, so then it goes per entity.
  const shared = !spec.entities.some((e) => e.alwaysAvailable);
  const components = Object.fromEntries(
    spec.entities.map((entity) => [
      entity.objectId,
      {
        platform: entity.component,
        ...entity.config,
        ...entityIds(topics, spec, entity),
        ...(shared || entity.alwaysAvailable ? {} : { availability: availability(topics) }),
      },
    ]),
  );
  return [
    retained(
      deviceDiscoveryTopic(topics, spec.key),
      JSON.stringify({
        device,
        origin: origin(),
        ...(shared ? { availability: availability(topics) } : {}),
        components,
      }),
    ),
  ];
}

/** Every Home Assistant discovery config of one subject (retained, QoS 1), one device per subject. */
export function discoveryMessages(subject: SubjectDescriptor, options: DiscoveryOptions = {}): MqttMessage[] {
  const topics = resolveTopics(options);
  return layOut(subjectDevice(subject, topics, options), topics, options.layout);
}

/** Every retained topic of a subject, for removal: discovery configs first, then its data. */
export function subjectRetainedTopics(subject: SubjectDescriptor, options: DiscoveryOptions = {}): string[] {
  const topics = resolveTopics(options);
  const data = [LEAF.state, LEAF.glucose, LEAF.trend, LEAF.problem, ...Object.values(MEASUREMENT_LEAF)];
  return [
    ...discoveryMessages(subject, options).map((m) => m.topic),
    ...data.map((leaf) => subjectTopic(topics, subject.key, leaf)),
  ];
}

/**
 * Removes a subject: an empty retained payload on each discovery config (Home Assistant deletes the
 * entities and then the device) and on each data topic (no glucose of someone no longer followed stays
 * on the broker).
 */
export function removalMessages(subject: SubjectDescriptor, options: DiscoveryOptions = {}): MqttMessage[] {
  return subjectRetainedTopics(subject, options).map((topic) => retained(topic, ''));
}
