import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CgmError, toCgmError } from '../../model/errors';
import { renameFields, type FieldName } from '../../model/fields';

/** What a command may touch: injected so tests run commands in-process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Reads all of standard input (for `upload`). */
  readStdin: () => Promise<string>;
  /** Resolves when the user asks the command to stop (Ctrl-C), for long-running commands. */
  interrupted?: Promise<void>;
}

export type Command = (argv: string[], io: CliIo) => Promise<number>;

/** Exit status of every failure the user can act on. */
export const EXIT_FAILURE = 2;
/** Exit status when the bridge ran out of heap: apart from 2, so a restart policy can tell the two apart. */
export const EXIT_OUT_OF_HEAP = 3;

/** A usage mistake, reported with the command's usage line. */
export class UsageError extends Error {
  /** When given, printed after the one-line message; otherwise the message carries the usage itself. */
  readonly usage: string | undefined;

  constructor(message: string, usage?: string) {
    super(message);
    this.usage = usage;
  }
}

/** parseArgs with unknown options reported as a usage mistake rather than a stack trace. */
type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
export type ParsedOptions<T extends OptionSpecs> = {
  values: {
    [K in keyof T]?: T[K]['type'] extends 'boolean'
      ? boolean
      : T[K]['multiple'] extends true
        ? string[]
        : string;
  };
  positionals: string[];
};

/**
 * Node's parseArgs with its mistakes in our words: `glucobridge read: unknown option --password`, and
 * then the command's usage (`usage` starts with `glucobridge <command>`). Exit status 2.
 */
export function parseOptions<T extends OptionSpecs>(
  argv: string[],
  options: T,
  usage: string,
): ParsedOptions<T> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const command = usage.split(/\s+/).slice(0, 2).join(' ');
    throw new UsageError(`${command}: ${optionMistake(error, argv)}`, usage);
  }
}

/** What was wrong with the options, in one short phrase. */
function optionMistake(error: unknown, argv: string[]): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : '';
  const quoted = /'(-[^' ]+)/.exec(message)?.[1];
  const option = quoted ?? argv.find((a) => a.startsWith('-')) ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return /does not take an argument/.test(message) ? `${option} takes no value` : `${option} needs a value`;
  }
  return `cannot read the options ${argv.join(' ')}`;
}

/** How the one-account commands (read, upload, followers) take each field: environment and options. */
export const ENV_AND_OPTIONS: Record<FieldName, string> = {
  username: 'GLUCOBRIDGE_USERNAME',
  password: 'GLUCOBRIDGE_PASSWORD',
  accountId: 'GLUCOBRIDGE_ACCOUNT_ID',
  region: '--region',
  server: '--server',
  patient: '--patient',
  serial: '--serial',
  takeOverReceiver: '--take-over-receiver',
  acceptTerms: '--accept-terms',
};

/** How `glucobridge bridge` takes each field: a key of an account in the configuration file. */
export const CONFIG_FILE_KEYS: Record<FieldName, string> = {
  username: 'username',
  password: 'password',
  accountId: 'accountId',
  region: 'region',
  server: 'server',
  patient: 'patient',
  serial: 'serial',
  takeOverReceiver: 'takeOverReceiver',
  acceptTerms: 'acceptTerms',
};

/** A core hint with the command's own names added to the fields it names: `"username" (GLUCOBRIDGE_USERNAME)`. */
export function cliHint(hint: string, names: Record<FieldName, string> = ENV_AND_OPTIONS): string {
  return renameFields(hint, (name, quoted) => `${quoted} (${names[name]})`);
}

/** Prints a failure as `code: message` plus a hint, never a stack trace, and gives the exit status. */
export function reportFailure(
  io: CliIo,
  thrown: unknown,
  names: Record<FieldName, string> = ENV_AND_OPTIONS,
): number {
  if (thrown instanceof UsageError) {
    io.stderr(
      thrown.usage === undefined ? `usage: ${thrown.message}\n` : `${thrown.message}\nusage: ${thrown.usage}`,
    );
    return EXIT_FAILURE;
  }
  const error = thrown instanceof CgmError ? thrown : toCgmError(thrown);
  io.stderr(`${error.code}: ${error.message}\n`);
  if (error.hint) io.stderr(`hint: ${cliHint(error.hint, names)}\n`);
  return EXIT_FAILURE;
}

/** Credentials come from the environment only, never argv (argv shows in `ps`). */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): {
  username?: string;
  password?: string;
  accountId?: string;
} {
  const out: { username?: string; password?: string; accountId?: string } = {};
  if (env.GLUCOBRIDGE_USERNAME) out.username = env.GLUCOBRIDGE_USERNAME;
  if (env.GLUCOBRIDGE_PASSWORD) out.password = env.GLUCOBRIDGE_PASSWORD;
  if (env.GLUCOBRIDGE_ACCOUNT_ID) out.accountId = env.GLUCOBRIDGE_ACCOUNT_ID;
  return out;
}
