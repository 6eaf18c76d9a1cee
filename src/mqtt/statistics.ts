import { MGDL_PER_MMOL, unitLabel } from '../model/reading';
import type { GlucoseStatistics } from '../stats/statistics';
import type { EntitySpec } from './discovery';
import { LEAF } from './state';
import type { SubjectDescriptor } from './subject';
import { subjectTopic, type Topics } from './topics';

/** The consensus cut-offs as people read them in each unit (mmol/L as the consensus paper writes them). */
const CUT_OFF_NAMES = {
  mgdl: { 54: '54', 70: '70', 180: '180', 250: '250' },
  mmol: { 54: '3.0', 70: '3.9', 180: '10.0', 250: '13.9' },
} as const;

/**
 * Reads one field of the `statistics` object of the state JSON (through `shape`, e.g. a conversion);
 * `None` (Home Assistant shows "unknown") while there is none, or the field is null (no reading).
 */
function field(name: keyof GlucoseStatistics, shape: (value: string) => string = (v) => v): string {
  const value = `value_json.statistics.${name}`;
  return (
    `{{ ${shape(value)} if value_json.statistics is defined ` +
    `and value_json.statistics and ${value} is not none else None }}`
  );
}

/**
 * The time-in-range sensors of one person (continuous sensors only): the five consensus percentages,
 * mean, standard deviation, coefficient of variation and coverage, each read from the `statistics`
 * object of `<base>/<subject>/state` (computed over the last 24 h, at most every 5 minutes).
 * Percentages are `%` with `state_class: measurement`; mean and SD follow the person's unit.
 */
export function statisticsEntities(subject: SubjectDescriptor, topics: Topics): EntitySpec[] {
  // A spot-check meter (VitaDock) gives a few values a day, not a curve to take a day's statistics of.
  if (subject.continuous === false || subject.provider === 'vitadock') return [];
  const state = subjectTopic(topics, subject.key, LEAF.state);
  const names = CUT_OFF_NAMES[subject.units];
  const mmol = subject.units === 'mmol';
  const sensor = (
    objectId: string,
    name: string,
    value_template: string,
    extra: Record<string, string | number>,
  ): EntitySpec => ({
    component: 'sensor',
    objectId,
    config: { name, state_topic: state, value_template, state_class: 'measurement', ...extra },
  });
  const percent = (objectId: string, name: string, key: keyof GlucoseStatistics, icon: string) =>
    sensor(objectId, name, field(key), { unit_of_measurement: '%', suggested_display_precision: 1, icon });
  const glucose = (objectId: string, name: string, key: 'meanMgdl' | 'sdMgdl', icon: string) =>
    sensor(
      objectId,
      name,
      field(key, (v) => (mmol ? `(${v} / ${MGDL_PER_MMOL}) | round(1)` : v)),
      {
        unit_of_measurement: unitLabel(subject.units),
        suggested_display_precision: mmol ? 1 : 0,
        icon,
      },
    );
  return [
    percent('time_in_range', `Time in range (${names[70]}–${names[180]})`, 'percentInRange', 'mdi:target'),
    percent('time_below_70', `Time below ${names[70]}`, 'percentBelow70', 'mdi:arrow-down-bold-outline'),
    percent('time_below_54', `Time below ${names[54]}`, 'percentBelow54', 'mdi:arrow-collapse-down'),
    percent('time_above_180', `Time above ${names[180]}`, 'percentAbove180', 'mdi:arrow-up-bold-outline'),
    percent('time_above_250', `Time above ${names[250]}`, 'percentAbove250', 'mdi:arrow-collapse-up'),
    glucose('mean_glucose', 'Mean glucose (24 h)', 'meanMgdl', 'mdi:chart-bell-curve-cumulative'),
    glucose('glucose_sd', 'Glucose standard deviation (24 h)', 'sdMgdl', 'mdi:sigma'),
    percent('glucose_cv', 'Glucose variability (CV)', 'cv', 'mdi:chart-bell-curve'),
    sensor(
      'sensor_coverage',
      'Sensor coverage (24 h)',
      field('coverage', (v) => `(${v} * 100) | round(0)`),
      {
        unit_of_measurement: '%',
        suggested_display_precision: 0,
        icon: 'mdi:percent-circle-outline',
        entity_category: 'diagnostic',
      },
    ),
  ];
}
