// Shared parts of the fuzz tests: the seed, the invariants every call must keep, a loopback server
// answering what a property generated, and memory measurement.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { expect } from 'chai';
import fc from 'fast-check';
import type { RetryPolicy } from '../../src/http/retry';
import { HttpTransport } from '../../src/http/transport';
import { CgmError } from '../../src/model/errors';
import type { Logger } from '../../src/model/logger';
import { EARLIEST_READING_MS, MAX_AHEAD_MS } from '../../src/model/plausible';
import { mgdlToMmol, type GlucoseReading } from '../../src/model/reading';

/** Fixed by default so every run tries the same cases; `FC_SEED=<n> npm test` tries others. */
export const SEED = process.env.FC_SEED === undefined ? 17_017 : Number(process.env.FC_SEED);

/** Cases run so far in this process, for the summary line. */
export const tally = { cases: 0, ms: 0 };

/** fast-check's options for one property: the seed (printed with the failing case) and the count. */
export function runs(numRuns: number): fc.Parameters<unknown> {
  return {
    seed: SEED,
    numRuns,
    endOnFailure: true,
    reporter: (details) => {
      tally.cases += details.numRuns;
      if (details.failed) {
        const cause = details.errorInstance instanceof Error ? details.errorInstance.message : '';
        throw new Error(`${fc.defaultReportMessage(details)}\n${cause}\nreproduce with FC_SEED=${SEED}`);
      }
    },
  };
}

/** An async property run with `runs(numRuns)`, counted in the tally. */
export async function check<T>(
  arbitrary: fc.Arbitrary<T>,
  numRuns: number,
  predicate: (value: T) => Promise<void>,
): Promise<void> {
  const started = Date.now();
  await fc.assert(fc.asyncProperty(arbitrary, predicate), runs(numRuns) as fc.Parameters<[T]>);
  tally.ms += Date.now() - started;
}

