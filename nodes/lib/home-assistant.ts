import type { GlucoseReading } from '../../src/model/reading';
import {
  discoveryMessages,
  resolveTopics,
  stateMessages,
  subjectSlug,
  type MqttMessage,
  type SubjectDescriptor,
} from '../../src/mqtt';
import type { Account } from './account';
import type { NodeMessage } from './types';

/** The core MQTT layout's default limits (mg/dL) for the low / urgent low / high binary sensors. */
const THRESHOLDS = { urgentLow: 55, low: 70, high: 180 };

const toMsg = (m: MqttMessage): NodeMessage => ({
  topic: m.topic,
  payload: m.payload,
  retain: m.retain,
  qos: m.qos,
});

/**
 * The second output of cgm-read-glucose: Home Assistant discovery (once, and again on Home Assistant's
 * birth message) and the retained state of each reading, ready for Node-RED's own `mqtt out` node.
 * The topic layout is the core's, so the stand-alone bridge and a flow publish the same entities.
 */
export class HomeAssistantOutput {
  private readonly subject: SubjectDescriptor;
  private announced = false;
  private last: GlucoseReading | undefined;
  private previous: GlucoseReading | undefined;
  private stale = false;

  /** Throws CONFIG when `name` cannot become a topic (an e-mail address, no letters). */
  constructor(name: string, account: Account, staleMinutes: number) {
    this.subject = {
      key: subjectSlug(name),
      name,
      provider: account.provider,
      units: account.unit,
      thresholds: THRESHOLDS,
      staleMinutes,
    };
  }

  /** Whether a message is Home Assistant's birth (`homeassistant/status` = `online`), wired in from `mqtt in`. */
  static isBirth(msg: NodeMessage): boolean {
    const payload = Buffer.isBuffer(msg.payload) ? msg.payload.toString('utf8') : msg.payload;
    return msg.topic === resolveTopics().homeAssistantStatus && payload === 'online';
  }

  /** Discovery the first time, then the retained state of this reading. */
  messages(reading: GlucoseReading, stale: boolean): NodeMessage[] {
    const out = this.announced ? [] : this.discovery();
    this.announced = true;
    if (!this.last || reading.time > this.last.time) {
      this.previous = this.last;
      this.last = reading;
    }
    if (reading === this.last) this.stale = stale;
    const previous = reading === this.last ? this.previous : undefined;
    out.push(...stateMessages(this.subject, reading, previous, { stale }).map(toMsg));
    return out;
  }

  /** Everything again after Home Assistant restarted: availability, discovery, the last state. */
  rediscover(): NodeMessage[] {
    const out = this.discovery();
    if (this.last)
      out.push(...stateMessages(this.subject, this.last, this.previous, { stale: this.stale }).map(toMsg));
    return out;
  }

  private discovery(): NodeMessage[] {
    const availability = { topic: resolveTopics().availability, payload: 'online', retain: true, qos: 1 };
    return [availability, ...discoveryMessages(this.subject).map(toMsg)];
  }
}
