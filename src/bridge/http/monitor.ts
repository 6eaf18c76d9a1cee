import { EventEmitter } from 'node:events';
import { AccountFollower } from '../../follow/follower';
import type { SubjectState } from '../../follow/subject-state';
import { ObservedTransport } from '../../http/observed';
import { HttpTransport } from '../../http/transport';
import type { CgmError } from '../../model/errors';
import type { Logger } from '../../model/logger';
import { unitLabel, valueIn } from '../../model/reading';
import type { MqttPublisher } from '../../mqtt/publisher';
import type { ClientOptions } from '../../providers/provider';
import { DAY_MS } from '../../stats/statistics';
import { VERSION } from '../../version';
import type { BridgeAccount } from '../account';
import type { AccountConfig } from '../config';
import { BridgeMetrics } from './metrics';
import type { AccountStatus, PersonStatus, ProblemStatus, StatusSnapshot } from './snapshot';

/** How often the MQTT connection is looked at (the publisher has no event for it). */
const CONNECTION_CHECK_MS = 2_000;

/**
 * What the status page, `/healthz` and `/metrics` know of a running bridge: it listens to every
 * account's follower and statistics, counts for Prometheus, and builds the page's snapshot. It only
 * watches: nothing here changes what the bridge does.
 */
export class BridgeMonitor extends EventEmitter<{ change: [] }> {
  readonly metrics: BridgeMetrics;
  private accounts: readonly BridgeAccount[] = [];
  private publisher: MqttPublisher | undefined;
  private readonly lastErrors = new Map<BridgeAccount, ProblemStatus>();
  private readonly personCodes = new Map<SubjectState, string | undefined>();
  private connectionTimer: NodeJS.Timeout | undefined;
  private wasConnected = false;
  private phase: 'starting' | 'running' | 'stopping' = 'starting';
  private readonly startedAt: number;

  constructor(private readonly now: () => number = Date.now) {
    super();
    this.startedAt = now();
    this.metrics = new BridgeMetrics(
      {
        lastReadings: () =>
          this.accounts.flatMap((account) =>
            account.follower.subjects.flatMap((s) =>
              s.last ? [{ account: account.config.name, person: s.slug, time: s.last.time.getTime() }] : [],
            ),
          ),
        queueLength: () => this.publisher?.pending ?? 0,
        mqttConnected: () => this.publisher?.connected ?? false,
      },
      now,
    );
  }

  /** The client options of one account: its requests counted by provider and result. */
  clientOptions(
    account: AccountConfig,
    base: Pick<ClientOptions, 'transport'> | undefined,
    logger: Logger,
  ): Pick<ClientOptions, 'transport'> {
    const inner =
      base?.transport ??
      new HttpTransport({
        logger,
        ...(account.source.timeoutMs === undefined ? {} : { timeoutMs: account.source.timeoutMs }),
      });
    const provider = account.source.provider;
    return { transport: new ObservedTransport(inner, (outcome) => this.metrics.request(provider, outcome)) };
  }

  /** Starts watching the bridge's publisher and accounts (before they start, so no event is missed). */
  attach(publisher: MqttPublisher, accounts: readonly BridgeAccount[]): void {
    this.publisher = publisher;
    this.accounts = accounts;
    const changed = () => this.emit('change');
    for (const account of accounts) {
      const { follower } = account;
      follower.on('reading', (subject) => {
        this.metrics.readingPublished(account.config.name, subject.slug);
        changed();
      });
      follower.on('problem', (error) => {
        if (error) {
          this.metrics.error(error.code);
          this.lastErrors.set(account, problemStatus(error, this.now(), true));
        } else {
          const last = this.lastErrors.get(account);
          if (last) this.lastErrors.set(account, { ...last, current: false });
        }
        changed();
      });
      follower.on('status', (subject) => {
        // A person's own problem (the account's is counted once, above).
        const code =
          subject.problem && subject.problem !== follower.problem ? subject.problem.code : undefined;
        if (code !== undefined && code !== this.personCodes.get(subject))
          this.metrics.error(subject.problem!.code);
        this.personCodes.set(subject, code);
        changed();
      });
      for (const event of ['subject', 'removed', 'backfill'] as const) follower.on(event, changed);
      account.statistics.on('statistics', changed);
    }
    this.connectionTimer = setInterval(() => {
      const connected = publisher.connected;
      if (connected !== this.wasConnected) {
        this.wasConnected = connected;
        changed();
      }
    }, CONNECTION_CHECK_MS);
    this.connectionTimer.unref?.();
  }

