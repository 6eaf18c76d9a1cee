/** Where the glucose is heading, in Dexcom's vocabulary (the richest of the three clouds). */
export type Trend =
  | 'doubleUp'
  | 'singleUp'
  | 'fortyFiveUp'
  | 'flat'
  | 'fortyFiveDown'
  | 'singleDown'
  | 'doubleDown'
  | 'notComputable'
  | 'rateOutOfRange'
  | 'none';

/** Dexcom's numeric trend codes 0–9, index = code. */
export const DEXCOM_TREND_BY_CODE: readonly Trend[] = [
  'none',
  'doubleUp',
  'singleUp',
  'fortyFiveUp',
  'flat',
  'fortyFiveDown',
  'singleDown',
  'doubleDown',
  'notComputable',
  'rateOutOfRange',
];

export const TRENDS: readonly Trend[] = DEXCOM_TREND_BY_CODE;

const ARROWS: Record<Trend, string> = {
  doubleUp: '⇈',
  singleUp: '↑',
  fortyFiveUp: '↗',
  flat: '→',
  fortyFiveDown: '↘',
  singleDown: '↓',
  doubleDown: '⇊',
  notComputable: '?',
  rateOutOfRange: '-',
  none: '-',
};

/** Home Assistant's own Dexcom trend states (its `dexcom` integration), for the MQTT enum sensor. */
const HOME_ASSISTANT_STATES: Record<Trend, string | null> = {
  doubleUp: 'rising_quickly',
  singleUp: 'rising',
  fortyFiveUp: 'rising_slightly',
  flat: 'steady',
  fortyFiveDown: 'falling_slightly',
  singleDown: 'falling',
  doubleDown: 'falling_quickly',
  notComputable: null,
  rateOutOfRange: 'sensor_unavailable',
  none: null,
};

export function trendArrow(trend: Trend): string {
  return ARROWS[trend];
}

export function homeAssistantTrend(trend: Trend): string | null {
  return HOME_ASSISTANT_STATES[trend];
}

/** Every state `homeAssistantTrend` can return, for the enum sensor's `options`. */
export const HOME_ASSISTANT_TREND_OPTIONS: readonly string[] = TRENDS.map(
  (t) => HOME_ASSISTANT_STATES[t],
).filter((s): s is string => s !== null);

const BY_FOLDED_NAME = new Map<string, Trend>(TRENDS.map((t) => [t.toLowerCase(), t]));
// Spellings seen in public clients besides the canonical ones.
BY_FOLDED_NAME.set('noncomputable', 'notComputable');
BY_FOLDED_NAME.set('outofrange', 'rateOutOfRange');

/**
 * Dexcom's trend as it comes on the wire: a name since late 2021 (any case, spaces or underscores
 * tolerated), a number 0–9 before. Anything unknown is `notComputable`, never an exception.
 */
export function dexcomTrend(wire: string | number | null | undefined): Trend {
  if (typeof wire === 'number') return DEXCOM_TREND_BY_CODE[wire] ?? 'notComputable';
  if (typeof wire !== 'string') return 'notComputable';
  const folded = wire.replace(/[\s_]/g, '').toLowerCase();
  if (/^\d$/.test(folded)) return DEXCOM_TREND_BY_CODE[Number(folded)] ?? 'notComputable';
  return BY_FOLDED_NAME.get(folded) ?? 'notComputable';
}

/** Our trend back to Dexcom's number, for uploads (`PostReceiverEgvRecords`). */
export function dexcomTrendCode(trend: Trend): number {
  return DEXCOM_TREND_BY_CODE.indexOf(trend);
}

/** LibreLinkUp `TrendArrow` 1–5; 0 or missing means the sensor gave none. */
export function libreTrend(arrow: number | null | undefined): Trend {
  switch (arrow) {
    case 1:
      return 'singleDown';
    case 2:
      return 'fortyFiveDown';
    case 3:
      return 'flat';
    case 4:
      return 'fortyFiveUp';
    case 5:
      return 'singleUp';
    default:
      return 'notComputable';
  }
}
