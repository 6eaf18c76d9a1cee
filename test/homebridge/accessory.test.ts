import { expect } from 'chai';
import type { PlatformAccessory, Service } from 'homebridge';
import { HomebridgeAPI } from 'homebridge/lib/api';
import {
  GlucoseAccessory,
  homeKitName,
  luxFor,
  MIN_LUX,
  type DisplaySettings,
  type GlucoseContext,
} from '../../homebridge/accessory';
import { CgmError } from '../../src/model/errors';
import { statePayload } from '../../src/mqtt/state';
import { makeReading, type GlucoseReading } from '../../src/model/reading';

const api = new HomebridgeAPI();
const { Characteristic: C, Service: S } = api.hap;
const MGDL: DisplaySettings = { units: 'mgdl', thresholds: { urgentLow: 55, low: 70, high: 180 } };
// An hour ago on the 5-minute grid: readings are refused a day ahead of the clock, so no fixed date.
const T = Math.floor(Date.now() / 300_000) * 300_000 - 3_600_000;

function reading(mgdl: number, minute = 0, limit?: 'low' | 'high'): GlucoseReading {
  return makeReading({
    provider: 'dexcom',
    subject: 'x',
    time: new Date(T + minute * 60_000),
    mgdl,
    trend: 'flat',
    ...(limit ? { limit } : {}),
  });
}

function create(display = MGDL): { handler: GlucoseAccessory; accessory: PlatformAccessory<GlucoseContext> } {
  const accessory = new api.platformAccessory<GlucoseContext>('Emma', api.hap.uuid.generate('test:emma'));
  accessory.context = { provider: 'librelinkup', accountKey: 'k', subjectKey: 'abc123' };
  return { handler: new GlucoseAccessory(api.hap, accessory, display), accessory };
}

const light = (a: PlatformAccessory) => a.getServiceById(S.LightSensor, 'glucose')!;
const sensor = (a: PlatformAccessory, subtype: string) => a.getServiceById(S.OccupancySensor, subtype)!;
const alerts = (a: PlatformAccessory) =>
  ['urgentLow', 'low', 'high'].map((s) => sensor(a, s).getCharacteristic(C.OccupancyDetected).value);
const sensors = (a: PlatformAccessory): Service[] => a.services.filter((s) => s.subtype !== undefined);

