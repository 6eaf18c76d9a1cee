import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FileStateStore } from '../../src/follow/file-store';
import type { Logger } from '../../src/model/logger';

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string) => lines.push(m);
  return { lines, debug: () => undefined, info: push, warn: push, error: push };
}

const SESSION = { provider: 'dexcom', account: 'a1b2', data: { sessionId: 's-1', createdAt: 1 } } as const;

describe('FileStateStore (the bridge, CLI and Homebridge state file)', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'glucobridge-store-'));
    file = join(dir, 'state.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes mode 0600, atomically, one write for a burst of changes, and reads it back', async () => {
    const store = new FileStateStore(file, recorder());
    for (let i = 0; i < 50; i += 1) store.account(`k${i % 5}`).save({ uploads: { SM1: i } });
    await store.flush();
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(readdirSync(dir)).to.deep.equal(['state.json']);
    const again = new FileStateStore(file, recorder());
    expect((await again.account('k4').load()).uploads).to.deep.equal({ SM1: 49 });
    expect(again.keys.sort()).to.deep.equal(['k0', 'k1', 'k2', 'k3', 'k4']);
  });

  it('writes a refusal at once, and what changes meanwhile only after the delay (a start of many logins)', async () => {
    const store = new FileStateStore(file, recorder(), { writeDelayMs: 60_000 });
    const stored = () =>
      (JSON.parse(readFileSync(file, 'utf8')) as { accounts: Record<string, unknown> }).accounts;
    const refused = { lockedUntil: 1_800_000_000_000 };
    store.account('a').save({ login: refused }, { urgent: true });
    // Changed while that write is under way: it waits for the delay, not for the write to end.
    store.account('b').save({ uploads: { SM1: 1 } });
    for (let i = 0; i < 100 && !existsSync(file); i += 1) await new Promise((r) => setTimeout(r, 5));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(stored()).to.deep.equal({ a: { login: refused } });
    await store.flush();
    expect(stored()).to.deep.equal({ a: { login: refused }, b: { uploads: { SM1: 1 } } });
  });

  it('ignores a bad entry, naming the file and key, and keeps the rest', async () => {
    writeFileSync(
      file,
      JSON.stringify({
        version: 2,
        accounts: {
          good: { session: SESSION, subjects: [{ id: 'p1', name: 'Mia', slug: 'mia' }] },
          bad: { session: { data: null }, subjects: 'x' },
          'no good key!': { session: SESSION },
        },
      }),
    );
    const log = recorder();
    const store = new FileStateStore(file, log);
    expect((await store.account('good').load()).session).to.deep.equal(SESSION);
    expect(await store.account('bad').load()).to.deep.equal({});
    expect(log.lines.some((l) => l.includes(file) && l.includes('accounts.bad.session'))).to.equal(true);
    expect(log.lines.some((l) => l.includes('accounts.bad.subjects'))).to.equal(true);
    expect(log.lines.some((l) => l.includes('is not valid; ignored'))).to.equal(true);
    expect(log.lines.join('\n')).not.to.match(/TypeError|Cannot read|is not a function/);
  });

  it('moves a file that is not JSON aside and says so (never a silent reset)', () => {
    writeFileSync(file, '{"version": 2, "accounts": {"k": {"sess');
    const log = recorder();
    const store = new FileStateStore(file, log);
    expect(store.keys).to.deep.equal([]);
    const aside = readdirSync(dir).filter((f) => f.startsWith('state.json.corrupt-'));
    expect(aside).to.have.length(1);
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).to.include('"sess');
    expect(log.lines.some((l) => l.includes('moved aside') && l.includes('tried once more'))).to.equal(true);
  });

  it('survives null, an array, a directory in its place, and a write it cannot make', async () => {
    for (const content of ['null', '[]', '"text"']) {
      writeFileSync(file, content);
      expect(new FileStateStore(file, recorder()).keys).to.deep.equal([]);
    }
    rmSync(join(dir), { recursive: true, force: true });
    mkdirSync(file, { recursive: true });
    const log = recorder();
    const store = new FileStateStore(file, log);
    store.account('k').save({ uploads: { a: 1 } }, { urgent: true });
    await store.flush();
    expect(log.lines.some((l) => l.includes('cannot be read'))).to.equal(true);
    expect(log.lines.some((l) => l.includes('cannot write'))).to.equal(true);
  });

  it('takes over an older layout through the legacy hook', async () => {
    writeFileSync(file, JSON.stringify({ sessions: { Anna: SESSION } }));
    const store = new FileStateStore(file, recorder(), {
      legacy: (root) => ({ key1: { session: (root.sessions as Record<string, unknown>).Anna } }),
    });
    expect((await store.account('key1').load()).session).to.deep.equal(SESSION);
  });

  it('drops the entries of accounts no longer configured', async () => {
    const store = new FileStateStore(file, recorder());
    store.account('a').save({ uploads: { x: 1 } });
    store.account('b').save({ uploads: { x: 2 } });
    store.keepOnly(['b']);
    await store.flush();
    expect(
      Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { accounts: object }).accounts),
    ).to.deep.equal(['b']);
  });
});
