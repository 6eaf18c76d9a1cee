// `glucobridge vitadock authorize` (the OAuth dance from a terminal) and the VitaDock parts of
// `glucobridge read` (stored tokens, `--module` for the non-glucose devices).
import { createServer, type Server } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { vitaDockConfigSchema, type VitaDockConfig } from '../../config';
import { CgmError } from '../../model/errors';
import { silentLogger } from '../../model/logger';
import type { Measurement } from '../../model/measurement';
import type { ClientOptions, SessionState } from '../../providers/provider';
import { VitaDockClient } from '../../providers/vitadock/client';
import { MEASUREMENT_UNITS, measurementToJson } from '../../providers/vitadock/modules';
import { FileStateStore } from '../../follow/file-store';
import { parseOptions, UsageError, type CliIo } from './io';

export const VITADOCK_USAGE = `glucobridge vitadock authorize [--server URL] [--callback URL] [--state FILE] [--name NAME]
                               [--device-id ID]
  prints the VitaDock consent page; the verifier comes back to --callback (a loopback URL that is
  registered as your application's callback URL) or is pasted on standard input (end with Ctrl-D).
  The tokens are stored in --state (default ~/.glucobridge/state.json, mode 0600) as account NAME
  (default "vitadock"), where \`glucobridge read --provider vitadock\` and the bridge find them.
  application key from GLUCOBRIDGE_VITADOCK_CONSUMER_KEY and GLUCOBRIDGE_VITADOCK_CONSUMER_SECRET
`;

const OPTIONS = {
  server: { type: 'string' },
  callback: { type: 'string' },
  state: { type: 'string' },
  name: { type: 'string' },
  'device-id': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const DEFAULT_NAME = 'vitadock';

/** Where `authorize` keeps tokens when no --state is given. */
export function defaultStateFile(env: NodeJS.ProcessEnv): string {
  return join(env.HOME ?? homedir(), '.glucobridge', 'state.json');
}

/** `glucobridge vitadock <subcommand>`. */
export async function vitadockCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(VITADOCK_USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'authorize' && sub !== 'authorise') {
    throw new UsageError(`unknown vitadock subcommand "${sub}"\n${VITADOCK_USAGE}`);
  }
  const { values } = parseOptions(rest, OPTIONS, VITADOCK_USAGE);
  if (values.help) {
    io.stdout(VITADOCK_USAGE);
    return 0;
  }
  const name = values.name ?? DEFAULT_NAME;
  const stateFile = values.state ?? defaultStateFile(io.env);
  const callback = values.callback === undefined ? undefined : loopbackUrl(values.callback);
  const config = vitaDockConfigFromEnv(io.env, {
    ...(values.server === undefined ? {} : { server: values.server }),
    ...(values['device-id'] === undefined ? {} : { deviceId: values['device-id'] }),
    name,
  });
  const client = new VitaDockClient(config);
  let receiver: CallbackReceiver | undefined;
  try {
    if (callback) receiver = await CallbackReceiver.listen(callback);
    const request = await client.requestAuthorization();
    io.stdout(
      `Open this page, sign in to VitaDock Online and allow GlucoBridge to read your data:\n\n  ${request.authorizeUrl}\n\n` +
        `No VitaDock account yet? Register here first: ${request.signupUrl}\n\n`,
    );
    io.stdout(
      receiver
        ? `Waiting for VitaDock to send the browser back to ${callback!.toString()} (or paste the verifier, then Ctrl-D)…\n`
        : 'Paste the verifier VitaDock shows (or the address the browser ended on), then press Enter and Ctrl-D:\n',
    );
    const verifier = await waitForVerifier(io, receiver);
    const session = await client.authorize(verifier, request.requestToken);
    const store = cliStateStore(stateFile);
    store.account(name).save({ session }, { urgent: true });
    await store.flush();
    io.stdout(
      `\nAuthorised. The access token for account "${name}" is stored in ${stateFile} (mode 0600).\n` +
        `Read it with: glucobridge read --provider vitadock --state ${stateFile}${name === DEFAULT_NAME ? '' : ` --name ${name}`}\n`,
    );
    return 0;
  } finally {
    await receiver?.close();
    await client.close();
  }
}

