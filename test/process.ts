// Node processes a test starts (the CLI, the bridge, Node-RED, Homebridge): what they said, how they
// ended, and a stop that does not leave them behind.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { join } from 'node:path';

/** The checkout's root. */
export const ROOT = join(__dirname, '..');

/** `glucobridge` from the sources (no build needed), as arguments for `node`. */
export const CLI_FROM_SOURCES = ['--require', 'tsx/cjs', 'src/bridge/cli.ts'];

export interface Started {
  child: ChildProcess;
  /** Its standard output and error so far, interleaved as they came. */
  output(): string;
  /** Its exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it has not exited within 10 s; resolves once it is gone. */
  stop(): Promise<void>;
}

/** `node <args>` as a child process; standard input is closed unless `options.stdio` says otherwise. */
export function startProcess(args: string[], options: SpawnOptions = {}): Started {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 10_000)));
      if (await Promise.race([exited.then(() => false), late])) child.kill('SIGKILL');
      clearTimeout(timer);
      await exited;
    },
  };
}

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` to its end; `stdin`, when given, is written to it and closed. */
export function runProcess(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; stdin?: string },
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  });
}
