import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { unitLabel, valueIn, type GlucoseReading } from '../../model/reading';
import { createDemoSimulator, demoAccounts } from '../../simulator';
import type { Simulator } from '../../simulator/server';
import { httpSettings, loadBridgeConfig, parseBridgeConfig, type BridgeConfig } from '../config';
import { DEFAULT_LISTEN, withListen } from '../http';
import { Bridge, stateFileFor } from '../runner';
import { DEFAULT_MAX_HEAP_MIB, MAX_HEAP_RANGE, validMaxHeap, workerHeapLimit } from './bounded-heap';
import { cliLogger } from './logger';
import { parseOptions, UsageError, type CliIo } from './io';

export const BRIDGE_USAGE = `glucobridge bridge [--config FILE | --demo] [--broker-port N] [--http HOST:PORT | --http off] [--max-heap MiB] [--verbose]
  --config FILE   real accounts → any MQTT broker (default: $GLUCOBRIDGE_CONFIG, then ./glucobridge.json)
  --demo          the built-in simulator and an embedded MQTT broker; no credentials needed
                  (also without either option when no configuration is found)
  --http ADDR     the status page, /healthz and /metrics on ADDR (the demo: ${DEFAULT_LISTEN} unless off;
                  with a configuration: its "http" section, else off). Other than loopback needs
                  GLUCOBRIDGE_HTTP_PASSWORD or GLUCOBRIDGE_HTTP_TOKEN (or http.password / http.token)
  --max-heap MiB  the bridge's JavaScript heap limit (default ${DEFAULT_MAX_HEAP_MIB}; 1000 accounts keep about
                  50 MiB live); past it the bridge stops with status 3, for its service manager to restart
`;

/** `glucobridge bridge`: the stand-alone service, until SIGINT/SIGTERM. */
export async function bridgeCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(
    argv,
    {
      config: { type: 'string' },
      demo: { type: 'boolean' },
      'broker-port': { type: 'string' },
      http: { type: 'string' },
      // Applied by the CLI entry when it starts the bridge's worker; checked here.
      'max-heap': { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
    BRIDGE_USAGE,
  );
  if (values.help) {
    io.stdout(BRIDGE_USAGE);
    return 0;
  }
  if (values.demo && values.config)
    throw new UsageError(`--demo and --config exclude each other\n${BRIDGE_USAGE}`);
  const brokerPort = Number(values['broker-port'] ?? '1883');
  if (!Number.isInteger(brokerPort) || brokerPort < 0 || brokerPort > 65535) {
    throw new UsageError(`--broker-port must be 0–65535\n${BRIDGE_USAGE}`);
  }
  if (values['max-heap'] !== undefined && !validMaxHeap(values['max-heap'])) {
    throw new UsageError(
      `--max-heap must be a whole number of MiB, ${MAX_HEAP_RANGE.min}–${MAX_HEAP_RANGE.max}\n${BRIDGE_USAGE}`,
    );
  }
  const logger = cliLogger(io, values.verbose ?? false);
  const configFile = values.demo ? undefined : findConfig(values.config, io.env);
  let simulator: Simulator | undefined;
  let config: BridgeConfig;
  let stateFile: string;
  if (configFile === undefined) {
    if (!values.demo)
      logger.info('no configuration found ($GLUCOBRIDGE_CONFIG, ./glucobridge.json): running the demo');
    simulator = createDemoSimulator();
    const url = await simulator.listen(0);
    logger.info(`demo: simulated Dexcom Share, LibreLinkUp, Nightscout and VitaDock clouds on ${url}`);
    config = parseBridgeConfig(
      {
        accounts: demoAccounts(simulator).map((a) => ({
          name: a.name,
          ...a.source,
          ...(a.nightscout ? { nightscout: a.nightscout } : {}),
        })),
        units: 'mgdl',
      },
      {},
    );
    // Each demo has a new simulator, so sessions of an earlier demo would only be refused.
    stateFile = join(mkdtempSync(join(tmpdir(), 'glucobridge-demo-')), 'state.json');
  } else {
    config = loadBridgeConfig(configFile, io.env);
    stateFile = config.stateFile ?? stateFileFor(configFile);
    logger.info(`configuration ${configFile}: ${config.accounts.length} account(s)`);
  }
  config = withStatusPage(config, values.http, configFile === undefined, io.env);
  const heap = workerHeapLimit();
  if (heap) logger.info(`memory: the bridge's heap is limited to ${heap.mib} MiB (${heap.from})`);
  const bridge = new Bridge(config, {
    logger,
    stateFile,
    embeddedBrokerPort: brokerPort,
    // The demo's page moves to a free port when another bridge has the usual one.
    statusPage: { anyPortIfTaken: configFile === undefined && values.http === undefined },
    onReading: (key, reading) => logger.info(describeReading(key, reading, config, io)),
  });
  const interrupted = io.interrupted ?? new Promise<void>(() => undefined);
  try {
    // A stop request wins over a start still under way (a login that hangs): stop() below closes the
    // clients, which cancels what they are waiting for, so the process ends within seconds.
    const started = bridge.start();
    const first = await Promise.race([started.then(() => 'started' as const), interrupted]);
    if (first !== 'started') {
      started.catch(() => undefined);
      logger.info('stopping before the start finished: cancelling logins and requests');
      return 0;
    }
    logger.info(
      `publishing to ${bridge.brokerUrl} under ${config.mqtt.baseTopic}/ (Home Assistant: ${config.mqtt.discoveryPrefix}/)`,
    );
    if (bridge.embeddedBroker) {
      logger.info(
        `watch it: mosquitto_sub -h 127.0.0.1 -p ${bridge.embeddedBroker.port} -t '${config.mqtt.baseTopic}/#' -v`,
      );
    }
    await interrupted;
    logger.info('stopping: publishing offline and closing sessions');
    return 0;
  } finally {
    await bridge.stop();
    await simulator?.close();
  }
}

/**
 * The status page as asked: `--http off` turns it off, `--http HOST:PORT` moves it (keeping the file's
 * password or token); without the option the demo has it on loopback and a configuration as it says.
 */
function withStatusPage(
  config: BridgeConfig,
  option: string | undefined,
  demo: boolean,
  env: NodeJS.ProcessEnv,
): BridgeConfig {
  const { http: current, ...rest } = config;
  if (option === 'off') return rest;
  if (option === undefined) {
    if (current || !demo) return config;
    return { ...rest, http: httpSettings({}, env) };
  }
  return { ...rest, http: current ? withListen(current, option) : httpSettings({}, env, option) };
}

function findConfig(explicit: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (explicit !== undefined) return resolve(explicit);
  if (env.GLUCOBRIDGE_CONFIG) return resolve(env.GLUCOBRIDGE_CONFIG);
  const local = resolve('glucobridge.json');
  return existsSync(local) ? local : undefined;
}

function describeReading(key: string, reading: GlucoseReading, config: BridgeConfig, _io: CliIo): string {
  const account = config.accounts.find((a) =>
    key.startsWith(a.name.toLowerCase().replace(/[^a-z0-9]+/g, '_')),
  );
  const units = account?.units ?? config.units;
  const value = valueIn(reading, units);
  const limit = reading.limit ? ` (${reading.limit.toUpperCase()})` : '';
  return `${key}: ${value} ${unitLabel(units)} ${reading.arrow}${limit} at ${reading.time.toISOString()}`;
}
