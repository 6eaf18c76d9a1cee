/** One MQTT publication, host-neutral: the bridge sends it, a Node-RED flow can hand it to `mqtt out`. */
export interface MqttMessage {
  topic: string;
  /** `''` with `retain: true` clears a retained topic (and removes a Home Assistant entity). */
  payload: string;
  retain: boolean;
  qos: 0 | 1;
}

export interface TopicOptions {
  /** Root of our own topics; default `glucobridge`. */
  baseTopic?: string;
  /** Home Assistant's discovery prefix; default `homeassistant`. */
  discoveryPrefix?: string;
}

export const DEFAULT_BASE_TOPIC = 'glucobridge';
export const DEFAULT_DISCOVERY_PREFIX = 'homeassistant';

/** Where everything of one publisher lives, with the defaults applied. */
export interface Topics {
  base: string;
  discoveryPrefix: string;
  /** `<base>/status`: `online` / `offline`, retained, the last will. */
  availability: string;
  /** Home Assistant's birth and last will. */
  homeAssistantStatus: string;
}

export function resolveTopics(options: TopicOptions = {}): Topics {
  const base = trimSlashes(options.baseTopic ?? DEFAULT_BASE_TOPIC);
  const discoveryPrefix = trimSlashes(options.discoveryPrefix ?? DEFAULT_DISCOVERY_PREFIX);
  for (const [what, value] of [
    ['baseTopic', base],
    ['discoveryPrefix', discoveryPrefix],
  ] as const) {
    // Wildcards or an empty level would make every topic we build invalid or ambiguous.
    if (value === '' || /[+#]/.test(value) || value.split('/').some((level) => level === '')) {
      throw new Error(`MQTT ${what} "${value}" must be a non-empty topic without wildcards`);
    }
  }
  if (base === discoveryPrefix) throw new Error('MQTT baseTopic and discoveryPrefix must differ');
  return {
    base,
    discoveryPrefix,
    availability: `${base}/status`,
    homeAssistantStatus: `${discoveryPrefix}/status`,
  };
}

function trimSlashes(topic: string): string {
  return topic.trim().replace(/^\/+|\/+$/g, '');
}

/** The plain-value and JSON topics of one subject, all retained. */
export function subjectTopic(topics: Topics, key: string, leaf: string): string {
  return `${topics.base}/${key}/${leaf}`;
}

/**
 * The discovery `node_id` of a subject. A non-default base topic is appended after `__` (a slug
 * never holds two underscores in a row) so two bridges on one broker never share an id.
 */
export function nodeId(topics: Topics, key: string): string {
  if (topics.base === DEFAULT_BASE_TOPIC) return `glucobridge_${key}`;
  return `glucobridge_${key}__${topics.base.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
}

/** The subject key inside a node id of ours, or undefined when the id is someone else's. */
export function keyFromNodeId(topics: Topics, id: string): string | undefined {
  const own = nodeId(topics, '\u0000');
  const [head, tail] = own.split('\u0000') as [string, string];
  if (!id.startsWith(head) || !id.endsWith(tail) || id.length <= head.length + tail.length) return undefined;
  const key = id.slice(head.length, id.length - tail.length);
  return /^[a-z0-9]+(?:_[a-z0-9]+)*$/.test(key) ? key : undefined;
}

export function discoveryTopic(topics: Topics, component: string, key: string, objectId: string): string {
  return `${topics.discoveryPrefix}/${component}/${nodeId(topics, key)}/${objectId}/config`;
}

/** The one config topic of a whole device in device-based discovery (Home Assistant 2024.11 and later). */
export function deviceDiscoveryTopic(topics: Topics, key: string): string {
  return `${topics.discoveryPrefix}/device/${nodeId(topics, key)}/config`;
}

/**
 * The topic segment of the bridge itself (`<base>/bridge/state`, node id `glucobridge_bridge`), as
 * zigbee2mqtt keeps `zigbee2mqtt/bridge/…`. No subject may take this key.
 */
export const BRIDGE_KEY = 'bridge';

export function retained(topic: string, payload: string): MqttMessage {
  return { topic, payload, retain: true, qos: 1 };
}