  /** The bridge finished starting (its accounts made their first attempt). */
  running(): void {
    this.phase = 'running';
    this.emit('change');
  }

  stop(): void {
    this.phase = 'stopping';
    clearInterval(this.connectionTimer);
    this.emit('change');
  }

  /** `/healthz`: healthy while the bridge runs and its broker is connected. */
  health(): { healthy: boolean; body: Record<string, unknown> } {
    const connected = this.publisher?.connected ?? false;
    const reason =
      this.phase === 'starting'
        ? 'the bridge is starting'
        : this.phase === 'stopping'
          ? 'the bridge is stopping'
          : connected
            ? undefined
            : `the MQTT broker ${this.publisher?.brokerUrl ?? ''} is not connected`.replace('  ', ' ');
    return {
      healthy: reason === undefined,
      body: {
        status: reason === undefined ? 'ok' : 'unavailable',
        ...(reason === undefined ? {} : { reason }),
        mqtt: connected ? 'connected' : 'disconnected',
        accounts: this.accounts.length,
        uptimeSeconds: Math.round((this.now() - this.startedAt) / 1000),
        version: VERSION,
      },
    };
  }

  /** Everything the status page shows, in one JSON-ready object. */
  snapshot(): StatusSnapshot {
    const now = this.now();
    const accounts: AccountStatus[] = [];
    const people: PersonStatus[] = [];
    for (const account of this.accounts) {
      const { follower, config } = account;
      const current = follower.problem;
      const last = current ? problemStatus(current, now, true) : this.lastErrors.get(account);
      accounts.push({
        name: config.name,
        provider: config.source.provider,
        problem: current ? problemStatus(current, now, true) : null,
        lastError: last ?? null,
        people: follower.subjects.map((s) => s.slug),
      });
      for (const subject of follower.subjects) people.push(personStatus(account, subject, now));
    }
    return {
      version: VERSION,
      now: new Date(now).toISOString(),
      mqtt: {
        connected: this.publisher?.connected ?? false,
        broker: this.publisher?.brokerUrl ?? '',
        queue: this.publisher?.pending ?? 0,
      },
      accounts,
      people,
    };
  }
}

function problemStatus(error: CgmError, now: number, current: boolean): ProblemStatus {
  return {
    code: error.code,
    message: error.message,
    hint: error.hint ?? null,
    since: new Date(now).toISOString(),
    current,
  };
}

function personStatus(account: BridgeAccount, subject: SubjectState, now: number): PersonStatus {
  const { units, thresholds } = account.config;
  const last = subject.last;
  const flags = subject.classify(thresholds);
  const problem = subject.problem;
  const since = now - DAY_MS;
  return {
    slug: subject.slug,
    name: subject.name,
    account: account.config.name,
    provider: subject.provider,
    placeholder: AccountFollower.isPlaceholder(subject),
    continuous: subject.continuous,
    unit: unitLabel(units),
    thresholds: { ...thresholds },
    last: last
      ? {
          time: last.time.toISOString(),
          mgdl: last.mgdl,
          mmol: last.mmol,
          value: valueIn(last, units),
          trend: last.trend,
          arrow: last.arrow,
          limit: last.limit ?? null,
        }
      : null,
    delta: subject.delta(units),
    urgentLow: flags?.urgentLow ?? false,
    low: flags?.low ?? false,
    high: flags?.high ?? false,
    stale: subject.stale,
    problem: problem ? problemStatus(problem, now, true) : null,
    statistics: account.statistics.current(subject) ?? null,
    history: subject.recent
      .since(since)
      .map((r) => [Math.round(r.time.getTime() / 1000), r.mgdl, r.limit ? (r.limit === 'low' ? -1 : 1) : 0]),
  };
}
