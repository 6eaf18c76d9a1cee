import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bridgeConfigSchema } from '../../src/bridge/config';
import {
  dexcomConfigSchema,
  libreLinkUpConfigSchema,
  thresholdsSchema,
  vitaDockConfigSchema,
} from '../../src/config';
import { mqttSettingsSchema } from '../../src/mqtt/settings';
import { runCli } from './helpers';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The text of one `## ` section of the README, or undefined when there is no such heading. */
function section(title: string): string | undefined {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) return undefined;
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

describe('glucobridge usage mistakes', () => {
  const commands: [string[], string][] = [
    [['read'], 'glucobridge read'],
    [['bridge'], 'glucobridge bridge'],
    [['simulate'], 'glucobridge simulate'],
    [['upload'], 'glucobridge upload'],
    [['followers', 'list'], 'glucobridge followers'],
    [['vitadock', 'authorize'], 'glucobridge vitadock'],
  ];
  for (const [argv, command] of commands) {
    it(`${command}: an unknown option is one line of ours, then the usage, status 2`, async () => {
      const run = await runCli([...argv, '--colour', 'red'], {});
      expect(run.code).to.equal(2);
      const [first, second] = run.stderr.split('\n');
      expect(first).to.equal(`${command}: unknown option --colour`);
      expect(second).to.match(new RegExp(`^usage: ${command}`));
      // Nothing of Node's own parseArgs text.
      expect(run.stderr).not.to.match(/To specify a positional argument|ERR_PARSE_ARGS|Unknown option '/);
      expect(run.stdout).to.equal('');
    });
  }

  it('an option without its value, or a flag given one', async () => {
    const missing = await runCli(['read', '--minutes'], {});
    expect(missing.code).to.equal(2);
    expect(missing.stderr.split('\n')[0]).to.equal('glucobridge read: --minutes needs a value');
    const flag = await runCli(['read', '--json=yes'], {});
    expect(flag.stderr.split('\n')[0]).to.equal('glucobridge read: --json takes no value');
  });
});

describe('configuration errors point to the README', () => {
  it('names a README section that exists', async () => {
    const run = await runCli(['bridge', '--config', join(__dirname, 'no-such-file.json')], {});
    expect(run.code).to.equal(2);
    const named = /hint: see the README, section "([^"]+)"/.exec(run.stderr)?.[1];
    expect(named, run.stderr).to.be.a('string');
    expect(section(named!), `README has "## ${named}"`).to.be.a('string');
  });

  it('the Configuration section describes every field, the environment variables and the state file', () => {
    const text = section('Configuration')!;
    const keys = [
      ...Object.keys(bridgeConfigSchema.shape).filter((k) => k !== 'mqtt'),
      ...Object.keys(mqttSettingsSchema.shape).map((k) => `mqtt.${k}`),
      ...Object.keys(thresholdsSchema.shape),
      ...[dexcomConfigSchema, libreLinkUpConfigSchema, vitaDockConfigSchema].flatMap((s) =>
        Object.keys(s.shape),
      ),
    ];
    // Each key in code quotes, alone or as the last part of a path such as `accounts[].provider`.
    const quoted = (key: string) => new RegExp(`\`[^\`\\s]*\\b${key.replace('.', '\\.')}\``);
    for (const key of new Set(keys)) expect(text, key).to.match(quoted(key));
    for (const variable of [
      'GLUCOBRIDGE_CONFIG',
      'GLUCOBRIDGE_MQTT_URL',
      'GLUCOBRIDGE_MQTT_USERNAME',
      'GLUCOBRIDGE_MQTT_PASSWORD',
      'GLUCOBRIDGE_USERNAME',
      'GLUCOBRIDGE_PASSWORD',
      'GLUCOBRIDGE_ACCOUNT_ID',
    ])
      expect(text, variable).to.contain(variable);
    expect(text).to.contain('.glucobridge-state.json');
    expect(text).to.contain('{"env": "VARIABLE"}');
  });
});
