import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBridgeConfig, parseBridgeConfig } from '../../src/bridge/config';
import { runCli } from '../cli/helpers';
import { configError } from './helpers';

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

  it('takes thresholds "cloud" for all or one account, the configured limits staying the fallback', () => {
    const ben = {
      name: 'Ben',
      provider: 'librelinkup',
      username: 'ben@example.org',
      password: 'pw-ben-1234',
    };
    const limits = { urgentLow: 50, low: 65, high: 200 };
    const perAccount = parseBridgeConfig(
      {
        thresholds: limits,
        accounts: [minimal.accounts[0], { ...ben, thresholds: 'cloud', sensorDays: 15 }],
      },
      {},
    );
    expect(perAccount.accounts.map((a) => [a.cloudThresholds, a.thresholds])).to.deep.equal([
      [false, limits],
      [true, limits],
    ]);
    expect(perAccount.accounts[1]?.source).to.include({ sensorDays: 15 });
    const global = parseBridgeConfig({ thresholds: 'cloud', accounts: [{ ...ben, thresholds: limits }] }, {});
    expect(global.accounts.map((a) => [a.cloudThresholds, a.thresholds])).to.deep.equal([[false, limits]]);
    const everyone = parseBridgeConfig({ thresholds: 'cloud', accounts: [ben] }, {});
    expect(everyone.accounts[0]).to.deep.include({
      cloudThresholds: true,
      thresholds: { urgentLow: 55, low: 70, high: 180 },
    });
    const wrong = configError(() => parseBridgeConfig({ thresholds: 'clouds', accounts: [ben] }, {}));
    expect(wrong.message).to.match(/^thresholds: /);
    const days = configError(() => parseBridgeConfig({ accounts: [{ ...ben, sensorDays: 14.5 }] }, {}));
    expect(days.message).to.contain('sensorDays must be a whole number of days');
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
    const error = configError(() =>
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
      configError(() => parseBridgeConfig({ accounts: [{ name: 'A', provider: 'medtronic' }] }, {})).message,
    ).to.match(/^accounts\[0\]\.provider: /);
    expect(
      configError(() =>
        parseBridgeConfig({ accounts: [{ name: 'A', provider: 'dexcom', region: 'eu', password: 'x' }] }, {}),
      ).message,
    ).to.equal('accounts[0].region: region must be us, ous (outside the US) or jp');
    expect(configError(() => parseBridgeConfig({ ...minimal, units: 'mg' }, {})).message).to.equal(
      'units: units must be mgdl or mmol',
    );
    expect(
      configError(() => parseBridgeConfig({ accounts: [{ provider: 'dexcom', password: 'x' }] }, {})).message,
    ).to.contain('accounts[0].name');
    expect(configError(() => parseBridgeConfig({ accounts: [] }, {})).message).to.contain(
      'at least one account',
    );
    expect(
      configError(() =>
        parseBridgeConfig({ ...minimal, thresholds: { urgentLow: 80, low: 70, high: 180 } }, {}),
      ).message,
    ).to.contain('urgentLow < low < high');
  });

  it('refuses two accounts with the same name (they would share topics)', () => {
    const error = configError(() =>
      parseBridgeConfig({ accounts: [minimal.accounts[0], minimal.accounts[0]] }, {}),
    );
    expect(error.message).to.contain('"Anna" is used twice');
  });

  it('reports a missing or broken file as CONFIG', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gb-config-'));
    expect(configError(() => loadBridgeConfig(join(dir, 'none.json'))).message).to.contain('no such file');
    writeFileSync(join(dir, 'bad.json'), '{ "accounts": [ ');
    expect(configError(() => loadBridgeConfig(join(dir, 'bad.json'))).message).to.contain(
      'is not valid JSON',
    );
  });

  describe('issue 17, failure 6: mistakes that used to pass', () => {
    const dexcom = (fields: Record<string, unknown>) => ({
      accounts: [{ name: 'Anna', provider: 'dexcom', username: 'anna', password: 'pw-anna-123', ...fields }],
    });

    it('refuses a server URL that does not parse, has a bad port or a control character, naming the field', () => {
      for (const server of [
        'http://127.0.0.1:99999',
        'http://[::1',
        'http://%zz%/x',
        'http://127.0.0.1:8080/dexcom\u0000x',
        'http://127.0.0.1\u0000:8080',
        'http://127.0.0.1:0',
        'ftp://127.0.0.1',
        'http://127.0.0.1/x?sessionId=1',
      ]) {
        const error = configError(() => parseBridgeConfig(dexcom({ server }), {}));
        expect(error.code).to.equal('CONFIG');
        expect(error.message, JSON.stringify(server)).to.match(/^accounts\[0\]\.server: server /);
      }
      const fine = parseBridgeConfig(dexcom({ server: 'http://[::1]:8080/dexcom/' }), {});
      expect(fine.accounts[0]!.source.server).to.equal('http://[::1]:8080/dexcom');
      const libre = parseBridgeConfig(
        {
          accounts: [
            {
              name: 'Mia',
              provider: 'librelinkup',
              server: 'https://api-{region}.example.org',
              username: 'mia@example.org',
              password: 'pw-mia-1234',
            },
          ],
        },
        {},
      );
      expect(libre.accounts[0]!.source.server).to.equal('https://api-{region}.example.org');
    });

    it('refuses a Dexcom accountId that is not a UUID or all zeros, and an account without username or id', () => {
      for (const accountId of ['not-a-uuid', '00000000-0000-0000-0000-000000000000']) {
        expect(configError(() => parseBridgeConfig(dexcom({ accountId }), {})).message).to.match(
          /^accounts\[0\]\.accountId: accountId must be the account UUID/,
        );
      }
      for (const username of [undefined, '', '   ']) {
        const config = dexcom({ username });
        expect(configError(() => parseBridgeConfig(config, {})).message, String(username)).to.equal(
          'accounts[0].username: a Dexcom login needs one of them: give the "username" or the "account ID"',
        );
      }
      const byId = parseBridgeConfig(
        dexcom({ username: '', accountId: '1E4D1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B' }),
        {},
      );
      expect(byId.accounts[0]!.source).to.deep.include({ accountId: '1E4D1A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B' });
      expect((byId.accounts[0]!.source as { username?: string }).username).to.equal(undefined);
    });

    it('refuses "Anna!" and "Anna?" (one topic) with one CONFIG error naming both', () => {
      const error = configError(() =>
        parseBridgeConfig(
          {
            accounts: [
              { name: 'Anna!', provider: 'dexcom', username: 'a1', password: 'pw-1-xxxx' },
              { name: 'Anna?', provider: 'dexcom', username: 'a2', password: 'pw-2-xxxx' },
            ],
          },
          {},
        ),
      );
      expect(error.code).to.equal('CONFIG');
      expect(error.message).to.include('"Anna!"').and.include('"Anna?"').and.include('accounts[1].name');
      expect(error.message.split('\n')).to.have.length(1);
      expect(configError(() => parseBridgeConfig(dexcom({ name: '!!!' }), {})).message).to.match(
        /^accounts\[0\]\.name: /,
      );
    });

    it('checks uniqueness on the slug ("Anna B" and "Anna-B" share a topic); "Мария" gets a topic of her own', () => {
      const error = configError(() =>
        parseBridgeConfig(
          {
            accounts: [
              { name: 'Anna B', provider: 'dexcom', username: 'a1', password: 'pw-1-xxxx' },
              { name: 'Anna-B', provider: 'dexcom', username: 'a2', password: 'pw-2-xxxx' },
            ],
          },
          {},
        ),
      );
      expect(error.code).to.equal('CONFIG');
      expect(error.message).to.include('"Anna B"').and.include('"Anna-B"');
      const config = parseBridgeConfig(
        {
          accounts: [
            { name: 'Мария', provider: 'dexcom', username: 'a1', password: 'pw-1-xxxx' },
            { name: '李小龍', provider: 'dexcom', username: 'a2', password: 'pw-2-xxxx' },
          ],
        },
        {},
      );
      expect(config.accounts.map((a) => a.name)).to.deep.equal(['Мария', '李小龍']);
    });

    it('refuses a configuration 50,000 levels deep without overflowing the stack', () => {
      const dir = mkdtempSync(join(tmpdir(), 'gb-config-'));
      const file = join(dir, 'deep.json');
      writeFileSync(file, `{"accounts":${'['.repeat(50_000)}${']'.repeat(50_000)}}`);
      const error = configError(() => loadBridgeConfig(file, {}));
      expect(error.code).to.equal('CONFIG');
      expect(error.message).to.contain('nests deeper than 32 levels');
      let deep: unknown = { env: 'X' };
      for (let i = 0; i < 50_000; i += 1) deep = { inner: deep };
      const inMemory = configError(() => parseBridgeConfig({ accounts: [{ name: 'A', deep }] }, {}));
      expect(inMemory.message).to.match(/^accounts\[0\]\.deep(\.inner)+: nested deeper than 32 levels/);
      writeFileSync(file, ' '.repeat(2 * 1024 * 1024));
      expect(configError(() => loadBridgeConfig(file, {})).message).to.contain('larger than');
      expect(configError(() => loadBridgeConfig(dir, {})).message).to.contain('is a directory');
    });

    it('refuses a bad MQTT URL in the file or in GLUCOBRIDGE_MQTT_URL, naming it', () => {
      const config = { ...dexcom({}), mqtt: { url: 'mqtt://127.0.0.1:70000' } };
      expect(configError(() => parseBridgeConfig(config, {})).message).to.match(/^mqtt\.url: mqtt\.url /);
      expect(
        configError(() => parseBridgeConfig(dexcom({}), { GLUCOBRIDGE_MQTT_URL: 'http://broker' })).message,
      ).to.match(/^GLUCOBRIDGE_MQTT_URL: /);
    });

    it('glucobridge bridge --config exits 2 naming the field, for each of these', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gb-config-'));
      const cases: [unknown, RegExp][] = [
        [dexcom({ server: 'http://127.0.0.1:99999' }), /^CONFIG: accounts\[0\]\.server: /],
        [dexcom({ accountId: 'not-a-uuid' }), /^CONFIG: accounts\[0\]\.accountId: /],
        [dexcom({ username: '' }), /^CONFIG: accounts\[0\]\.username: /],
        [{ accounts: [{ a: 1 }], stateFile: 'x\u0000y' }, /^CONFIG: stateFile: /],
      ];
      for (const [config, message] of cases) {
        const file = join(dir, 'glucobridge.json');
        writeFileSync(file, JSON.stringify(config));
        const run = await runCli(['bridge', '--config', file], {});
        expect(run.code, run.stderr).to.equal(2);
        expect(run.stderr).to.match(message);
        expect(run.stderr).to.not.match(/SERVER|Maximum call stack/);
      }
      const deep = join(dir, 'deep.json');
      writeFileSync(deep, `{"accounts":${'['.repeat(50_000)}${']'.repeat(50_000)}}`);
      const run = await runCli(['bridge', '--config', deep], {});
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/^CONFIG: .*deep\.json: the configuration nests deeper than 32 levels/);
    });
  });

  it('takes the broker from GLUCOBRIDGE_MQTT_* over the file', () => {
    const config = parseBridgeConfig(minimal, {
      GLUCOBRIDGE_MQTT_URL: 'mqtt://127.0.0.1:1999',
      GLUCOBRIDGE_MQTT_USERNAME: 'u',
    });
    expect(config.mqtt).to.deep.include({ url: 'mqtt://127.0.0.1:1999', username: 'u' });
  });
});
