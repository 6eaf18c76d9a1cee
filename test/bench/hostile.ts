// Hostile answers for `npm run bench`: what one oversized cloud answer costs the process (issue 17,
// failure 3). A loopback server answers the Dexcom login normally and the read with ~20 MB of small
// objects; the figures are the longest event-loop stall, the RSS it added and how long the call took.
import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import { HttpTransport } from '../../src/http/transport';
import { DexcomClient } from '../../src/providers/dexcom/client';

export interface HostileFigures {
  /** The longest the event loop was blocked during the call, in ms. */
  maxBlockMs: number;
  /** Peak resident memory during the call minus before it, in MiB. */
  rssAddedMiB: number;
  /** Resident memory after the call and a GC minus before it, in MiB. */
  rssAfterMiB: number;
  durationMs: number;
  /** The code the call failed with (or `ok`). */
  outcome: string;
}

const ACCOUNT_ID = '1e4d1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b';
const SESSION_ID = '2f5e2b3c-4d5e-4f60-9b0c-1d2e3f4a5b6c';

/** ~20 MB: 2.6 million `{"V":1}` records, the shape of the fault harness's answer. */
export function hugeDexcomAnswer(records = 2_600_000): Buffer {
  return Buffer.from(`[${Array.from({ length: records }, () => '{"V":1}').join(',')}]`);
}

async function serve(body: Buffer): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '';
      res.setHeader('Content-Type', 'application/json');
      if (path.includes('AuthenticatePublisherAccount')) res.end(JSON.stringify(ACCOUNT_ID));
      else if (path.includes('LoginPublisherAccountById')) res.end(JSON.stringify(SESSION_ID));
      else res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, server };
}

function rssMiB(): number {
  return process.memoryUsage().rss / 1024 / 1024;
}

/** One Dexcom read answered with ~20 MB (or `records` small objects); the process's cost of it. */
export async function hugeAnswerCost(records?: number): Promise<HostileFigures> {
  const body = hugeDexcomAnswer(records);
  const { url, server } = await serve(body);
  const client = new DexcomClient(
    {
      provider: 'dexcom',
      region: 'us',
      server: url,
      username: 'bench-user',
      password: 'bench-password',
      takeOverReceiver: false,
    },
    { transport: new HttpTransport({ timeoutMs: 60_000 }) },
  );
  await client.login();
  global.gc?.();
  const before = rssMiB();
  let peak = before;
  // The longest gap between two ticks of a 5 ms timer is the longest stall of the event loop.
  let lastTick = performance.now();
  let maxGap = 0;
  const sampler = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - lastTick);
    lastTick = now;
    peak = Math.max(peak, rssMiB());
  }, 5);
  const start = process.hrtime.bigint();
  let outcome = 'ok';
  try {
    await client.history({ minutes: 1440 });
  } catch (error) {
    outcome = (error as { code?: string }).code ?? 'thrown';
  }
  const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
  maxGap = Math.max(maxGap, performance.now() - lastTick);
  clearInterval(sampler);
  peak = Math.max(peak, rssMiB());
  await client.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  global.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 100));
  global.gc?.();
  return {
    maxBlockMs: Math.round(maxGap),
    rssAddedMiB: Math.round(peak - before),
    rssAfterMiB: Math.round(rssMiB() - before),
    durationMs: Math.round(durationMs),
    outcome,
  };
}

if (require.main === module) {
  const records = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  hugeAnswerCost(records).then(
    (figures) => process.stdout.write(`${JSON.stringify(figures)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
