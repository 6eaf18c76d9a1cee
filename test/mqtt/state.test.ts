import { expect } from 'chai';
import { CgmError } from '../../src/model/errors';
import type { Measurement } from '../../src/model/measurement';
import { HOME_ASSISTANT_TREND_OPTIONS, type Trend } from '../../src/model/trend';
import { measurementMessages, problemMessages, stateMessages, type StatePayload } from '../../src/mqtt/state';
import { subjectSlug, validateSubject } from '../../src/mqtt/subject';
import { resolveTopics } from '../../src/mqtt/topics';
import { ANNA, BOB, CARLA, T0, reading } from './fixtures';

describe('mqtt state messages', () => {
  it('publishes the JSON state, the plain glucose value and the trend in Home Assistant words, retained', () => {
    const messages = stateMessages(ANNA, reading('anna', 5, 112, 'fortyFiveUp'), reading('anna', 0, 104), {
      stale: false,
    });
    expect(messages).to.deep.equal([
      {
        topic: 'glucobridge/anna/state',
        payload: JSON.stringify({
          mgdl: 112,
          mmol: 6.2,
          value: 112,
          unit: 'mg/dL',
          trend: 'fortyFiveUp',
          homeAssistantTrend: 'rising_slightly',
          arrow: '↗',
          time: '2026-03-14T08:05:00.000Z',
          delta: 8,
          low: false,
          urgentLow: false,
          high: false,
          stale: false,
          provider: 'dexcom',
          limit: null,
        }),
        retain: true,
        qos: 1,
      },
      { topic: 'glucobridge/anna/glucose', payload: '112', retain: true, qos: 1 },
      { topic: 'glucobridge/anna/trend', payload: 'rising_slightly', retain: true, qos: 1 },
    ]);
  });

  it('uses the trend entity’s vocabulary on the plain trend topic, `unknown` without a trend', () => {
    const plain = (trend: Trend): string =>
      stateMessages(ANNA, reading('anna', 0, 100, trend), undefined, { stale: false })[2]!.payload;
    const json = (trend: Trend): unknown =>
      (
        JSON.parse(
          stateMessages(ANNA, reading('anna', 0, 100, trend), undefined, { stale: false })[0]!.payload,
        ) as StatePayload
      ).homeAssistantTrend;
    const words: [Trend, string][] = [
      ['doubleUp', 'rising_quickly'],
      ['singleUp', 'rising'],
      ['fortyFiveUp', 'rising_slightly'],
      ['flat', 'steady'],
      ['fortyFiveDown', 'falling_slightly'],
      ['singleDown', 'falling'],
      ['doubleDown', 'falling_quickly'],
      ['rateOutOfRange', 'sensor_unavailable'],
    ];
    for (const [trend, word] of words) {
      expect(plain(trend), trend).to.equal(word);
      expect(json(trend), trend).to.equal(word);
      expect(HOME_ASSISTANT_TREND_OPTIONS).to.include(word);
    }
    for (const trend of ['notComputable', 'none'] as const) {
      expect(plain(trend)).to.equal('unknown');
      expect(json(trend)).to.equal(null);
    }
  });

  it('gives the value and delta in mmol/L for a subject that reads mmol/L', () => {
    const [state, glucose] = stateMessages(BOB, reading('bob', 10, 180, 'singleUp'), reading('bob', 5, 162), {
      stale: true,
    });
    expect(JSON.parse(state!.payload)).to.include({
      mgdl: 180,
      mmol: 10,
      value: 10,
      unit: 'mmol/L',
      delta: 1,
      high: false,
      stale: true,
    });
    expect(glucose!.payload).to.equal('10');
  });

  it('sets the flags at or beyond each threshold', () => {
    const flags = (mgdl: number) => {
      const payload = JSON.parse(
        stateMessages(ANNA, reading('anna', 0, mgdl), undefined, { stale: false })[0]!.payload,
      ) as StatePayload;
      return [payload.urgentLow, payload.low, payload.high] as boolean[];
    };
    expect(flags(71)).to.deep.equal([false, false, false]);
    expect(flags(70)).to.deep.equal([false, true, false]);
    expect(flags(55)).to.deep.equal([true, true, false]);
    expect(flags(179)).to.deep.equal([false, false, false]);
    expect(flags(180)).to.deep.equal([false, false, true]);
  });

  it('marks the sensor’s LOW placeholder and gives no delta for it', () => {
    const [state] = stateMessages(ANNA, reading('anna', 5, 39, 'none', 'low'), reading('anna', 0, 50), {
      stale: false,
    });
    expect(JSON.parse(state!.payload)).to.include({ mgdl: 39, limit: 'low', delta: null, urgentLow: true });
  });

  it('publishes an account problem with its code and fixed texts, and clears it', () => {
    const error = new CgmError('AUTH_INVALID', 'Dexcom rejected the password for secret-login@example.org', {
      hint: 'Check the username and password in the configuration.',
    });
    expect(problemMessages(ANNA, error)).to.deep.equal([
      {
        topic: 'glucobridge/anna/problem',
        payload: JSON.stringify({
          problem: true,
          code: 'AUTH_INVALID',
          status: 'wrong credentials',
          retryable: false,
          hint: 'Check the username and password in the configuration.',
        }),
        retain: true,
        qos: 1,
      },
    ]);
    // The free-text message is never copied into MQTT, whatever a provider put in it.
    expect(problemMessages(ANNA, error)[0]!.payload).not.to.contain('example.org');
    expect(JSON.parse(problemMessages(ANNA, null)[0]!.payload)).to.deep.equal({
      problem: false,
      code: null,
      status: null,
      retryable: null,
      hint: null,
    });
  });

  it('publishes measurements on a topic per kind', () => {
    const base = {
      provider: 'vitadock' as const,
      subject: 'carla',
      module: 'x',
      id: '1',
      time: new Date(T0),
    };
    const bp: Measurement = { ...base, kind: 'bloodPressure', systolic: 128, diastolic: 84, pulse: 66 };
    const weight: Measurement = {
      ...base,
      kind: 'weight',
      weightKg: 71.4,
      bodyFatPercent: 24.1,
      bodyWaterPercent: null,
      muscleMassPercent: null,
      boneMassKg: null,
      bmi: 23.3,
    };
    const temperature: Measurement = { ...base, kind: 'temperature', celsius: 36.8 };
    expect(measurementMessages(CARLA, bp)).to.deep.equal([
      {
        topic: 'glucobridge/carla/blood_pressure',
        payload: '{"systolic":128,"diastolic":84,"pulse":66,"time":"2026-03-14T08:00:00.000Z"}',
        retain: true,
        qos: 1,
      },
    ]);
    expect(measurementMessages(CARLA, weight)[0]).to.deep.equal({
      topic: 'glucobridge/carla/weight',
      payload:
        '{"weightKg":71.4,"bodyFatPercent":24.1,"bodyWaterPercent":null,"muscleMassPercent":null,' +
        '"boneMassKg":null,"bmi":23.3,"time":"2026-03-14T08:00:00.000Z"}',
      retain: true,
      qos: 1,
    });
    expect(measurementMessages(CARLA, temperature)[0]).to.deep.include({
      topic: 'glucobridge/carla/temperature',
      payload: '{"celsius":36.8,"time":"2026-03-14T08:00:00.000Z"}',
    });
  });
});

