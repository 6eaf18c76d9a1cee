import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const NODES = join(__dirname, '..', '..', 'nodes');
const TYPES = [
  'cgm-account',
  'cgm-login',
  'cgm-read-glucose',
  'cgm-followers',
  'cgm-upload',
  'cgm-nightscout',
];
const LANGS = ['en-US', 'de'];

/** Every key path of a message catalog, e.g. `cgm-login.label.account`. */
function keys(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object') return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k));
}

describe('node editor files, catalogs and help', () => {
  for (const type of TYPES) {
    it(`${type}: editor template, icon, and the same catalog keys and help in every language`, () => {
      const html = readFileSync(join(NODES, `${type}.html`), 'utf8');
      expect(html).to.include(`RED.nodes.registerType('${type}'`);
      expect(html).to.include(`data-template-name="${type}"`);
      const catalogs = LANGS.map((lang) =>
        keys(JSON.parse(readFileSync(join(NODES, 'locales', lang, `${type}.json`), 'utf8'))).sort(),
      );
      expect(catalogs[1]).to.deep.equal(catalogs[0]);
      // Every data-i18n key of the template exists in the catalog.
      const used = [...html.matchAll(/data-i18n="(?:\[[a-z]+\])?([^"]+)"/g)].map((m) => m[1]!);
      for (const key of used) expect(catalogs[0], `${type}: ${key}`).to.include(key);
      for (const lang of LANGS) {
        const help = readFileSync(join(NODES, 'locales', lang, `${type}.html`), 'utf8');
        expect(help).to.include(`data-help-name="${type}"`);
      }
    });
  }

  it('the palette icon exists', () => {
    expect(existsSync(join(NODES, 'icons', 'glucobridge.svg'))).to.equal(true);
  });
});
