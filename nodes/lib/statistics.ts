import { unitLabel, type GlucoseUnit } from '../../src/model/reading';
import type { GlucoseStatistics } from '../../src/stats/statistics';
import type { NodeMessage, NodeStatus } from './types';

/** The statistics onto a message: the one shape as the payload (mg/dL inside, like every core value). */
export function putStatistics(
  msg: NodeMessage,
  statistics: GlucoseStatistics,
  unit: GlucoseUnit,
  subject: string,
): NodeMessage {
  msg.payload = statistics;
  msg.unit = unitLabel(unit);
  msg.topic = subject;
  return msg;
}

/** `TIR 87.5 %` in green, grey while the window holds no reading. */
export function statisticsStatus(statistics: GlucoseStatistics): NodeStatus {
  return statistics.percentInRange === null
    ? { fill: 'grey', shape: 'ring', text: 'TIR –' }
    : { fill: 'green', shape: 'dot', text: `TIR ${statistics.percentInRange.toFixed(1)} %` };
}
