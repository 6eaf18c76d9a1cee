import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const PACKAGE_NAME = '@glucobridge/homebridge-glucobridge';

/** Our own package version, found by walking up to package.json (works from src/ and dist/src/). */
function findVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i += 1) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PACKAGE_NAME && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

export const VERSION = findVersion();
export const USER_AGENT = `GlucoBridge/${VERSION} (+https://github.com/glucobridge/homebridge-glucobridge)`;