/** The application key from the environment (never argv: argv shows in `ps`). */
export function vitaDockConfigFromEnv(
  env: NodeJS.ProcessEnv,
  extra: { server?: string; deviceId?: string; name?: string; module?: string } = {},
): VitaDockConfig {
  const consumerKey = env.GLUCOBRIDGE_VITADOCK_CONSUMER_KEY;
  const consumerSecret = env.GLUCOBRIDGE_VITADOCK_CONSUMER_SECRET;
  const missing = [
    ...(consumerKey ? [] : ['GLUCOBRIDGE_VITADOCK_CONSUMER_KEY']),
    ...(consumerSecret ? [] : ['GLUCOBRIDGE_VITADOCK_CONSUMER_SECRET']),
  ];
  if (!consumerKey || !consumerSecret) {
    const what = consumerKey ? 'secret' : consumerSecret ? 'key' : 'key and secret';
    throw new CgmError('CONFIG', `the VitaDock application ${what} is not set: ${missing.join(' and ')}`, {
      hint: `set ${missing.join(' and ')} to your VitaDock application's consumer ${what} (the simulator's banner prints the demo ones)`,
    });
  }
  const token = env.GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN;
  const tokenSecret = env.GLUCOBRIDGE_VITADOCK_ACCESS_SECRET;
  if (Boolean(token) !== Boolean(tokenSecret)) {
    const absent = token ? 'GLUCOBRIDGE_VITADOCK_ACCESS_SECRET' : 'GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN';
    throw new CgmError('CONFIG', `half a VitaDock token pair: ${absent} is not set`, {
      hint: `set ${absent} too (the pair of a pre-authorised access token), or neither and run glucobridge vitadock authorize`,
    });
  }
  const parsed = vitaDockConfigSchema.safeParse({
    provider: 'vitadock',
    consumerKey,
    consumerSecret,
    ...(env.GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN ? { accessToken: env.GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN } : {}),
    ...(env.GLUCOBRIDGE_VITADOCK_ACCESS_SECRET
      ? { accessSecret: env.GLUCOBRIDGE_VITADOCK_ACCESS_SECRET }
      : {}),
    ...extra,
  });
  if (!parsed.success) {
    throw new CgmError(
      'CONFIG',
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}

/** The CLI's state file: entries by account name (release 0.1 kept `{"sessions": {name: session}}`). */
function cliStateStore(file: string): FileStateStore {
  return new FileStateStore(file, silentLogger, {
    legacy: (root) => {
      const sessions = root.sessions;
      if (typeof sessions !== 'object' || sessions === null) return undefined;
      const entries = Object.entries(sessions as Record<string, unknown>);
      return Object.fromEntries(entries.map(([name, session]) => [name, { session }]));
    },
  });
}

/** The session `authorize` stored, as client options (empty when there is none). */
export async function storedVitaDockOptions(
  env: NodeJS.ProcessEnv,
  stateFile: string | undefined,
  name = DEFAULT_NAME,
): Promise<ClientOptions> {
  const stored = await cliStateStore(stateFile ?? defaultStateFile(env))
    .account(name)
    .load();
  const session: SessionState | undefined = stored.session;
  if (session?.provider === 'vitadock') return { session };
  if (!env.GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN) {
    throw new CgmError('CONFIG', 'no VitaDock access token: the account is not authorised here yet', {
      hint:
        'set GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN and GLUCOBRIDGE_VITADOCK_ACCESS_SECRET (a pre-authorised token pair), ' +
        'or run glucobridge vitadock authorize once',
    });
  }
  return {};
}

/**
 * `glucobridge read --provider vitadock --module M`: the newest measurement of a device (or those
 * of the last --minutes), as a table or, with --json, `{provider, subject, module, time, …, units}`.
 */
export async function readVitaDockModule(
  values: {
    module: string;
    server?: string;
    /** Minutes back (from --minutes or --since, no upper limit); undefined: the newest measurement. */
    span: number | undefined;
    state?: string;
    name?: string;
    json?: boolean;
  },
  io: CliIo,
): Promise<number> {
  const minutes = values.span;
  const config = vitaDockConfigFromEnv(io.env, {
    ...(values.server === undefined ? {} : { server: values.server }),
    ...(values.name === undefined ? {} : { name: values.name }),
  });
  const client = new VitaDockClient(config, await storedVitaDockOptions(io.env, values.state, values.name));
  try {
    const all = await client.measurements({
      module: values.module,
      minutes: minutes ?? LATEST_WINDOW_MINUTES,
    });
    const shown = minutes === undefined ? all.slice(-1) : all;
    if (shown.length === 0) {
      throw new CgmError('NO_DATA', `VitaDock ${values.module}: no measurement in that span`, {
        hint:
          minutes === undefined
            ? 'nothing in the last 30 days: give --since YYYY-MM-DD for older ones, or check that the device has uploaded to VitaDock Online'
            : 'widen --minutes or give an earlier --since, or check that the device has uploaded to VitaDock Online',
      });
    }
    io.stdout(
      values.json ? `${JSON.stringify(shown.map(measurementToJson), null, 2)}\n` : measurementTable(shown),
    );
    return 0;
  } finally {
    await client.close();
  }
}

/** People weigh themselves or take their blood pressure rarely: "latest" looks back 30 days. */
const LATEST_WINDOW_MINUTES = 30 * 24 * 60;

/** One line per measurement: UTC time, then each value with its unit. */
export function measurementTable(measurements: Measurement[]): string {
  return `${measurements
    .map((m) => {
      const units = MEASUREMENT_UNITS[m.kind];
      const values = Object.entries(units)
        .map(([field, unit]) => [field, (m as unknown as Record<string, unknown>)[field], unit] as const)
        .filter(([, value]) => typeof value === 'number')
        .map(([field, value, unit]) => `${field} ${String(value)} ${unit}`);
      const time = m.time
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z');
      return [time, m.module, ...values].join('  ');
    })
    .join('\n')}\n`;
}

/** Only a loopback callback: the CLI must not open a port to the network. */
function loopbackUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--callback must be a URL like http://127.0.0.1:8765/vitadock/callback`);
  }
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || !url.port) {
    throw new UsageError('--callback must be http://127.0.0.1:PORT/… (a loopback address with a port)');
  }
  return url;
}

