// The poll schedule side by side: our follower (learning schedule) against the peers' fixed and
// aligned pollers, on one reading stream per seed, over real loopback HTTP on a virtual clock.
import { sourceConfigSchema, type DexcomConfig } from '../../src/config';
import { MemoryAccountStore } from '../../src/follow/account-state';
import { AccountFollower } from '../../src/follow/follower';
import { silentLogger } from '../../src/model/logger';
import type { GlucoseReading } from '../../src/model/reading';
import { DexcomClient } from '../../src/providers/dexcom/client';
import { DexcomSimulator, type DexcomSimAccount } from '../../src/simulator/dexcom';
import { Simulator } from '../../src/simulator/server';
import type { ProviderSimulator, SimContext, SimRequest, SimResponse } from '../../src/simulator/types';
import { CountingTransport, VirtualClock } from './virtual-clock';

const MINUTE = 60_000;
const STEP = 5 * MINUTE;
/** A Monday 00:00 UTC; the readings' 5-minute grid starts on it. */
const START = Date.UTC(2026, 2, 2, 0, 0, 0);
const OUTAGE_MS = 40 * MINUTE;

export type LagModelName = 'stable' | 'erratic';
export type StrategyName = 'GlucoBridge' | 'every 150 s' | 'every 180 s' | 'every 300 s' | 'aligned 5 min';
export const STRATEGIES: StrategyName[] = [
  'GlucoBridge',
  'every 150 s',
  'every 180 s',
  'every 300 s',
  'aligned 5 min',
];

export interface ScenarioSpec {
  lag: LagModelName;
  outage: boolean;
}

export interface StrategyResult {
  freshness: number[];
  /** Readings measured (appeared inside the measured window). */
  readings: number;
  /** Distinct readings shown over the whole run (requests per reading divides by this). */
  shownTotal: number;
  requests: number;
  logins: number;
  accounts: number;
  missed: number;
  duplicated: number;
  /** Per seed: seconds from the cloud answering again to the first reading shown. */
  afterOutage: number[];
}

export interface ScheduleFigures {
  spec: ScenarioSpec;
  results: Map<StrategyName, StrategyResult>;
}

