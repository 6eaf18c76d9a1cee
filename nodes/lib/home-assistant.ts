import type { Thresholds } from '../../src/config';
import type { SubjectState } from '../../src/follow/subject-state';
import {
  discoveryMessages,
  problemMessages,
  resolveTopics,
  stateMessages,
  type MqttMessage,
  subjectSlug,
  type SubjectDescriptor,
} from '../../src/mqtt';
import type { GlucoseStatistics } from '../../src/stats/statistics';
import type { Account } from './account';
import type { NodeMessage } from './types';

const toMsg = (m: MqttMessage): NodeMessage => ({
  topic: m.topic,
  payload: m.payload,
  retain: m.retain,
  qos: m.qos,
});

/**
 * The second output of cgm-read-glucose: Home Assistant discovery (once, and again on Home Assistant's
 * birth message) and the retained state of a person as the account's follower has it (last reading,
 * delta, stale, problem), ready for Node-RED's own `mqtt out` node. The topic layout is the core's, so
 * the stand-alone bridge and a flow publish the same entities.
 */
export class HomeAssistantOutput {
  private announced: string | undefined;
  private shown: SubjectState | undefined;
  private readonly key: string | undefined;

  /** Throws CONFIG when the node's name cannot become a topic (an e-mail address, no letters). */
  constructor(
    private readonly name: string | undefined,
    private readonly account: Account,
    private readonly staleMinutes: number,
    private readonly thresholds: Thresholds,
    /** The person's statistics for the state JSON (follow mode), when the node has them. */
    private readonly statistics: (subject: SubjectState) => GlucoseStatistics | undefined = () => undefined,
  ) {
    this.key = name === undefined ? undefined : subjectSlug(name);
  }

  /** Whether a message is Home Assistant's birth (`homeassistant/status` = `online`), wired in from `mqtt in`. */
  static isBirth(msg: NodeMessage): boolean {
    const payload = Buffer.isBuffer(msg.payload) ? msg.payload.toString('utf8') : msg.payload;
    return msg.topic === resolveTopics().homeAssistantStatus && payload === 'online';
  }

  /** Discovery the first time (or when the person changed), then the person's retained state and problem. */
  messages(subject: SubjectState): NodeMessage[] {
    const descriptor = this.describe(subject);
    const out = this.announced === descriptor.key ? [] : this.discovery(descriptor);
    this.announced = descriptor.key;
    this.shown = subject;
    return [...out, ...this.state(descriptor, subject)];
  }

  /** Everything again after Home Assistant restarted: availability, discovery, the last state. */
  rediscover(): NodeMessage[] {
    const subject = this.shown;
    if (!subject) return [];
    const descriptor = this.describe(subject);
    return [...this.discovery(descriptor), ...this.state(descriptor, subject)];
  }

  private state(descriptor: SubjectDescriptor, subject: SubjectState): NodeMessage[] {
    const out: MqttMessage[] = [];
    if (subject.last) {
      out.push(
        ...stateMessages(descriptor, subject.last, subject.previous, {
          stale: subject.stale,
          sensor: subject.sensorStatus(),
          statistics: this.statistics(subject),
        }),
      );
    }
    out.push(...problemMessages(descriptor, subject.problem ?? null));
    return out.map(toMsg);
  }

  private discovery(descriptor: SubjectDescriptor): NodeMessage[] {
    const availability = { topic: resolveTopics().availability, payload: 'online', retain: true, qos: 1 };
    return [availability, ...discoveryMessages(descriptor).map(toMsg)];
  }

  /** The device is the node's when it has a name (its topics too), else the person's as the account names them. */
  private describe(subject: SubjectState): SubjectDescriptor {
    return {
      key: this.key ?? subject.slug,
      name: this.name ?? subject.name,
      provider: subject.provider,
      units: this.account.unit,
      thresholds: this.thresholds,
      staleMinutes: this.staleMinutes,
      continuous: subject.continuous,
      ...(subject.provider === 'librelinkup' || subject.sensor ? { sensor: true } : {}),
    };
  }
}
