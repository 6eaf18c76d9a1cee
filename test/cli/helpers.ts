import { main } from '../../src/bridge/cli';
import type { CliIo } from '../../src/bridge/cli/io';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `glucobridge <argv>` in-process with the given environment and standard input. */
export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  options: { stdin?: string; interrupted?: Promise<void>; onStdout?: (text: string) => void } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
      options.onStdout?.(text);
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
    readStdin: () => Promise.resolve(options.stdin ?? ''),
    ...(options.interrupted ? { interrupted: options.interrupted } : {}),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
