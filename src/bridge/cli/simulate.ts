import { compressedClock, createDemoSimulator } from '../../simulator';
import { parseOptions, UsageError, type CliIo } from './io';

export const SIMULATE_USAGE = `glucobridge simulate [--port N] [--host 127.0.0.1] [--speed F]
  serves the Dexcom Share, LibreLinkUp, Nightscout and VitaDock clouds on loopback with demo accounts
`;

/** `glucobridge simulate`: the fake clouds, until Ctrl-C. */
export async function simulateCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(
    argv,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      speed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    SIMULATE_USAGE,
  );
  if (values.help) {
    io.stdout(SIMULATE_USAGE);
    return 0;
  }
  const port = Number(values.port ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be 0–65535\n${SIMULATE_USAGE}`);
  const speed = Number(values.speed ?? '1');
  if (!(speed >= 1 && speed <= 10_000))
    throw new UsageError(`--speed must be from 1 to 10000\n${SIMULATE_USAGE}`);
  const simulator = createDemoSimulator(speed === 1 ? {} : { clock: compressedClock(speed) });
  const url = await simulator.listen(port, values.host ?? '127.0.0.1');
  io.stdout(`GlucoBridge simulator listening on ${url}\n`);
  for (const line of simulator.describe()) io.stdout(`  ${line}\n`);
  io.stdout('Press Ctrl-C to stop.\n');
  await (io.interrupted ?? new Promise<void>(() => undefined));
  await simulator.close();
  return 0;
}
