import { mgdlToMmol, type GlucoseReading, type GlucoseUnit } from '../../model/reading';
import type { CgmSource } from '../../providers/provider';
import { computeStatistics, DAY_MS, type GlucoseStatistics } from '../../stats/statistics';

/**
 * The statistics of the last 24 h from the cloud's history (Dexcom gives 24 h, LibreLinkUp 12 h: its
 * coverage then says half the day is missing).
 */
export async function cloudStatistics(
  source: CgmSource,
  subject: string | undefined,
  now = Date.now(),
): Promise<GlucoseStatistics> {
  const minutes = Math.min(DAY_MS / 60_000, source.cadence.maxHistoryMinutes);
  const readings: GlucoseReading[] = await source.history(
    subject === undefined ? { minutes } : { minutes, subject },
  );
  return computeStatistics(readings, { now, intervalMs: source.cadence.readingIntervalMs });
}

/** The statistics for people: each line a label and a value, mean and SD in the chosen unit. */
export function statisticsTable(s: GlucoseStatistics, units: GlucoseUnit): string {
  const mmol = units === 'mmol';
  const pct = (v: number | null) => (v === null ? '–' : `${v.toFixed(1)} %`);
  const glucose = (v: number | null) =>
    v === null ? '–' : mmol ? `${mgdlToMmol(v).toFixed(1)} mmol/L` : `${Math.round(v)} mg/dL`;
  const [low, veryLow, high, veryHigh] = mmol ? ['3.9', '3.0', '10.0', '13.9'] : ['70', '54', '180', '250'];
  const rows: [string, string][] = [
    [`in range ${low}–${high}`, pct(s.percentInRange)],
    [`below ${low}`, pct(s.percentBelow70)],
    [`below ${veryLow}`, pct(s.percentBelow54)],
    [`above ${high}`, pct(s.percentAbove180)],
    [`above ${veryHigh}`, pct(s.percentAbove250)],
    ['mean', glucose(s.meanMgdl)],
    ['SD', glucose(s.sdMgdl)],
    ['CV', pct(s.cv)],
    ['coverage', `${Math.round(s.coverage * 100)} % of the readings expected`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const span = `${s.from.replace('T', ' ').slice(0, 16)} – ${s.to.replace('T', ' ').slice(0, 16)} UTC`;
  return `last 24 h (${span})\n${rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n')}\n`;
}
