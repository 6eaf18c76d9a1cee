import { expect } from 'chai';
import { discoveryMessages } from '../../src/mqtt/discovery';
import { stateMessages, type StatePayload } from '../../src/mqtt/state';
import { computeStatistics } from '../../src/stats/statistics';
import { ANNA, BOB, CARLA, T0, reading } from './fixtures';

type Config = Record<string, unknown>;

function statisticsConfigs(subject: typeof ANNA): Map<string, Config> {
  return new Map(
    discoveryMessages(subject)
      .map((m) => [m.topic.split('/')[3]!, JSON.parse(m.payload) as Config] as const)
      .filter(([id]) => /^(time_|mean_|glucose_sd|glucose_cv|sensor_coverage)/.test(id)),
  );
}

describe('mqtt: time-in-range sensors and the statistics in the state JSON', () => {
  it('a continuous sensor gets the five percentages, mean, SD, CV and coverage, read from the state JSON', () => {
    const configs = statisticsConfigs(ANNA);
    expect([...configs.keys()]).to.deep.equal([
      'time_in_range',
      'time_below_70',
      'time_below_54',
      'time_above_180',
      'time_above_250',
      'mean_glucose',
      'glucose_sd',
      'glucose_cv',
      'sensor_coverage',
    ]);
    for (const [id, config] of configs) {
      expect(config.state_topic, id).to.equal('glucobridge/anna/state');
      expect(config.state_class, id).to.equal('measurement');
      expect(config.unique_id, id).to.equal(`glucobridge_anna_${id}`);
    }
    for (const id of ['time_in_range', 'time_below_70', 'time_below_54', 'time_above_180', 'glucose_cv'])
      expect(configs.get(id)!.unit_of_measurement, id).to.equal('%');
    expect(configs.get('time_in_range')).to.include({ name: 'Time in range (70–180)' });
    expect(configs.get('time_below_54')!.value_template).to.contain('value_json.statistics.percentBelow54');
    expect(configs.get('mean_glucose')).to.include({ unit_of_measurement: 'mg/dL' });
    expect(configs.get('sensor_coverage')!.value_template).to.contain('coverage * 100');
  });

  it('in mmol/L the names give the consensus cut-offs in mmol/L and mean and SD are converted', () => {
    const configs = statisticsConfigs(BOB);
    expect(configs.get('time_below_70')).to.include({ name: 'Time below 3.9' });
    expect(configs.get('time_above_250')).to.include({ name: 'Time above 13.9' });
    expect(configs.get('mean_glucose')).to.include({ unit_of_measurement: 'mmol/L' });
    expect(configs.get('mean_glucose')!.value_template).to.contain('/ 18.0156) | round(1)');
  });

  it('a spot-check meter (VitaDock) gets none', () => {
    expect(statisticsConfigs(CARLA).size).to.equal(0);
  });

  it('the state JSON carries the statistics object when the host gives it, and not otherwise', () => {
    const statistics = computeStatistics([reading('anna', 0, 100)], {
      now: T0 + 60_000,
      intervalMs: 300_000,
    });
    const withStats = JSON.parse(
      stateMessages(ANNA, reading('anna', 0, 100), undefined, { stale: false, statistics })[0]!.payload,
    ) as StatePayload;
    expect(withStats.statistics).to.deep.equal(statistics);
    const without = JSON.parse(
      stateMessages(ANNA, reading('anna', 0, 100), undefined, { stale: false })[0]!.payload,
    ) as StatePayload;
    expect(without).to.not.have.property('statistics');
  });
});
