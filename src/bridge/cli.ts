#!/usr/bin/env node
// The `glucobridge` command: picks the subcommand and gives it the process's streams.
import type { CliIo, Command } from './cli/io';
import { CONFIG_FILE_KEYS, ENV_AND_OPTIONS, EXIT_FAILURE, reportFailure } from './cli/io';
import { COMMANDS, USAGE } from './cli/commands';

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(USAGE);
    return name === undefined ? EXIT_FAILURE : 0;
  }
  const command: Command | undefined = COMMANDS[name];
  if (!command) {
    io.stderr(`unknown command "${name}"\n${USAGE}`);
    return EXIT_FAILURE;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    // The bridge reads its accounts from a file; the other commands from the environment and options.
    return reportFailure(io, error, name === 'bridge' ? CONFIG_FILE_KEYS : ENV_AND_OPTIONS);
  }
}

function processIo(): CliIo {
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    interrupted,
  };
}

if (require.main === module) {
  main(process.argv.slice(2), processIo()).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`SERVER: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(EXIT_FAILURE);
    },
  );
}
