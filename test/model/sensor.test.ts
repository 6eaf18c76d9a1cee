import { expect } from 'chai';
import { sensorStatus, type SensorInfo } from '../../src/model/sensor';
import { cloudTargets, connectionDetails, currentSensor } from '../../src/providers/librelinkup/details';
import { connectionsResponseSchema, graphResponseSchema } from '../../src/providers/librelinkup/schemas';
import { personThresholds } from '../../src/follow/thresholds';
import { fixture } from '../providers/librelinkup/helpers';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const START = Date.UTC(2026, 10, 1, 8, 30);
const info: SensorInfo = { serial: '0E12345678', activated: new Date(START), warmupMinutes: 60 };

describe('the sensor (LibreLinkUp connection sensor.sn, sensor.a)', () => {
  it('ends after its life in days, counts the days left down to 0, and warms up for 60 minutes', () => {
    expect(sensorStatus(info, 14, START + 30 * MINUTE)).to.deep.equal({
      serial: '0E12345678',
      activated: '2026-11-01T08:30:00.000Z',
      ends: '2026-11-15T08:30:00.000Z',
      daysLeft: 13.9,
      warmingUp: true,
    });
    expect(sensorStatus(info, 14, START + 60 * MINUTE).warmingUp).to.equal(false);
    expect(sensorStatus(info, 15, START).ends).to.equal('2026-11-16T08:30:00.000Z');
    // Never more than is left: 23 hours left is 0.9 days, not 1.
    expect(sensorStatus(info, 14, START + 13 * DAY + 1 * 60 * MINUTE).daysLeft).to.equal(0.9);
    expect(sensorStatus(info, 14, START + 20 * DAY).daysLeft).to.equal(0);
  });

  it('reads sn and a (epoch seconds) from the captured answers; the newest of the active sensors wins', () => {
    const connections = connectionsResponseSchema.parse(JSON.parse(fixture('connections-two-patients.json')));
    const [john, jane] = connections.data;
    const now = Date.UTC(2023, 0, 1);
    expect(connectionDetails(john!, undefined, now)).to.deep.equal({
      name: 'John Doe',
      sensor: {
        serial: 'ABCDEF1234',
        activated: new Date(1671955478 * 1000),
        warmupMinutes: 60,
        productType: 4,
      },
      targets: { urgentLow: 55, low: 70, high: 160 },
    });
    // "sensor": null: no sensor, the rest still counts.
    expect(connectionDetails(jane!, undefined, now)).to.deep.equal({
      name: 'Jane Doe',
      targets: { urgentLow: 55, low: 70, high: 180 },
    });
    const graph = graphResponseSchema.parse(JSON.parse(fixture('graph-small-3-active-sensors.json')));
    const sensor = currentSensor(graph.data.connection.sensor, graph.data.activeSensors, now);
    expect(sensor?.activated.getTime()).to.equal(1652400270 * 1000);
    // One started later only in activeSensors wins over the connection's.
    const later = [{ sensor: { sn: 'NEWER12345', a: 1652500000, w: 60 } }];
    expect(currentSensor(graph.data.connection.sensor, later, now)?.serial).to.equal('NEWER12345');
  });

  it('refuses a sensor that cannot be one: no serial, milliseconds, a start in the future or long ago', () => {
    const now = Date.UTC(2026, 0, 1);
    for (const bad of [
      { a: 1700000000 },
      { sn: '', a: 1700000000 },
      { sn: 'X', a: 1700000000000 },
      { sn: 'X', a: now / 1000 + 3 * 86400 },
      { sn: 'X', a: 86400 },
      { sn: 'X', a: '1700000000' },
      'sensor',
    ]) {
      expect(currentSensor(bad, undefined, now), JSON.stringify(bad)).to.equal(undefined);
    }
  });

  it('takes targets from targetLow/targetHigh, else the switched-on alarms; never implausible numbers', () => {
    const base = { id: 'c', patientId: 'p', firstName: '', lastName: '' };
    expect(
      cloudTargets({ ...base, alarmRules: { l: { th: 65, on: true }, h: { th: 240, on: true } } }),
    ).to.deep.equal({
      low: 65,
      high: 240,
    });
    expect(cloudTargets({ ...base, alarmRules: { l: { th: 65, on: false } } })).to.equal(undefined);
    expect(cloudTargets({ ...base, targetLow: 3.9, targetHigh: 10 })).to.equal(undefined);
  });

  it('with "cloud" each limit the cloud has replaces the configured one, if they still rise', () => {
    const configured = { urgentLow: 55, low: 70, high: 180 };
    expect(personThresholds(configured, { low: 80, high: 160 }).thresholds).to.deep.equal({
      urgentLow: 55,
      low: 80,
      high: 160,
    });
    expect(personThresholds(configured, { low: 50 }).thresholds).to.deep.equal({
      urgentLow: 49,
      low: 50,
      high: 180,
    });
    const refused = personThresholds(configured, { low: 200, high: 150 });
    expect(refused.thresholds).to.deep.equal(configured);
    expect(refused.refused).to.contain('do not rise');
  });
});
