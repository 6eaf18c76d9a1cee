import type { CliIo } from '../../src/bridge/cli/io';

export interface FakeIo extends CliIo {
  out: () => string;
  err: () => string;
}

/** A CliIo that records what a command prints and feeds it `stdin`. */
export function fakeIo(env: Record<string, string>, stdin = ''): FakeIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    env,
    readStdin: () => Promise.resolve(stdin),
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

export function credentials(account: { username: string; password: string }): Record<string, string> {
  return { GLUCOBRIDGE_USERNAME: account.username, GLUCOBRIDGE_PASSWORD: account.password };
}