/** The first of: the browser arriving at the callback, a verifier pasted on stdin, Ctrl-C. */
async function waitForVerifier(io: CliIo, receiver: CallbackReceiver | undefined): Promise<string> {
  const never = new Promise<never>(() => undefined);
  const pasted = io.readStdin().then((text) => {
    if (text.trim() !== '') return text;
    if (receiver) return never; // stdin closed empty: keep waiting for the browser
    throw new CgmError('CONFIG', 'no verifier was given', {
      hint: 'paste the verifier VitaDock shows, or use --callback with a loopback callback URL',
    });
  });
  const cancelled = (io.interrupted ?? never).then(() => {
    throw new CgmError('CONFIG', 'authorisation cancelled');
  });
  return Promise.race([pasted, receiver?.verifier ?? never, cancelled]);
}

/** A one-shot HTTP listener on the loopback callback URL. */
class CallbackReceiver {
  readonly verifier: Promise<string>;
  private constructor(
    private readonly server: Server,
    verifier: Promise<string>,
  ) {
    this.verifier = verifier;
  }

  static async listen(url: URL): Promise<CallbackReceiver> {
    let resolve: (query: string) => void = () => undefined;
    const verifier = new Promise<string>((r) => (resolve = r));
    const server = createServer((req, res) => {
      const got = new URL(req.url ?? '/', url);
      const answer = got.searchParams.has('oauth_verifier') || got.searchParams.get('deny') === 'true';
      if (got.pathname !== url.pathname || !answer) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not here');
        return;
      }
      const denied = got.searchParams.get('deny') === 'true';
      res
        .writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' })
        .end(
          denied
            ? 'Access was declined. You can close this page.'
            : 'GlucoBridge is authorised. You can close this page.',
        );
      resolve(got.search);
    });
    await new Promise<void>((ok, fail) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        fail(new CgmError('CONFIG', `cannot listen on ${url.host}: ${error.code ?? error.message}`)),
      );
      server.listen(Number(url.port), url.hostname.replace(/^\[|\]$/g, ''), () => ok());
    });
    return new CallbackReceiver(server, verifier);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
