#!/usr/bin/env node
// The `glucobridge` command: picks the subcommand and gives it the process's streams.
import type * as Commands from './cli/commands';
import type { CliIo, Command } from './cli/io';
import { CONFIG_FILE_KEYS, ENV_AND_OPTIONS, EXIT_FAILURE, reportFailure } from './cli/io';
import {
  chooseHeapLimit,
  inBridgeWorker,
  relayOutput,
  runWithBoundedHeap,
  stopRequested,
} from './cli/bounded-heap';

export async function main(argv: string[], io: CliIo): Promise<number> {
  // Loaded here, not above: the thread that only hosts the bridge's worker never needs them.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { COMMANDS, USAGE } = require('./cli/commands') as typeof Commands;
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
  // In the bridge's worker the main thread receives the signals and passes them on, and its output
  // goes to the main thread in order.
  const worker = inBridgeWorker();
  const interrupted = worker
    ? stopRequested()
    : new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
  return {
    stdout: (text) => (worker ? relayOutput('stdout', text) : process.stdout.write(text)),
    stderr: (text) => (worker ? relayOutput('stderr', text) : process.stderr.write(text)),
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
  const argv = process.argv.slice(2);
  // A reader that went away (`| head`) must not crash the bridge: what it would have read is dropped.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  // The long-running bridge gets a worker with a bounded heap; the short commands run here.
  const nodeOptions = [...process.execArgv, process.env.NODE_OPTIONS ?? ''];
  const run =
    argv[0] === 'bridge' && !inBridgeWorker()
      ? runWithBoundedHeap(__filename, argv, chooseHeapLimit(argv, nodeOptions), {
          stdout: (text) => process.stdout.write(text),
          stderr: (text) => process.stderr.write(text),
        })
      : main(argv, processIo());
  run.then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`SERVER: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(EXIT_FAILURE);
    },
  );
}
