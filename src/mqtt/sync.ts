import { z } from 'zod';
import { discoveryMessages } from './discovery';
import type { SubjectDescriptor } from './subject';
import { keyFromNodeId, retained, type MqttMessage, type Topics } from './topics';

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
}

/**
 * The messages that bring the broker in line with what we know, without repeating what it already has:
 * a reading that survived a broker restart is not delivered twice, and Home Assistant does not churn.
 * Missing or changed discovery and data are published; our retained topics of subjects no longer
 * configured, and entity configs a registered subject no longer has, are cleared.
 */
export function planSync(input: SyncInput): MqttMessage[] {
  const { topics, found, subjects, published, keep } = input;
  const registered = new Map(subjects.map((s) => [s.key, s]));
  const out: MqttMessage[] = [];
  const expected = new Set<string>();

  for (const subject of subjects) {
    for (const message of discoveryMessages(subject, {
      baseTopic: topics.base,
      discoveryPrefix: topics.discoveryPrefix,
    })) {
      expected.add(message.topic);
      if (found.get(message.topic) !== message.payload) out.push(message);
    }
  }
  for (const [topic, payload] of published) {
    if (found.get(topic) !== payload) out.push(retained(topic, payload));
  }

  const foreignKey = (key: string): boolean => !registered.has(key) && keep !== undefined && !keep.has(key);
  for (const [topic, payload] of found) {
    if (payload === '') continue;
    const config = ownDiscoveryKey(topics, topic, payload);
    if (config !== undefined) {
      if (registered.has(config) ? !expected.has(topic) : foreignKey(config)) out.push(retained(topic, ''));
      continue;
    }
    const data = dataKey(topics, topic);
    if (data !== undefined && foreignKey(data)) out.push(retained(topic, ''));
  }
  return out;
}

/** The subject key of a discovery config we published (same node id scheme, our availability topic). */
export function ownDiscoveryKey(topics: Topics, topic: string, payload: string): string | undefined {
  const prefix = `${topics.discoveryPrefix}/`;
  if (!topic.startsWith(prefix)) return undefined;
  const levels = topic.slice(prefix.length).split('/');
  if (levels.length !== 4 || levels[3] !== 'config') return undefined;
  const key = keyFromNodeId(topics, levels[1] ?? '');
  if (key === undefined) return undefined;
  return availabilityTopics(payload).includes(topics.availability) ? key : undefined;
}

// Only the field that proves ownership; the rest of someone's config is none of our business.
const availabilitySchema = z.object({ availability: z.array(z.object({ topic: z.string() })) });

function availabilityTopics(payload: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return [];
  }
  const parsed = availabilitySchema.safeParse(json);
  return parsed.success ? parsed.data.availability.map((entry) => entry.topic) : [];
}

/** The subject key of `<base>/<key>/<leaf>`; `<base>/status` and deeper topics are not subject data. */
export function dataKey(topics: Topics, topic: string): string | undefined {
  const prefix = `${topics.base}/`;
  if (!topic.startsWith(prefix)) return undefined;
  const levels = topic.slice(prefix.length).split('/');
  if (levels.length !== 2) return undefined;
  const key = levels[0] ?? '';
  return /^[a-z0-9]+(?:_[a-z0-9]+)*$/.test(key) ? key : undefined;
}

/** The topic filters a scan subscribes to: every discovery config, and our data topics. */
export function scanFilters(topics: Topics): string[] {
  return [`${topics.discoveryPrefix}/+/+/+/config`, `${topics.base}/+/+`];
}
