import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { withoutEmail } from '../../src/follow/follower';
import { accountKey, parsePlatformConfig } from '../../homebridge/config';
import { uuidSeed } from '../../homebridge/platform';
import { bridgeConfigSchema } from '../../src/bridge/config';
import {
  dexcomConfigSchema,
  libreLinkUpConfigSchema,
  nightscoutConfigSchema,
  nightscoutDestinationSchema,
  vitaDockConfigSchema,
} from '../../src/config';
import { PLATFORM_NAME } from '../../homebridge/settings';

const dexcom = { provider: 'dexcom', username: 'sam', password: 'pw', region: 'ous' };

function ok(raw: unknown) {
  const result = parsePlatformConfig(raw);
  if (!result.ok) throw new Error(result.error);
  return result;
}

describe('Homebridge platform configuration', () => {
  it('fills the defaults: mg/dL, thresholds 55/70/180, stale after 15 minutes, no MQTT', () => {
    const { settings, accounts } = ok({ platform: 'GlucoBridge', accounts: [dexcom] });
    expect(settings).to.deep.include({
      name: 'GlucoBridge',
      units: 'mgdl',
      staleMinutes: 15,
      mqtt: undefined,
    });
    expect(settings.thresholds).to.deep.equal({ urgentLow: 55, low: 70, high: 180 });
    expect(accounts[0]).to.deep.include({ label: 'dexcom account 1', units: 'mgdl', staleMinutes: 15 });
    expect(accounts[0]!.config).to.deep.include({ provider: 'dexcom', region: 'ous' });
  });

  it('takes thresholds "cloud" from config.json or the form\'s checkbox, for all or one account', () => {
    const libre = { provider: 'librelinkup', username: 'carer@example.org', password: 'pw' };
    const limits = { urgentLow: 60, low: 80, high: 200 };
    const perAccount = ok({ thresholds: limits, accounts: [dexcom, { ...libre, cloudThresholds: true }] });
    expect(perAccount.accounts.map((a) => [a.cloudThresholds, a.thresholds])).to.deep.equal([
      [false, limits],
      [true, limits],
    ]);
    const json = ok({
      thresholds: 'cloud',
      accounts: [libre, { ...libre, username: 'b', cloudThresholds: false }],
    });
    expect(json.settings).to.deep.include({
      cloudThresholds: true,
      thresholds: { urgentLow: 55, low: 70, high: 180 },
    });
    expect(json.accounts.map((a) => a.cloudThresholds)).to.deep.equal([true, false]);
    const form = ok({
      cloudThresholds: true,
      thresholds: limits,
      accounts: [{ ...libre, thresholds: 'cloud' }],
    });
    expect(form.accounts[0]).to.deep.include({ cloudThresholds: true, thresholds: limits });
  });

  it('lets one account differ in unit, thresholds and stale time', () => {
    const { accounts } = ok({
      units: 'mmol/L',
      accounts: [dexcom, { ...dexcom, username: 'kid', thresholds: { urgentLow: 60, low: 80, high: 200 } }],
    });
    expect(accounts.map((a) => a.units)).to.deep.equal(['mmol', 'mmol']);
    expect(accounts[1]!.thresholds).to.deep.equal({ urgentLow: 60, low: 80, high: 200 });
  });

  it('reports a bad account by field and keeps the good ones', () => {
    const { accounts } = ok({ accounts: [{ provider: 'dexcom', name: 'Sam', password: '' }, dexcom] });
    expect(accounts[0]!.config).to.be.undefined;
    expect(accounts[0]!.label).to.equal('Sam');
    expect(accounts[0]!.error).to.include('accounts[0].password');
    expect(accounts[1]!.config).to.exist;
  });

  it('explains thresholds written in mmol/L', () => {
    const { accounts } = ok({ accounts: [{ ...dexcom, thresholds: { urgentLow: 3, low: 3.9, high: 10 } }] });
    expect(accounts[0]!.error).to.include('mg/dL (3.9 mmol/L is 70 mg/dL)');
    const bad = parsePlatformConfig({ accounts: [], thresholds: { low: 190 } });
    expect(bad.ok).to.be.false;
    expect(!bad.ok && bad.error).to.include('urgentLow < low < high');
  });

  it('uses the bridge MQTT block when it has a url, and a bad one turns only MQTT off', () => {
    expect(ok({ accounts: [], mqtt: { url: '', baseTopic: '' } }).settings.mqtt).to.be.undefined;
    const on = ok({ accounts: [], mqtt: { url: 'mqtt://127.0.0.1:1883', username: 'u' } }).settings;
    expect(on.mqtt).to.deep.include({
      url: 'mqtt://127.0.0.1:1883',
      baseTopic: 'glucobridge',
      username: 'u',
    });
    const off = ok({ accounts: [dexcom], mqtt: { url: 'http://broker' } });
    expect(off.settings.mqtt).to.be.undefined;
    expect(off.settings.mqttError).to.include('mqtt.url');
    expect(off.accounts[0]!.config).to.exist;
  });

  it('keeps the account key, and so the accessory uuid, when region, server or name change', () => {
    const key = accountKey('dexcom', { username: 'Sam', region: 'us' });
    expect(accountKey('dexcom', { username: ' sam ', region: 'ous', name: 'S' })).to.equal(key);
    expect(accountKey('librelinkup', { username: 'sam' })).not.to.equal(key);
    expect(uuidSeed('dexcom', key, 'Sam')).to.equal(uuidSeed('dexcom', key, 'Samantha'));
    expect(uuidSeed('librelinkup', key, 'patient-1')).not.to.equal(uuidSeed('librelinkup', key, 'patient-2'));
  });

  it('never names an accessory after an e-mail address', () => {
    expect(withoutEmail('sam@example.com')).to.equal('');
    expect(withoutEmail('Sam sam@example.com')).to.equal('Sam');
  });

  it('matches config.schema.json: alias, platform type, and the defaults of the form', () => {
    const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', 'config.schema.json'), 'utf8')) as {
      pluginAlias: string;
      pluginType: string;
      singular: boolean;
      schema: {
        properties: Record<string, { default?: unknown; properties?: Record<string, { default?: unknown }> }>;
      };
    };
    expect(schema.pluginAlias).to.equal(PLATFORM_NAME);
    expect(schema.pluginType).to.equal('platform');
    expect(schema.singular).to.be.true;
    const props = schema.schema.properties;
    expect(props.name).to.exist;
    const defaults = ok({ accounts: [] }).settings;
    expect(props.units!.default).to.equal(defaults.units);
    expect(props.staleMinutes!.default).to.equal(defaults.staleMinutes);
    const thresholds = Object.fromEntries(
      Object.entries(props.thresholds!.properties!).map(([k, v]) => [k, v.default]),
    );
    expect(thresholds).to.deep.equal(defaults.thresholds);
    // Every account field of the form is one the configuration knows.
    const accountFields = Object.keys(
      (props.accounts as unknown as { items: { properties: Record<string, unknown> } }).items.properties,
    );
    const known = new Set(
      [dexcomConfigSchema, libreLinkUpConfigSchema, nightscoutConfigSchema, vitaDockConfigSchema].flatMap(
        (z) => Object.keys(z.shape),
      ),
    );
    // The form's way of writing `thresholds: "cloud"` on an account (read by parseAccount).
    known.add('cloudThresholds');
    // The upload block of an account: exactly the fields of a Nightscout destination.
    known.add('nightscout');
    const upload = (
      props.accounts as unknown as { items: { properties: { nightscout: { properties: object } } } }
    ).items.properties.nightscout.properties;
    expect(
      Object.keys(upload).filter((field) => !(field in nightscoutDestinationSchema.shape)),
    ).to.deep.equal([]);
    expect(accountFields.filter((field) => !known.has(field))).to.deep.equal([]);
    const mqttFields = Object.keys(props.mqtt!.properties!);
    expect(
      mqttFields.filter((field) => !(field in bridgeConfigSchema.shape.mqtt.unwrap().shape)),
    ).to.deep.equal([]);
  });
});