/** A deterministic number in [0, 1) from a few integers (the same reading always gets the same lag). */
function unit(...parts: number[]): number {
  let h = 2166136261;
  for (const part of parts) {
    h = Math.imul(h ^ (part | 0), 16777619);
    h = Math.imul(h ^ ((part / 4294967296) | 0), 16777619);
    h ^= h >>> 13;
  }
  h = Math.imul(h ^ (h >>> 16), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** The uploader of one seed: stable (a fixed 5–40 s plus up to ±3 s of noise) or erratic (0–60 s). */
export function uploadLag(model: LagModelName, seed: number): (time: number) => number {
  const base = 5_000 + 35_000 * unit(seed, 1);
  return model === 'stable'
    ? (time) => Math.max(0, Math.round(base + (unit(seed, time, 2) * 6 - 3) * 1000))
    : (time) => Math.round(60_000 * unit(seed, time, 3));
}

function outageWindow(seed: number, hours: number): { from: number; to: number } {
  // Half-way through the run, at a different moment of the 5-minute cycle for each seed.
  const from = START + (hours / 2) * 60 * MINUTE + ((seed * 47_000) % STEP);
  return { from, to: from + OUTAGE_MS };
}

/**
 * The cloud during an outage: 500s in the first and third ten minutes, requests held unanswered in the
 * second and fourth (the client's timeout ends them). Otherwise the Dexcom simulator behind it.
 */
class OutageCloud implements ProviderSimulator {
  readonly provider = 'dexcom' as const;
  readonly prefix: string;

  constructor(
    prefix: string,
    private readonly inner: DexcomSimulator,
    private readonly windowOf: (request: SimRequest) => { from: number; to: number } | undefined,
    private readonly virtual: VirtualClock,
  ) {
    this.prefix = prefix;
  }

  handle(request: SimRequest, context: SimContext): SimResponse | Promise<SimResponse> {
    const window = this.windowOf(request);
    const now = context.clock.now();
    if (window && now >= window.from && now < window.to) {
      const block = Math.floor((now - window.from) / (10 * MINUTE));
      if (block % 2 === 0) return { status: 500, body: 'Internal Server Error' };
      this.virtual.held += 1;
      return new Promise<SimResponse>(() => undefined);
    }
    return this.inner.handle(request, context);
  }

  describe(): string[] {
    return [];
  }
}

interface Watched {
  strategy: StrategyName;
  seed: number;
  spec: ScenarioSpec;
  transport: CountingTransport;
  /** Reading instant → emission instants. */
  shown: Map<number, number[]>;
  startedAt: number;
  stop: () => Promise<void>;
}

/** The account of one (scenario, strategy, seed): same lag stream for every strategy of a seed. */
function simAccount(index: number, spec: ScenarioSpec, seed: number): DexcomSimAccount {
  return {
    username: `sched-${index}`,
    password: `sched-password-${index}`,
    accountId: `0c0c0c0c-0000-4000-8000-${String(index).padStart(12, '0')}`,
    region: 'ous',
    name: `Schedule ${index}`,
    profile: 'steady',
    uploadLagMs: uploadLag(spec.lag, seed),
  };
}

function dexcomConfig(server: string, account: DexcomSimAccount): DexcomConfig {
  const parsed = sourceConfigSchema.parse({
    provider: 'dexcom',
    region: 'ous',
    server,
    username: account.username,
    password: account.password,
  });
  if (parsed.provider !== 'dexcom') throw new Error('not a Dexcom configuration');
  return parsed;
}

/** Our stack: the account follower with its poller and learning schedule. */
async function startOurs(
  config: DexcomConfig,
  transport: CountingTransport,
  watched: Watched,
): Promise<void> {
  const follower = new AccountFollower({
    key: `bench:${config.username ?? ''}`,
    name: 'Bench',
    config,
    store: new MemoryAccountStore(),
    logger: silentLogger,
    clientOptions: { transport },
  });
  const show = (reading: GlucoseReading) => remember(watched, reading);
  follower.on('reading', (_subject, reading) => show(reading));
  follower.on('backfill', (_subject, readings) => readings.forEach(show));
  watched.stop = () => follower.stop();
  await follower.start();
}

/**
 * A peer: every `intervalMs` (share2nightscout-bridge 150 s, Home Assistant 180 s, 300 s), or aligned
 * to the last reading + 5 min + 18–36 s and 5 minutes later when that moment has passed
 * (nightscout-connect). Each request reads what is new since the last reading (no reading is lost).
 */
function startPeer(
  config: DexcomConfig,
  transport: CountingTransport,
  watched: Watched,
  kind: { every: number } | 'aligned',
  seed: number,
): void {
  const client = new DexcomClient(config, { transport, logger: silentLogger });
  let last: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let polls = 0;
  const poll = async (): Promise<void> => {
    polls += 1;
    try {
      const readings =
        last === undefined
          ? [await client.latest()].filter((r): r is GlucoseReading => r !== null)
          : await client.history({ minutes: Math.min(1440, Math.ceil((Date.now() - last) / MINUTE) + 1) });
      for (const reading of readings) {
        if (last === undefined || reading.time.getTime() > last) {
          remember(watched, reading);
          last = reading.time.getTime();
        }
      }
    } catch {
      // The next poll tries again.
    }
    if (stopped) return;
    let delay: number;
    if (kind === 'aligned') {
      const fuzz = 18_000 + unit(seed, polls, 7) * 18_000;
      const due = last === undefined ? Date.now() + STEP : last + STEP + fuzz;
      delay = due > Date.now() ? due - Date.now() : STEP;
    } else delay = kind.every;
    timer = setTimeout(() => void poll(), delay);
  };
  watched.stop = async () => {
    stopped = true;
    clearTimeout(timer);
    await client.close();
  };
  // Peers start at a random moment of their cycle, as real ones do.
  timer = setTimeout(() => void poll(), Math.round(unit(seed, 11) * 1000));
}

function remember(watched: Watched, reading: GlucoseReading): void {
  const at = watched.shown.get(reading.time.getTime()) ?? [];
  at.push(Date.now());
  watched.shown.set(reading.time.getTime(), at);
}

/** Runs every scenario (lag model × outage) with every strategy and seed on one virtual clock. */
export async function compareSchedules(options: {
  seeds: number;
  hours: number;
  scenarios: ScenarioSpec[];
}): Promise<ScheduleFigures[]> {
  const { seeds, hours, scenarios } = options;
  const end = START + hours * 60 * MINUTE;
  const virtual = new VirtualClock(START - 30 * MINUTE);
  const plans: { spec: ScenarioSpec; strategy: StrategyName; seed: number; account: DexcomSimAccount }[] = [];
  let index = 0;
  for (const spec of scenarios)
    for (const strategy of STRATEGIES)
      for (let seed = 1; seed <= seeds; seed += 1)
        plans.push({ spec, strategy, seed, account: simAccount(index++, spec, seed) });
  const inner = new DexcomSimulator({
    accounts: plans.map((p) => p.account),
    sessionTtlMs: 24 * 60 * MINUTE,
  });
  const outageOf = new Map<string, { from: number; to: number }>();
  for (const plan of plans)
    if (plan.spec.outage) outageOf.set(plan.account.username.toLowerCase(), outageWindow(plan.seed, hours));
  // Sessions and account ids name the account: the wrapper maps them back to find its outage.
  const windowOf = (request: SimRequest) => {
    const accountName = (request.json as { accountName?: unknown } | undefined)?.accountName;
    if (typeof accountName === 'string') return outageOf.get(accountName.toLowerCase());
    const accountId = (request.json as { accountId?: unknown } | undefined)?.accountId;
    const session = request.query.get('sessionId') ?? undefined;
    const owner =
      typeof accountId === 'string'
        ? plans.find((p) => p.account.accountId === accountId)?.account
        : session === undefined
          ? undefined
          : sessionOwner(inner, session);
    return owner ? outageOf.get(owner.username.toLowerCase()) : undefined;
  };
  const sim = new Simulator({
    providers: [new OutageCloud('/dexcom', inner, windowOf, virtual)],
    recordLimit: 0,
  });
  const url = await sim.listen();
  const server = `${url}/dexcom/ous`;
  const watched: Watched[] = [];
  try {
    // Everyone starts at a random moment of the first half hour before the measured day.
    for (const plan of plans) {
      const transport = new CountingTransport(virtual);
      const entry: Watched = {
        strategy: plan.strategy,
        seed: plan.seed,
        spec: plan.spec,
        transport,
        shown: new Map(),
        startedAt: 0,
        stop: () => Promise.resolve(),
      };
      watched.push(entry);
      const config = dexcomConfig(server, plan.account);
      const startAt = Math.round(unit(plan.seed, 5) * 25 * MINUTE);
      setTimeout(() => {
        entry.startedAt = Date.now();
        if (plan.strategy === 'GlucoBridge') void startOurs(config, transport, entry);
        else
          startPeer(
            config,
            transport,
            entry,
            plan.strategy === 'aligned 5 min'
              ? 'aligned'
              : { every: Number(/\d+/.exec(plan.strategy)?.[0] ?? '300') * 1000 },
            plan.seed,
          );
      }, startAt);
    }
    await virtual.runUntil(end);
    return scenarios.map((spec) => ({
      spec,
      results: new Map(
        STRATEGIES.map((strategy) => [
          strategy,
          summarise(
            watched.filter((w) => w.spec === spec && w.strategy === strategy),
            hours,
            end,
          ),
        ]),
      ),
    }));
  } finally {
    await Promise.all(watched.map((w) => w.stop().catch(() => undefined)));
    virtual.restore();
    await sim.close();
  }
}

/** The session's account, read from the simulator's own bookkeeping. */
function sessionOwner(sim: DexcomSimulator, sessionId: string): DexcomSimAccount | undefined {
  const sessions = (sim as unknown as { sessions: Map<string, { accountId: string }> }).sessions;
  const accountId = sessions.get(sessionId.toLowerCase())?.accountId;
  return accountId === undefined ? undefined : sim.state(accountId).account;
}

function summarise(group: Watched[], hours: number, end: number): StrategyResult {
  const result: StrategyResult = {
    freshness: [],
    readings: 0,
    shownTotal: 0,
    requests: 0,
    logins: 0,
    accounts: group.length,
    missed: 0,
    duplicated: 0,
    afterOutage: [],
  };
  for (const w of group) {
    const lag = uploadLag(w.spec.lag, w.seed);
    const outage = w.spec.outage ? outageWindow(w.seed, hours) : undefined;
    result.requests += w.transport.total;
    result.shownTotal += w.shown.size;
    result.logins += w.transport.count('LoginPublisherAccountById');
    // Measured: readings that appeared from 10 minutes after this strategy started to 10 minutes before the end.
    const from = w.startedAt + 10 * MINUTE;
    for (let time = Math.ceil(from / STEP) * STEP; time + lag(time) <= end - 10 * MINUTE; time += STEP) {
      const visible = time + lag(time);
      if (visible < from) continue;
      const shown = w.shown.get(time);
      if (!shown) {
        result.missed += 1;
        continue;
      }
      result.readings += 1;
      if (shown.length > 1) result.duplicated += 1;
      // Readings the outage held back (shown after it began, there before it ended) are its own figure.
      const heldBack = outage && shown[0]! >= outage.from && visible < outage.to;
      if (!heldBack) result.freshness.push((shown[0]! - visible) / 1000);
    }
    if (outage) {
      const first = Math.min(...[...w.shown.values()].map((at) => at[0]!).filter((at) => at >= outage.to));
      result.afterOutage.push((first - outage.to) / 1000);
    }
  }
  return result;
}
