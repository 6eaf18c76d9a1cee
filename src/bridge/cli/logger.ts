import type { Logger } from '../../model/logger';
import type { CliIo } from './io';

/** One line per event: time, level, message. Debug lines only with --verbose. */
export function cliLogger(io: CliIo, verbose: boolean, now: () => Date = () => new Date()): Logger {
  const line = (level: string, message: string) => `${now().toISOString()} ${level.padEnd(5)} ${message}\n`;
  return {
    debug: (message) => {
      if (verbose) io.stdout(line('debug', message));
    },
    info: (message) => io.stdout(line('info', message)),
    warn: (message) => io.stderr(line('warn', message)),
    error: (message) => io.stderr(line('error', message)),
  };
}

/**
 * For one-shot commands whose standard output is data (`read --json`): warnings and errors on
 * standard error, one line each as the core wrote them (e.g. `PROTOCOL: … record 0 refused: …`).
 */
export function warningLogger(io: CliIo): Logger {
  const line = (message: string) => io.stderr(`${message}\n`);
  return { debug: () => undefined, info: () => undefined, warn: line, error: line };
}
