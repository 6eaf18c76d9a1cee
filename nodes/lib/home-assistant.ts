import type { GlucoseReading } from '../../src/model/reading';
import type { Account } from './account';
import type { NodeMessage } from './types';

/** Placeholder until src/mqtt lands: the second output of cgm-read-glucose. */
export class HomeAssistantOutput {
  private readonly announced = new Set<string>();
  private last: GlucoseReading | undefined;
  constructor(readonly account: Account) {}

  isBirth(msg: NodeMessage): boolean {
    return msg.topic === 'homeassistant/status' && msg.payload === 'online';
  }

  messages(reading: GlucoseReading, stale: boolean): NodeMessage[] {
    this.last = reading;
    this.announced.add(reading.subject);
    return [{ topic: `glucobridge/${reading.subject}/state`, retain: true, payload: { stale } }];
  }

  rediscover(): NodeMessage[] {
    return this.last ? this.messages(this.last, false) : [];
  }
}
