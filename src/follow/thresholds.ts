import { thresholdsSchema, type Thresholds } from '../config';
import type { CloudTargets } from '../providers/provider';

/**
 * A person's limits with `thresholds: "cloud"`: each limit the cloud has (LibreLinkUp's target range and
 * fixed low alarm, a Nightscout site's thresholds), the configured one where it has none. Limits that
 * do not rise (urgent low < low < high, 40–400 mg/dL) are not used: the configured ones stay, and
 * `refused` says why.
 */
export function personThresholds(
  configured: Thresholds,
  targets: CloudTargets | undefined,
): { thresholds: Thresholds; refused?: string } {
  if (!targets) return { thresholds: configured };
  const merged = {
    urgentLow: targets.urgentLow ?? configured.urgentLow,
    low: targets.low ?? configured.low,
    high: targets.high ?? configured.high,
  };
  // A cloud's low at or below the configured urgent low (and no urgent low of its own) keeps its low.
  if (targets.urgentLow === undefined && merged.urgentLow >= merged.low) {
    merged.urgentLow = Math.max(40, merged.low - 1);
  }
  const parsed = thresholdsSchema.safeParse(merged);
  if (parsed.success) return { thresholds: parsed.data };
  const shown = `urgent low ${merged.urgentLow}, low ${merged.low}, high ${merged.high} mg/dL`;
  return { thresholds: configured, refused: `the cloud's limits (${shown}) do not rise` };
}

export function sameThresholds(a: Thresholds | undefined, b: Thresholds | undefined): boolean {
  return a?.urgentLow === b?.urgentLow && a?.low === b?.low && a?.high === b?.high;
}