describe('GlucoseAccessory (real HAP services)', () => {
  it('shows the value as light level and switches the alert sensors at the thresholds, inclusive', () => {
    const { handler, accessory } = create();
    const cases: [number, unknown[]][] = [
      [54, [1, 1, 0]],
      [55, [1, 1, 0]],
      [56, [0, 1, 0]],
      [70, [0, 1, 0]],
      [71, [0, 0, 0]],
      [179, [0, 0, 0]],
      [180, [0, 0, 1]],
    ];
    cases.forEach(([mgdl, expected], i) => {
      handler.show(reading(mgdl, i * 5));
      expect(light(accessory).getCharacteristic(C.CurrentAmbientLightLevel).value, `${mgdl}`).to.equal(mgdl);
      expect(alerts(accessory), `${mgdl}`).to.deep.equal(expected);
    });
  });

  it("treats the sensor's LOW and HIGH placeholders as beyond every threshold", () => {
    const { handler, accessory } = create();
    handler.show(reading(39, 0, 'low'));
    expect(alerts(accessory)).to.deep.equal([1, 1, 0]);
    handler.show(reading(401, 5, 'high'));
    expect(alerts(accessory)).to.deep.equal([0, 0, 1]);
  });

  it('shows mmol/L when configured, and never a light level below what HomeKit accepts', () => {
    const { handler, accessory } = create({ ...MGDL, units: 'mmol' });
    handler.show(reading(120));
    expect(light(accessory).getCharacteristic(C.CurrentAmbientLightLevel).value).to.equal(6.7);
    expect(luxFor({ ...reading(39), mgdl: 0, mmol: 0 }, 'mgdl')).to.equal(MIN_LUX);
    expect(MIN_LUX).to.equal(light(accessory).getCharacteristic(C.CurrentAmbientLightLevel).props.minValue);
  });

  it('keeps the newest reading when an older one arrives late', () => {
    const { handler, accessory } = create();
    handler.show(reading(100, 10));
    handler.show(reading(60, 5));
    expect(light(accessory).getCharacteristic(C.CurrentAmbientLightLevel).value).to.equal(100);
    expect(handler.last!.mgdl).to.equal(100);
  });

  it('answers gets with HapStatusError until a reading is known, then from memory', async () => {
    const { handler, accessory } = create();
    const lux = light(accessory).getCharacteristic(C.CurrentAmbientLightLevel);
    const high = sensor(accessory, 'high').getCharacteristic(C.OccupancyDetected);
    for (const characteristic of [lux, high]) {
      const status = await characteristic.handleGetRequest().then(
        () => 'answered',
        (error: unknown) => error,
      );
      expect(status).to.equal(api.hap.HAPStatus.SERVICE_COMMUNICATION_FAILURE);
    }
    handler.show(reading(200));
    expect(await lux.handleGetRequest()).to.equal(200);
    expect(await high.handleGetRequest()).to.equal(1);
  });

  it('raises StatusFault and clears StatusActive on every sensor while stale or failing', async () => {
    const { handler, accessory } = create();
    const faults = () => sensors(accessory).map((s) => s.getCharacteristic(C.StatusFault).value);
    const active = () => sensors(accessory).map((s) => s.getCharacteristic(C.StatusActive).value);
    handler.show(reading(100));
    expect(faults()).to.deep.equal([0, 0, 0, 0]);
    expect(active()).to.deep.equal([true, true, true, true]);
    handler.setStale(true);
    expect(faults()).to.deep.equal([1, 1, 1, 1]);
    expect(active()).to.deep.equal([false, false, false, false]);
    expect(await sensor(accessory, 'low').getCharacteristic(C.StatusFault).handleGetRequest()).to.equal(1);
    handler.setStale(false);
    handler.setFailure(new CgmError('AUTH_INVALID', 'refused'));
    expect(faults()).to.deep.equal([1, 1, 1, 1]);
    handler.setFailure(undefined);
    expect(faults()).to.deep.equal([0, 0, 0, 0]);
  });

  it('builds the services once: a restored accessory keeps them and the names chosen in Home', () => {
    const { accessory } = create();
    sensor(accessory, 'low').setCharacteristic(C.ConfiguredName, 'Emma low');
    new GlucoseAccessory(api.hap, accessory, MGDL);
    expect(accessory.services).to.have.length(5); // information, light, three alerts
    expect(sensor(accessory, 'low').getCharacteristic(C.ConfiguredName).value).to.equal('Emma low');
    expect(light(accessory).isPrimaryService).to.be.true;
    const info = accessory.getService(S.AccessoryInformation)!;
    expect(info.getCharacteristic(C.Model).value).to.equal('LibreLinkUp');
    expect(info.getCharacteristic(C.SerialNumber).value).to.equal('abc123');
  });

  it('makes names HomeKit accepts', () => {
    expect(homeKitName('Emma')).to.equal('Emma');
    expect(homeKitName('  Zoë (kid) ')).to.equal('Zoë kid');
    expect(homeKitName('✨')).to.equal('Glucose');
  });

  it('means the same by urgent low, low and high as the MQTT state (one classify for both)', () => {
    const limits = { urgentLow: 60, low: 80, high: 250 };
    const descriptor = {
      key: 'emma',
      name: 'Emma',
      provider: 'librelinkup' as const,
      units: 'mgdl' as const,
      thresholds: limits,
      staleMinutes: 15,
    };
    // A Libre HIGH flag at 240 (below the high limit) and a LOW flag at 65 (above urgent low): the sensor's word wins.
    const cases = [
      reading(59),
      reading(60),
      reading(79),
      reading(80),
      reading(250),
      reading(240, 0, 'high'),
      reading(65, 0, 'low'),
      reading(39, 0, 'low'),
    ];
    for (const r of cases) {
      const { handler, accessory } = create({ units: 'mgdl', thresholds: limits });
      handler.show(r);
      const state = statePayload(descriptor, r, undefined, { stale: false });
      const mqtt = [state.urgentLow, state.low, state.high].map((on) => (on ? 1 : 0));
      expect(alerts(accessory), `${r.mgdl} ${r.limit ?? ''}`).to.deep.equal(mqtt);
    }
  });
});
