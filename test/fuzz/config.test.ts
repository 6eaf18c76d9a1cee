// Fuzzing the bridge configuration parser (issue 17): generated and mutated configurations, in memory
// and as files. Either a configuration that keeps every rule comes out, or one CONFIG error naming
// the field; never another error, a stack overflow, or a secret in the message.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssertionError, expect } from 'chai';
import fc from 'fast-check';
import { loadBridgeConfig, parseBridgeConfig, type BridgeConfig } from '../../src/bridge/config';
import { CgmError } from '../../src/model/errors';
import { subjectSlug } from '../../src/mqtt/subject';
import { check, expectNoSecret, junkArb, mutated } from './harness';

const PASSWORD = 'Fuzz-Config-Password-6';
const ENV_SECRET = 'Fuzz-Env-Secret-7777';
const SECRETS = [PASSWORD, ENV_SECRET];
const ENV = { PW: ENV_SECRET, EMPTY: '' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Mostly `good`, sometimes `bad`: most configurations get far enough to meet the later rules. */
function mostly<T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>): fc.Arbitrary<T | U> {
  return fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: bad });
}

const urlArb = mostly(
  fc.constantFrom(
    'http://127.0.0.1:8080',
    'https://share2.example.org/prefix/',
    'https://api-{region}.example.org',
    'http://[::1]:9000',
  ),
  fc.oneof(
    fc.constantFrom(
      'http://127.0.0.1:99999',
      'http://[::1',
      'http://%zz%/x',
      'http://127.0.0.1:0',
      'http://a\u0000b',
      'http://host/\u0000x',
      'http://host/x y',
      'ftp://host',
      'mqtt://127.0.0.1:1883',
      'mqtt://127.0.0.1:70000',
      'https://host/?q=1',
      'javascript:alert(1)',
      '',
    ),
    fc.webUrl(),
    fc.string({ maxLength: 30 }),
  ),
);

const nameArb = mostly(
  fc.constantFrom('Anna', 'Anna!', 'Anna?', 'anna', 'Ben', 'Zoë', 'Carla', 'Dan', 'Eve', 'Anna Ben'),
  fc.oneof(fc.constantFrom('!!!', 'anna@example.org', ' '), fc.string({ maxLength: 12 })),
);

const secretArb = mostly(
  fc.constantFrom<unknown>(PASSWORD, { env: 'PW' }),
  fc.constantFrom<unknown>({ env: 'NOPE' }, { env: 'EMPTY' }, { env: 3 }),
);

const accountArb = mutated(
  fc.record(
    {
      name: nameArb,
      provider: mostly(fc.constantFrom('dexcom', 'librelinkup', 'vitadock'), fc.constant('medtronic')),
      server: urlArb,
      region: mostly(fc.constantFrom('us', 'ous'), fc.constantFrom('jp', 'eu', 'de')),
      username: mostly(fc.constantFrom('fuzz-user', 'fuzz@example.org'), fc.constantFrom('', '  ')),
      password: secretArb,
      accountId: mostly(
        fc.constant('1e4d1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b'),
        fc.constantFrom('00000000-0000-0000-0000-000000000000', 'not-a-uuid', ''),
      ),
      consumerKey: fc.constant('key-1234'),
      consumerSecret: fc.constant(PASSWORD),
      units: mostly(fc.constantFrom('mgdl', 'mmol', 'mmol/L'), fc.constant('mg')),
      staleMinutes: mostly(fc.integer({ min: 5, max: 1_440 }), fc.oneof(fc.integer(), junkArb)),
      thresholds: mostly(fc.constant({ urgentLow: 55, low: 70, high: 180 }), junkArb),
    },
    { requiredKeys: ['name', 'provider', 'password', 'username'] },
  ),
  10,
);

/** `value` wrapped in `depth` objects or arrays. */
function nest(value: unknown, depth: number, arrays: boolean): unknown {
  let out = value;
  for (let i = 0; i < depth; i += 1) out = arrays ? [out] : { deeper: out };
  return out;
}

const configArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 9,
    arbitrary: mutated(
      fc.record(
        {
          accounts: fc.array(accountArb, { minLength: 1, maxLength: 4 }),
          mqtt: mutated(
            fc.record(
              { url: urlArb, baseTopic: fc.constantFrom('glucobridge', 'a#b', 'home/cgm') },
              { requiredKeys: [] },
            ),
          ),
          units: fc.constantFrom('mgdl', 'mmol'),
          stateFile: mostly(fc.constant('/tmp/state.json'), fc.constantFrom('', 'x\u0000y')),
        },
        { requiredKeys: ['accounts'] },
      ),
      10,
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(accountArb, fc.integer({ min: 20, max: 1_000 }), fc.boolean())
      .map(([account, depth, arrays]) => ({
        accounts: [{ ...(account as object), extra: nest(1, depth, arrays) }],
      })),
  },
);

/** The rules a configuration that came out must keep. */
function expectSound(config: BridgeConfig): void {
  expect(config.accounts.length).to.be.above(0);
  const slugs = config.accounts.map((a) => subjectSlug(a.name));
  expect(new Set(slugs).size, 'unique topic segments').to.equal(slugs.length);
  for (const { source } of config.accounts) {
    if (source.server !== undefined) {
      const url = new URL(source.server.split('{region}').join('global'));
      expect(['http:', 'https:']).to.include(url.protocol);
      // eslint-disable-next-line no-control-regex -- control characters are what must not pass
      expect(source.server).to.not.match(/[\u0000-\u001f\s]/);
    }
    if (source.provider === 'dexcom') {
      expect(source.username !== undefined || source.accountId !== undefined).to.equal(true);
      if (source.accountId !== undefined) {
        expect(source.accountId).to.match(UUID);
        expect(source.accountId).to.not.match(/^[0-]+$/);
      }
    }
  }
  if (config.mqtt.url !== undefined) expect(() => new URL(config.mqtt.url!)).to.not.throw();
}

function expectConfigError(error: unknown): void {
  if (!(error instanceof CgmError)) {
    throw new Error(`a non-CgmError escaped: ${error instanceof Error ? error.stack : String(error)}`);
  }
  expect(error.code).to.equal('CONFIG');
  // Every line names where: a field path, a variable or the file.
  for (const line of error.message.split('\n')) expect(line).to.match(/^[^\s:][^:]*: \S/);
  expectNoSecret(`${error.message}\n${error.hint ?? ''}`, SECRETS);
}

describe('fuzz: bridge configuration', function () {
  this.timeout(120_000);
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gb-fuzz-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('2,000 generated configurations: sound or one CONFIG error naming the field, never a secret', async () => {
    let sound = 0;
    await check(configArb, 2_000, (raw) => {
      try {
        expectSound(parseBridgeConfig(raw, ENV));
        sound += 1;
      } catch (error) {
        if (error instanceof AssertionError) throw error;
        expectConfigError(error);
      }
      return Promise.resolve();
    });
    expect(sound, 'some configurations are fine').to.be.above(20);
  });

  it('300 generated files, including broken and deeply nested text', async () => {
    const textArb = fc.oneof(
      configArb.map((raw) => JSON.stringify(raw) ?? ''),
      configArb.map((raw) => (JSON.stringify(raw) ?? '').slice(0, 25)),
      fc
        .integer({ min: 33, max: 60_000 })
        .map((depth) => `{"accounts":${'['.repeat(depth)}${']'.repeat(depth)}}`),
      fc.string({ maxLength: 50 }),
    );
    const file = join(dir, 'glucobridge.json');
    await check(textArb, 300, (text) => {
      writeFileSync(file, text);
      try {
        expectSound(loadBridgeConfig(file, ENV));
      } catch (error) {
        if (error instanceof AssertionError) throw error;
        expectConfigError(error);
      }
      return Promise.resolve();
    });
  });
});
