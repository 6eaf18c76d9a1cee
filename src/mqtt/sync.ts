import { z } from 'zod';
import { bridgeDiscoveryMessages } from './bridge';
import { discoveryMessages, type BridgeInfo, type DiscoveryLayout, type DiscoveryOptions } from './discovery';
import type { SubjectDescriptor } from './subject';
import { BRIDGE_KEY, keyFromNodeId, retained, type MqttMessage, type Topics } from './topics';

/** What the broker holds and what we know, when a connection (re)starts. */
export interface SyncInput {
  topics: Topics;
  /** Retained topics seen on the broker during the scan, with their payloads. */
  found: ReadonlyMap<string, string>;
  /** The subjects registered now. */
  subjects: readonly SubjectDescriptor[];
  /** Retained data topics we published for registered subjects (state, glucose, …) and their payloads. */
  published: ReadonlyMap<string, string>;
  /**
   * The complete set of configured subject keys, once the host has said so (`retainSubjects`).
   * Retained topics of any other key are removed; before that, unknown keys are left alone.
   */
  keep: ReadonlySet<string> | undefined;
  /** The discovery layout to publish; configs of ours in the other layout are migrated away. Default `entity`. */
  layout?: DiscoveryLayout;
  /** Set when the bridge device is published (and the person devices name it as `via_device`). */
  bridge?: BridgeInfo;
}

/** Asks Home Assistant to keep an entity's registry entry while its config moves to the other layout. */
export const MIGRATE_PAYLOAD = JSON.stringify({ migrate_discovery: true });

/**
 * The messages that bring the broker in line with what we know, without repeating what it already has:
 * a reading that survived a broker restart is not delivered twice, and Home Assistant does not churn.
 * Missing or changed discovery and data are published; our retained topics of subjects no longer
 * configured, and entity configs a registered subject no longer has, are cleared. Configs of ours in
 * the other layout (after `mqtt.discovery` changed) are migrated the way Home Assistant documents it:
 * `{"migrate_discovery": true}` on the old topic, then the new config, then the old topic cleared, so
 * entity ids, names and history survive the switch.
 */
export function planSync(input: SyncInput): MqttMessage[] {
  const { topics, found, subjects, published, keep } = input;
  const layout = input.layout ?? 'entity';
  const registered = new Set(subjects.map((s) => s.key));
  if (input.bridge) registered.add(BRIDGE_KEY);
  const options: DiscoveryOptions = {
    baseTopic: topics.base,
    discoveryPrefix: topics.discoveryPrefix,
    layout,
    ...(input.bridge ? { bridge: input.bridge } : {}),
  };
  const migrations: MqttMessage[] = [];
  const out: MqttMessage[] = [];
  const clears: MqttMessage[] = [];
  const expected = new Set<string>();

  const wanted = [
    ...(input.bridge ? bridgeDiscoveryMessages(input.bridge, options) : []),
    ...subjects.flatMap((subject) => discoveryMessages(subject, options)),
  ];
  for (const message of wanted) {
    expected.add(message.topic);
    if (found.get(message.topic) !== message.payload) out.push(message);
  }
  for (const [topic, payload] of published) {
    if (found.get(topic) !== payload) out.push(retained(topic, payload));
  }

  const foreignKey = (key: string): boolean => !registered.has(key) && keep !== undefined && !keep.has(key);
  for (const [topic, payload] of found) {
    if (payload === '') continue;
    const config = ownDiscovery(topics, topic, payload);
    if (config !== undefined) {
      if (expected.has(topic)) continue;
      if (registered.has(config.key)) {
        if (config.layout !== layout) migrations.push(retained(topic, MIGRATE_PAYLOAD));
        clears.push(retained(topic, ''));
      } else if (foreignKey(config.key)) {
        clears.push(retained(topic, ''));
      }
      continue;
    }
    const data = dataKey(topics, topic);
    if (data !== undefined && foreignKey(data)) clears.push(retained(topic, ''));
  }
  return [...migrations, ...out, ...clears];
}

/** A discovery config we published: whose it is and in which layout. */
export interface OwnDiscovery {
  key: string;
  layout: DiscoveryLayout;
}

/**
 * Whether a retained discovery config is ours: our node id scheme in either layout, and a payload that
 * reads our availability topic (as `availability` or, for the bridge's connection state, `state_topic`).
 */
export function ownDiscovery(topics: Topics, topic: string, payload: string): OwnDiscovery | undefined {
  const prefix = `${topics.discoveryPrefix}/`;
  if (!topic.startsWith(prefix)) return undefined;
  const levels = topic.slice(prefix.length).split('/');
  let layout: DiscoveryLayout;
  if (levels.length === 4 && levels[3] === 'config') layout = 'entity';
  else if (levels.length === 3 && levels[0] === 'device' && levels[2] === 'config') layout = 'device';
  else return undefined;
  const key = keyFromNodeId(topics, levels[1] ?? '');
  if (key === undefined) return undefined;
  return readsTopic(payload, topics.availability) ? { key, layout } : undefined;
}

// Only the fields that prove ownership; the rest of someone's config is none of our business.
const entityConfigSchema = z.object({
  availability: z.array(z.object({ topic: z.string() })).optional(),
  state_topic: z.string().optional(),
});
const configSchema = entityConfigSchema.extend({
  components: z.record(z.string(), entityConfigSchema).optional(),
});

function readsTopic(payload: string, topic: string): boolean {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return false;
  }
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) return false;
  const entries = [parsed.data, ...Object.values(parsed.data.components ?? {})];
  return entries.some(
    (entry) => entry.state_topic === topic || (entry.availability ?? []).some((a) => a.topic === topic),
  );
}

/** The subject key of `<base>/<key>/<leaf>` (`bridge` for the bridge's own); `<base>/status` is no one's. */
export function dataKey(topics: Topics, topic: string): string | undefined {
  const prefix = `${topics.base}/`;
  if (!topic.startsWith(prefix)) return undefined;
  const levels = topic.slice(prefix.length).split('/');
  if (levels.length !== 2) return undefined;
  const key = levels[0] ?? '';
  return /^[a-z0-9]+(?:_[a-z0-9]+)*$/.test(key) ? key : undefined;
}

/** The topic filters a scan subscribes to: every discovery config in both layouts, and our data topics. */
export function scanFilters(topics: Topics): string[] {
  return [
    `${topics.discoveryPrefix}/+/+/+/config`,
    `${topics.discoveryPrefix}/device/+/config`,
    `${topics.base}/+/+`,
  ];
}