/** The call settles within `ms` (no hang); its rejection, if any, is returned rather than thrown. */
export async function settle<T>(
  promise: Promise<T>,
  ms = 5_000,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the call did not settle within ${ms} ms`)), ms);
  });
  try {
    return { ok: true, value: await Promise.race([promise, hang]) };
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('the call did not settle')) throw error;
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

/** Only CgmErrors escape, and none of them says a secret. */
export function expectCgmError(error: unknown, secrets: readonly string[]): CgmError {
  if (!(error instanceof CgmError)) {
    throw new Error(`a non-CgmError escaped: ${error instanceof Error ? error.stack : String(error)}`);
  }
  expectNoSecret(`${error.message}\n${error.hint ?? ''}\n${JSON.stringify(error)}`, secrets);
  return error;
}

export function expectNoSecret(text: string, secrets: readonly string[]): void {
  for (const secret of secrets) expect(text, 'a secret was said').to.not.include(secret);
}

/** The reading rules: an instant from 2000 to a day ahead, an integer 39–401, mmol by the one formula. */
export function expectPossible(reading: GlucoseReading, now = Date.now()): void {
  const ms = reading.time.getTime();
  expect(Number.isFinite(ms), 'a valid instant').to.equal(true);
  expect(ms).to.be.at.least(EARLIEST_READING_MS);
  expect(ms).to.be.at.most(now + MAX_AHEAD_MS);
  expect(Number.isInteger(reading.mgdl), `integer mg/dL, got ${reading.mgdl}`).to.equal(true);
  expect(reading.mgdl).to.be.within(39, 401);
  expect(reading.mmol).to.equal(mgdlToMmol(reading.mgdl));
  if (reading.limit === 'low') expect(reading.mgdl).to.be.at.most(401);
  if (reading.limit === 'high') expect(reading.mgdl).to.be.at.least(39);
}

/** What a latest or history call gave, as a list. */
export function asList(value: GlucoseReading | GlucoseReading[] | null): GlucoseReading[] {
  if (Array.isArray(value)) return value;
  return value ? [value] : [];
}

/**
 * One generated case of a read: `call` must settle, with possible readings or a CgmError that says no
 * secret, and `logger` (emptied first) must say none either. Resolves with the number of readings.
 */
export async function expectReadingsOrCgmError(
  call: () => Promise<GlucoseReading | GlucoseReading[] | null>,
  secrets: readonly string[],
  logger: Logger & { lines: string[] },
): Promise<number> {
  logger.lines.length = 0;
  const outcome = await settle(call());
  let readings = 0;
  if (outcome.ok) {
    const list = asList(outcome.value);
    for (const reading of list) expectPossible(reading);
    readings = list.length;
  } else {
    expectCgmError(outcome.error, secrets);
  }
  expectNoSecret(logger.lines.join('\n'), secrets);
  return readings;
}

/**
 * Runs `body` (a property) and checks the heap grew less than 64 MiB over it, after full collections;
 * logs `label` with the readings `body` counted and the heap figures. Resolves with the readings.
 */
export async function withinHeap(label: string, body: () => Promise<number>): Promise<number> {
  const heapBefore = heapMiB();
  const readings = await body();
  const heapAfter = heapMiB();
  console.log(`      ${label}: ${readings} readings; heap ${heapBefore} → ${heapAfter} MiB`);
  expect(heapAfter - heapBefore).to.be.below(64);
  return readings;
}

/** What a vendor client under fuzzing gets: the logger, a loopback transport, and quick retries. */
export function fuzzClientOptions(logger: Logger): {
  logger: Logger;
  transport: HttpTransport;
  retry: RetryPolicy;
} {
  return {
    logger,
    transport: new HttpTransport({ timeoutMs: 3_000, logger }),
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
  };
}

/** A logger keeping its lines, to check none says a secret. */
export function lineLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (message: string) => {
    if (lines.length < 10_000) lines.push(message);
  };
  return { lines, debug: push, info: push, warn: push, error: push };
}

export interface Answer {
  status: number;
  body: string;
  contentType?: string;
}

/**
 * A loopback server: `route` picks the answer for each request (by method and path), so a property
 * can hand the client whatever it generated. Counts requests by path.
 */
export class AnswerServer {
  readonly counts = new Map<string, number>();
  /** Its address once listening. */
  url = '';
  private readonly server: Server;

  constructor(private readonly route: (method: string, path: string) => Answer) {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        this.counts.set(path, (this.counts.get(path) ?? 0) + 1);
        const answer = this.route(req.method ?? 'GET', path);
        res.writeHead(answer.status, { 'Content-Type': answer.contentType ?? 'application/json' });
        res.end(answer.body);
      });
    });
  }

  count(suffix: string): number {
    let total = 0;
    for (const [path, n] of this.counts) if (path.endsWith(suffix)) total += n;
    return total;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An AnswerServer for the enclosing `describe`: listening before its tests, closed after them. */
export function answerServer(route: (method: string, path: string) => Answer): AnswerServer {
  const server = new AnswerServer(route);
  before(() => server.listen());
  after(() => server.close());
  return server;
}

let gcFunction: (() => void) | undefined;

/** A full garbage collection, without starting node with --expose-gc. */
export function collectGarbage(): void {
  if (!gcFunction) {
    v8.setFlagsFromString('--expose_gc');
    gcFunction = vm.runInNewContext('gc') as () => void;
  }
  gcFunction();
  gcFunction();
}

export function heapMiB(): number {
  collectGarbage();
  return Math.round((process.memoryUsage().heapUsed / 1024 / 1024) * 10) / 10;
}

// ---- generators shared by the vendor answers -------------------------------------------------------

const DAY = 86_400_000;

/** Epoch ms: mostly the last day (readings that count), sometimes anything at all. */
export function instantArb(now: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: now - DAY, max: now }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        0,
        -1,
        99_999_999_999_999,
        8_640_000_000_000_001,
        -62_135_596_800_000,
        Date.UTC(2100, 0, 1),
        Date.UTC(1999, 11, 31, 23, 59, 59),
        now + DAY + 1,
        now + DAY - 60_000,
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }) },
    { weight: 1, arbitrary: fc.maxSafeInteger() },
  );
}

/** mg/dL: mostly plausible, with the vendor placeholders, zero, negatives, fractions and absurd values. */
export const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 40, max: 400 }) },
  { weight: 2, arbitrary: fc.constantFrom(39, 401, 0, -5, 0.4, 1e308, -1e308, 402, 500, 501, 20, 38, 1000) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** Anything JSON, to put where a field belongs. */
export const junkArb = fc.jsonValue({ maxDepth: 3 });

/** A body as text: mostly `json` serialised, sometimes broken or not JSON at all. */
export function bodyArb(json: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: json.map((value) => JSON.stringify(value) ?? '') },
    { weight: 1, arbitrary: json.map((value) => (JSON.stringify(value) ?? '').slice(0, 40)) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.constantFrom(
          '',
          '<!DOCTYPE html><html><body>502</body></html>',
          '[',
          '{',
          'null',
          '"x"',
          '[[[[[[',
        ),
        fc.integer({ min: 65, max: 2_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
      ),
    },
  );
}

/** HTTP statuses: mostly 200, with the errors vendors answer. */
export const statusArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant(200) },
  { weight: 1, arbitrary: fc.constantFrom(400, 401, 403, 404, 429, 430, 500, 502, 503) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 599 }) },
);

/** An object with some of its fields replaced by junk or left out. */
export function mutated<T extends Record<string, unknown>>(
  base: fc.Arbitrary<T>,
  keep = 6,
): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: keep, arbitrary: base },
    {
      weight: 3,
      arbitrary: fc
        .tuple(base, fc.nat(), fc.oneof(junkArb, fc.constant(undefined)))
        .map(([value, index, junk]) => {
          const keys = Object.keys(value);
          const key = keys[index % Math.max(1, keys.length)];
          if (key === undefined) return value;
          const copy: Record<string, unknown> = { ...value };
          if (junk === undefined) delete copy[key];
          else copy[key] = junk;
          return copy;
        }),
    },
    { weight: 1, arbitrary: junkArb },
  );
}

// One line after the whole run: how many cases the fuzz tests tried, and how long they took.
after(() => {
  if (tally.cases > 0) {
    const seconds = Math.round(tally.ms / 100) / 10;
    const handles = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
    console.log(
      `  fuzz: ${tally.cases} generated cases in ${seconds} s (seed ${SEED}); ` +
        `process heap ${heapMiB()} MiB, ${handles} active handles`,
    );
  }
});
