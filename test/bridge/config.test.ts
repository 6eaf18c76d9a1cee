import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBridgeConfig, parseBridgeConfig } from '../../src/bridge/config';
import { CgmError } from '../../src/model/errors';

function failure(run: () => unknown): CgmError {
  try {
    run();
  } catch (error) {
    if (error instanceof CgmError) return error;
    throw error;
  }
  throw new Error('expected a CONFIG error');
}

describe('bridge configuration', () => {
  const minimal = {
    accounts: [
      { name: 'Anna', provider: 'dexcom', region: 'ous', username: 'anna', password: 'pw-anna-123' },
    ],
  };

  it('fills the defaults of the issue (base topic, prefix, thresholds, units, stale minutes)', () => {
    const config = parseBridgeConfig(minimal, {});
    expect(config.mqtt).to.deep.equal({ baseTopic: 'glucobridge', discoveryPrefix: 'homeassistant' });
    expect(config.units).to.equal('mgdl');
    expect(config.staleMinutes).to.equal(15);
    expect(config.accounts[0]).to.deep.include({
      name: 'Anna',
      units: 'mgdl',
      thresholds: { urgentLow: 55, low: 70, high: 180 },
      staleMinutes: 15,
    });
    expect(config.accounts[0]?.source).to.deep.include({
      provider: 'dexcom',
      region: 'ous',
      password: 'pw-anna-123',
    });
  });

  it('lets an account override units and thresholds', () => {
    const config = parseBridgeConfig(
      {
        units: 'mmol',
        accounts: [
          { ...minimal.accounts[0], units: 'mgdl', thresholds: { urgentLow: 50, low: 65, high: 200 } },
          { name: 'Ben', provider: 'librelinkup', username: 'ben@example.org', password: 'pw-ben-1234' },
        ],
      },
      {},
    );
    expect(config.accounts.map((a) => a.units)).to.deep.equal(['mgdl', 'mmol']);
    const spelled = parseBridgeConfig({ ...minimal, units: 'mmol/L' }, {});
    expect(spelled.units).to.equal('mmol');
    expect(config.accounts[0]?.thresholds).to.deep.equal({ urgentLow: 50, low: 65, high: 200 });
  });

  it('reads secrets written as {"env": NAME} from the environment', () => {
    const config = parseBridgeConfig(
      {
        mqtt: { url: 'mqtt://127.0.0.1:1883', password: { env: 'MQTT_PW' } },
        accounts: [{ name: 'Anna', provider: 'dexcom', username: 'anna', password: { env: 'DEXCOM_PW' } }],
      },
      { MQTT_PW: 'broker-secret', DEXCOM_PW: 'dexcom-secret' },
    );
    expect(config.mqtt.password).to.equal('broker-secret');
    expect(config.accounts[0]?.source).to.deep.include({ password: 'dexcom-secret' });
  });

  it('names the field and the variable when an env secret is missing, without printing other values', () => {
    const error = failure(() =>
      parseBridgeConfig(
        { accounts: [{ name: 'A', provider: 'dexcom', username: 'a', password: { env: 'NOPE' } }] },
        {},
      ),
    );
    expect(error.code).to.equal('CONFIG');
    expect(error.message).to.equal('accounts[0].password: the environment variable NOPE is not set');
  });

  it('names the field and the fix for a wrong provider, region, unit or missing name', () => {
    expect(
      failure(() => parseBridgeConfig({ accounts: [{ name: 'A', provider: 'medtronic' }] }, {})).message,
    ).to.match(/^accounts\[0\]\.provider: /);
    expect(
      failure(() =>
        parseBridgeConfig({ accounts: [{ name: 'A', provider: 'dexcom', region: 'eu', password: 'x' }] }, {}),
      ).message,
    ).to.equal('accounts[0].region: region must be us, ous (outside the US) or jp');
    expect(failure(() => parseBridgeConfig({ ...minimal, units: 'mg' }, {})).message).to.equal(
      'units: units must be mgdl or mmol',
    );
    expect(
      failure(() => parseBridgeConfig({ accounts: [{ provider: 'dexcom', password: 'x' }] }, {})).message,
    ).to.contain('accounts[0].name');
    expect(failure(() => parseBridgeConfig({ accounts: [] }, {})).message).to.contain('at least one account');
    expect(
      failure(() => parseBridgeConfig({ ...minimal, thresholds: { urgentLow: 80, low: 70, high: 180 } }, {}))
        .message,
    ).to.contain('urgentLow < low < high');
  });

  it('refuses two accounts with the same name (they would share topics)', () => {
    const error = failure(() =>
      parseBridgeConfig({ accounts: [minimal.accounts[0], minimal.accounts[0]] }, {}),
    );
    expect(error.message).to.contain('"Anna" is used twice');
  });

  it('reports a missing or broken file as CONFIG', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gb-config-'));
    expect(failure(() => loadBridgeConfig(join(dir, 'none.json'))).message).to.contain('no such file');
    writeFileSync(join(dir, 'bad.json'), '{ "accounts": [ ');
    expect(failure(() => loadBridgeConfig(join(dir, 'bad.json'))).message).to.contain('is not valid JSON');
  });

  it('takes the broker from GLUCOBRIDGE_MQTT_* over the file', () => {
    const config = parseBridgeConfig(minimal, {
      GLUCOBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1999',
      GLUCOBRIDGE_MQTT_USERNAME: 'u',
    });
    expect(config.mqtt).to.deep.include({ url: 'mqtt://127.0.0.1:1999', username: 'u' });
  });
});