describe('mqtt subjects and topics', () => {
  it('slugs account names into stable keys', () => {
    expect(subjectSlug('Anna')).to.equal('anna');
    expect(subjectSlug('  Zoë Müller-Lüdenscheidt ')).to.equal('zoe_muller_ludenscheidt');
    expect(subjectSlug('Dad (Libre 3)')).to.equal('dad_libre_3');
    expect(subjectSlug('x'.repeat(60))).to.have.length(48);
  });

  it('refuses an e-mail address or a name without letters, with a CONFIG error', () => {
    for (const name of ['anna.smith@example.org', '---', '']) {
      let caught: unknown;
      try {
        subjectSlug(name);
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(CgmError);
      expect((caught as CgmError).code).to.equal('CONFIG');
      expect((caught as CgmError).message).not.to.contain('anna.smith');
    }
  });

  it('validates descriptors before they reach a topic', () => {
    expect(() => validateSubject(ANNA)).not.to.throw();
    expect(() => validateSubject({ ...ANNA, key: 'Anna Smith' })).to.throw(/slug/);
    expect(() => validateSubject({ ...ANNA, name: 'a@b.org' })).to.throw(/e-mail/);
    expect(() => validateSubject({ ...ANNA, thresholds: { urgentLow: 80, low: 70, high: 180 } })).to.throw(
      /urgentLow <= low < high/,
    );
    expect(() => validateSubject({ ...ANNA, staleMinutes: 0 })).to.throw(/staleMinutes/);
  });

  it('resolves topics with defaults and rejects wildcards', () => {
    expect(resolveTopics()).to.deep.equal({
      base: 'glucobridge',
      discoveryPrefix: 'homeassistant',
      availability: 'glucobridge/status',
      homeAssistantStatus: 'homeassistant/status',
    });
    expect(resolveTopics({ baseTopic: '/home/cgm/' }).availability).to.equal('home/cgm/status');
    expect(() => resolveTopics({ baseTopic: 'a/+/b' })).to.throw(/wildcards/);
    expect(() => resolveTopics({ baseTopic: 'x', discoveryPrefix: 'x' })).to.throw(/differ/);
  });
});
