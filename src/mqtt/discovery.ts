import { homeAssistantTrend, TRENDS } from '../model/trend';
import { HOME_ASSISTANT_TREND_OPTIONS } from '../model/trend';
import { mgdlToMmol, unitLabel, type ProviderId } from '../model/reading';
import { VERSION } from '../version';
import { LEAF, MEASUREMENT_LEAF } from './state';
import { discoverableKinds, type DiscoverableKind, type SubjectDescriptor } from './subject';
import {
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

/** Who makes the device behind each cloud, and what Home Assistant shows as its model. */
const DEVICE_MAKERS: Record<ProviderId, { manufacturer: string; model: string }> = {
  dexcom: { manufacturer: 'Dexcom', model: 'Dexcom Share' },
  librelinkup: { manufacturer: 'Abbott', model: 'LibreLinkUp' },
  vitadock: { manufacturer: 'Medisana', model: 'VitaDock Online' },
};

type Component = 'sensor' | 'binary_sensor';
type ConfigValue = string | number | boolean | readonly string[];

/** One Home Assistant entity before the shared blocks are added. */
interface EntitySpec {
  component: Component;
  objectId: string;
  config: Record<string, ConfigValue>;
}

/** `{{ 'ON' if value_json.<field> else 'OFF' }}` for binary sensors fed by a JSON topic. */
function onOff(field: string): string {
  return `{{ 'ON' if value_json.${field} else 'OFF' }}`;
}

/**
 * Our trend names to Home Assistant's Dexcom trend states. Not computable / none render `None`,
 * which an MQTT sensor takes as "unknown" rather than a state outside its options.
 */
function trendTemplate(): string {
  const pairs = TRENDS.flatMap((trend) => {
    const state = homeAssistantTrend(trend);
    return state === null ? [] : [`'${trend}': '${state}'`];
  });
  return `{{ {${pairs.join(', ')}}.get(value, 'None') }}`;
}

function glucoseEntities(subject: SubjectDescriptor, topics: Topics): EntitySpec[] {
  const unit = unitLabel(subject.units);
  const precision = subject.units === 'mmol' ? 1 : 0;
  // A spot-check device (a meter used a few times a day) is never "unavailable" for not measuring.
  const expiry: Record<string, number> =
    subject.continuous === false ? {} : { expire_after: Math.round(subject.staleMinutes * 60) };
  const state = subjectTopic(topics, subject.key, LEAF.state);
  const inUnit = (mgdl: number): number => (subject.units === 'mmol' ? mgdlToMmol(mgdl) : mgdl);
  const flag = (objectId: string, name: string, field: string, mgdl: number): EntitySpec => ({
    component: 'binary_sensor',
    objectId,
    config: {
      name,
      state_topic: state,
      value_template: onOff(field),
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
    flag('urgent_low', 'Urgent low', 'urgentLow', subject.thresholds.urgentLow),
    flag('low', 'Low', 'low', subject.thresholds.low),
    flag('high', 'High', 'high', subject.thresholds.high),
    {
      component: 'binary_sensor',
      objectId: 'stale',
      config: {
        name: 'Stale data',
        state_topic: state,
        value_template: onOff('stale'),
        device_class: 'problem',
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

function entities(subject: SubjectDescriptor, topics: Topics): EntitySpec[] {
  return [
    ...glucoseEntities(subject, topics),
    ...discoverableKinds(subject).flatMap((kind) => measurementEntities(kind, subject, topics)),
  ];
}

/** The full config payload of one entity: its own keys, then ids, availability, device and origin. */
function entityConfig(subject: SubjectDescriptor, topics: Topics, spec: EntitySpec): Record<string, unknown> {
  const id = nodeId(topics, subject.key);
  const maker = DEVICE_MAKERS[subject.provider];
  const entityId = `${subject.key}_${spec.objectId}`;
  return {
    ...spec.config,
    unique_id: `${id}_${spec.objectId}`,
    // object_id for Home Assistant before 2025.10, default_entity_id from then on (object_id ends in 2026.4).
    object_id: entityId,
    default_entity_id: `${spec.component}.${entityId}`,
    availability: [
      { topic: topics.availability, payload_available: 'online', payload_not_available: 'offline' },
    ],
    device: {
      identifiers: [id],
      name: subject.name,
      manufacturer: maker.manufacturer,
      model: maker.model,
      sw_version: VERSION,
    },
    origin: { name: ORIGIN_NAME, sw_version: VERSION, support_url: SUPPORT_URL },
  };
}

/** Every Home Assistant discovery config of one subject (retained, QoS 1), one device per subject. */
export function discoveryMessages(subject: SubjectDescriptor, options: TopicOptions = {}): MqttMessage[] {
  const topics = resolveTopics(options);
  return entities(subject, topics).map((spec) =>
    retained(
      discoveryTopic(topics, spec.component, subject.key, spec.objectId),
      JSON.stringify(entityConfig(subject, topics, spec)),
    ),
  );
}

/** Every retained topic of a subject, for removal: discovery configs first, then its data. */
export function subjectRetainedTopics(subject: SubjectDescriptor, options: TopicOptions = {}): string[] {
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
export function removalMessages(subject: SubjectDescriptor, options: TopicOptions = {}): MqttMessage[] {
  return subjectRetainedTopics(subject, options).map((topic) => retained(topic, ''));
}
