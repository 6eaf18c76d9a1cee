import { EventEmitter } from 'node:events';
import type { SourceConfig, Thresholds } from '../config';
import { DEFAULT_SENSOR_DAYS } from '../model/sensor';
import { CgmError, stopsPolling, toCgmError } from '../model/errors';
import { silentLogger, type Logger } from '../model/logger';
import type { Measurement } from '../model/measurement';
import type { GlucoseReading } from '../model/reading';
import { chooseSubject, selectSubjects, type Subject } from '../model/subject';
import { subjectSlug } from '../mqtt/subject';
import { Poller } from '../poller';
import { within } from '../within';
import { LoginPolicy, type LoginMemory, type LoginTurns } from '../providers/login-policy';
import type { CgmSource, ClientOptions } from '../providers/provider';
import { createSource } from '../source';
import type { AccountState, AccountStore, KnownSubject, StoredLogin } from './account-state';
import { accountKey } from './account-key';
import { credentialFingerprint, newSalt, sameCredentials } from './fingerprint';
import { hasMeasurements, MeasurementFollower } from './measurements';
import { SubjectState } from './subject-state';
import { personThresholds } from './thresholds';

const MINUTE = 60_000;
/** Looking for people again after a failed discovery backs off to this. */
const MAX_DISCOVERY_BACKOFF_MS = 30 * MINUTE;
/** An account that follows several people is asked who they are this often (new invitations). */
const REDISCOVER_MS = 60 * MINUTE;
/** How long `stop` waits for a request in flight once the source is closed. */
const STOP_WAIT_MS = 1_000;
/** The id prefix of the stand-in subject that carries an account's problem before anyone is known. */
const PLACEHOLDER = 'account:';

export type SourceFactory = (config: SourceConfig, options: ClientOptions) => CgmSource;

export interface FollowerOptions {
  /** The account's stable id in the store (see `accountKey`). */
  key: string;
  /** What people call the account; names its one person, and the stand-in before anyone is known. */
  name?: string;
  config: SourceConfig;
  store: AccountStore;
  logger?: Logger;
  /** No new reading for this long (minutes) means stale; default 15. */
  staleMinutes?: number;
  /**
   * `all`: poll everyone the account follows (bridge, Homebridge). `watched`: only the people a host
   * `watch`es (Node-RED, where each poll node names one).
   */
  follow?: 'all' | 'watched';
  /** Also follow a VitaDock account's other measurements (weight, blood pressure, temperature). */
  measurements?: boolean;
  /** History emitted when a person's poller first starts (minutes; 0 = only the latest reading). */
  initialHistoryMinutes?: number;
  /**
   * The configured limits (mg/dL). Given, each person's `thresholds` is decided here: these, or with
   * `cloudThresholds` the limits of the person's cloud where it has them.
   */
  thresholds?: Thresholds;
  /** `thresholds: "cloud"`: each person's limits from their cloud (LibreLinkUp, Nightscout). */
  cloudThresholds?: boolean;
  /** For tests and hosts that share one transport. */
  clientOptions?: Pick<ClientOptions, 'transport'>;
  /** The host's queue of logins, shared by its accounts (the bridge's `TurnLimiter`). */
  loginTurns?: LoginTurns;
  createSource?: SourceFactory;
  now?: () => number;
}

export interface FollowerEvents {
  /** A person appeared: restored from the store at start, or found by the cloud. */
  subject: [SubjectState];
  /** A person went: the stand-in after real people were found, or someone the configuration no longer selects. */
  removed: [SubjectState];
  reading: [SubjectState, GlucoseReading];
  /** Older readings filling a gap, oldest first (for hosts that keep history). */
  backfill: [SubjectState, GlucoseReading[]];
  /** A person's stale flag or problem changed. */
  status: [SubjectState];
  /** The account's own problem changed (undefined: it works again). */
  problem: [CgmError | undefined];
  /** What the cloud says about a person besides readings changed: their sensor, or their limits. */
  details: [SubjectState];
  measurement: [SubjectState, Measurement];
}

interface Followed {
  state: SubjectState;
  poller: Poller | undefined;
  /** The stale minutes each watcher asked for (`watched` mode); the shortest applies. */
  watchers: number[];
}

/**
 * One configured account, supervised in one place for every host (DESIGN "Following an account"):
 * one source and login policy (a refused password is remembered across restarts by a salted fingerprint
 * and never sent again until the credentials change; locks are waited out), people chosen by one rule,
 * a person missing from one answer kept and marked faulted, one Poller and one SubjectState per person.
 * Hosts only render its events. Every method resolves or rejects with CgmError only; no event handler
 * of a host can break it.
 */
export class AccountFollower extends EventEmitter<FollowerEvents> {
  readonly key: string;
  readonly config: SourceConfig;
  private readonly logger: Logger;
  private readonly staleMinutes: number;
  private readonly mode: 'all' | 'watched';
  private readonly now: () => number;
  private readonly followed = new Map<string, Followed>();
  private sourceOf: CgmSource | undefined;
  private policy: LoginPolicy | undefined;
  private starting: Promise<void> | undefined;
  private stopped = false;
  private accountProblem: CgmError | undefined;
  private discoveryTimer: NodeJS.Timeout | undefined;
  private discoveryFailures = 0;
  private discovered = false;
  private discovering: Promise<void> | undefined;
  private measurements: MeasurementFollower | undefined;
  private refusalMaterial: { salt: string } | undefined;
  /** Cloud limits already reported as unusable, per person (said once, not every poll). */
  private readonly refusedLimits = new Map<string, string>();
  private storedLogin: StoredLogin | undefined;
  private savedVersions: Record<string, string> = {};

  constructor(private readonly options: FollowerOptions) {
    super();
    this.key = options.key;
    this.config = options.config;
    this.logger = options.logger ?? silentLogger;
    this.staleMinutes = options.staleMinutes ?? 15;
    this.mode = options.follow ?? 'all';
    this.now = options.now ?? Date.now;
  }

  /** The people followed (restored, found, or the stand-in carrying the account's problem). */
  get subjects(): SubjectState[] {
    return [...this.followed.values()].map((f) => f.state);
  }

  /** Why the account does not work, if it does not. */
  get problem(): CgmError | undefined {
    return this.accountProblem;
  }

  /** True once people were found by the cloud in this run. */
  get ready(): boolean {
    return this.discovered;
  }

  /** The account's source (for the Dexcom publisher and followers, VitaDock extras); after `start`. */
  get source(): CgmSource {
    if (!this.sourceOf) throw new CgmError('CONFIG', 'the account is not started');
    return this.sourceOf;
  }

  /** Whether a subject is the stand-in for an account nobody is known of yet. */
  static isPlaceholder(subject: SubjectState): boolean {
    return subject.id.startsWith(PLACEHOLDER);
  }

  /**
   * Restores what the store knows (people, session, a refusal, a lock) and makes the first attempt to
   * find the people; later attempts are scheduled. Resolves after that first attempt, never rejects.
   */
  start(): Promise<void> {
    this.starting ??= this.begin().catch((thrown: unknown) => {
      this.setAccountProblem(toCgmError(thrown));
    });
    return this.starting;
  }

  /** Stops every poller and closes the source (which ends requests in flight); never waits long for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.discoveryTimer);
    this.measurements?.stop();
    const stopping = [...this.followed.values()].map((f) => f.poller?.stop() ?? Promise.resolve());
    await this.sourceOf?.close().catch(() => undefined);
    await within(Promise.all([this.starting, ...stopping]), STOP_WAIT_MS);
  }

  /**
   * The person `wanted` names (by the selection rule), or the account's only person; waits for the first
   * discovery. NOT_FOUND names who is followed; an account failure rejects with its error.
   */
  async resolve(wanted?: string): Promise<SubjectState> {
    await this.start();
    if (!this.discovered) await this.discover();
    const real = this.subjects.filter((s) => !AccountFollower.isPlaceholder(s));
    if (real.length === 0)
      throw this.accountProblem ?? new CgmError('NOT_FOUND', 'this account follows nobody yet');
    if (wanted !== undefined) {
      const chosen = chooseSubject(real, wanted);
      return this.followed.get(chosen.id)!.state;
    }
    return real[0]!;
  }

  /**
   * A host's interest in one person (`watched` mode): polling runs while anyone watches, and the data
   * goes stale after the shortest `staleMinutes` asked for. Returns the release.
   */
  watch(subjectId: string, options: { staleMinutes?: number } = {}): () => void {
    const entry = this.followed.get(subjectId);
    if (!entry) return () => undefined;
    const minutes = options.staleMinutes ?? this.staleMinutes;
    entry.watchers.push(minutes);
    this.ensurePoller(entry);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.watchers.splice(entry.watchers.indexOf(minutes), 1);
      if (entry.watchers.length === 0 && this.mode === 'watched') void entry.poller?.stop();
      else entry.poller?.setStaleMinutes(this.staleMinutesOf(entry));
    };
  }

  /** Polls a person now (an input message, a push). Never rejects; errors arrive as status. */
  async pollNow(subjectId?: string): Promise<void> {
    const targets = subjectId === undefined ? [...this.followed.values()] : [this.followed.get(subjectId)];
    await Promise.all(targets.map((entry) => entry?.poller?.pollNow() ?? Promise.resolve()));
  }

  /** One read of a person's newest reading, through the same login; a newer one updates their state. */
  async latest(subject: SubjectState): Promise<GlucoseReading | null> {
    const reading = await this.source.latest(subject.id);
    this.refreshDetails(subject);
    if (reading && reading.time.getTime() <= this.now() + 5 * MINUTE) this.offer(subject, reading);
    return reading;
  }

  /** A person's readings of the last `minutes`, oldest first; the newest updates their state. */
  async history(subject: SubjectState, minutes: number): Promise<GlucoseReading[]> {
    const readings = await this.source.history({ minutes, subject: subject.id });
    this.refreshDetails(subject);
    const inTime = readings.filter((r) => r.time.getTime() <= this.now() + 5 * MINUTE);
    subject.recent.addAll(inTime);
    const newest = inTime.at(-1);
    if (newest) this.offer(subject, newest);
    return readings;
  }

  // ---- start and discovery --------------------------------------------------------------------

  private async begin(): Promise<void> {
    const stored = await this.loadState();
    const memory = this.restoreLogin(stored);
    this.policy = new LoginPolicy({
      memory,
      onChange: (next) => this.persistLogin(next),
      now: this.now,
      ...(this.options.loginTurns ? { turns: this.options.loginTurns } : {}),
    });
    const factory = this.options.createSource ?? createSource;
    const session = stored.session?.provider === this.config.provider ? stored.session : undefined;
    this.sourceOf = factory(this.config, {
      ...this.options.clientOptions,
      logger: this.logger,
      loginGate: this.policy,
      ...(session ? { session } : {}),
      ...(stored.versions ? { versions: stored.versions } : {}),
    });
    this.sourceOf.onSession((state) => this.options.store.save({ session: state }));
    // A version the cloud asked for is kept at once: the next start must not be refused again.
    this.savedVersions = stored.versions ?? {};
    this.sourceOf.onVersions?.((versions) => {
      this.savedVersions = { ...this.savedVersions, ...versions };
      this.options.store.save({ versions: this.savedVersions }, { urgent: true });
    });
    for (const known of stored.subjects ?? []) this.add(known);
    // A refusal remembered from an earlier run: shown at once, and the password is not sent.
    const refusal = this.policy.refusal;
    if (refusal) {
      this.ensurePlaceholder();
      this.setAccountProblem(refusal);
    }
    if (this.stopped) return;
    await this.discover();
  }

  /**
   * What the store holds for this login: a store keyed by something else (a Node-RED node whose provider
   * or username changed) may hold another login's people and sessions, which are dropped.
   */
  private async loadState(): Promise<AccountState> {
    const stored = await this.options.store.load();
    const identity = accountKey(this.config.provider, this.config);
    if (stored.identity === identity) return stored;
    const emptied: Partial<AccountState> = { identity };
    if (stored.identity !== undefined) {
      this.logger.info('the account now logs in as someone else; its saved state is not used');
      for (const section of Object.keys(stored))
        if (section !== 'identity') emptied[section as keyof AccountState] = undefined;
      this.options.store.save(emptied);
      return { identity };
    }
    this.options.store.save(emptied);
    return { ...stored, identity };
  }

  /** The login memory of these credentials: a refusal only if it was of the same credentials. */
  private restoreLogin(stored: AccountState): LoginMemory {
    const login = stored.login;
    this.storedLogin = login;
    const memory: LoginMemory = {};
    if (login?.lockedUntil !== undefined) memory.lockedUntil = login.lockedUntil;
    if (login?.locks !== undefined) memory.locks = login.locks;
    const refused = login?.refused;
    if (refused && sameCredentials(this.config, refused.salt, refused.fingerprint)) {
      memory.refused = {
        code: refused.code,
        message: refused.message,
        ...(refused.hint ? { hint: refused.hint } : {}),
        at: refused.at,
      };
      this.refusalMaterial = { salt: refused.salt };
    } else if (refused) {
      this.logger.info('the credentials changed since they were refused; logging in again');
      this.options.store.save({ login: { ...login, refused: undefined } }, { urgent: true });
    }
    return memory;
  }

  private persistLogin(memory: LoginMemory): void {
    const login: StoredLogin = {};
    if (memory.lockedUntil !== undefined) login.lockedUntil = memory.lockedUntil;
    if (memory.locks !== undefined) login.locks = memory.locks;
    if (memory.refused) {
      const salt = this.refusalMaterial?.salt ?? newSalt();
      this.refusalMaterial = { salt };
      login.refused = {
        salt,
        fingerprint: credentialFingerprint(this.config, salt),
        code: 'AUTH_INVALID',
        message: memory.refused.message,
        ...(memory.refused.hint ? { hint: memory.refused.hint } : {}),
        at: memory.refused.at,
      };
    }
    if (JSON.stringify(login) === JSON.stringify(this.storedLogin ?? {})) return;
    this.storedLogin = login;
    this.options.store.save({ login: Object.keys(login).length > 0 ? login : undefined }, { urgent: true });
  }

  /** Asks who the account follows (one at a time); on success polls them, on failure shows why and retries. */
  private discover(): Promise<void> {
    this.discovering ??= this.findPeople().finally(() => {
      this.discovering = undefined;
    });
    return this.discovering;
  }

  private async findPeople(): Promise<void> {
    clearTimeout(this.discoveryTimer);
    if (this.stopped) return;
    let found: Subject[];
    try {
      // A carer's account says whom it follows only after a login; the others' account is the person.
      found = followsOthers(this.config)
        ? (await this.source.login()).subjects
        : await this.source.subjects();
    } catch (thrown) {
      this.discoveryFailed(toCgmError(thrown));
      return;
    }
    if (this.stopped) return;
    let chosen: Subject[];
    try {
      chosen = selectSubjects(found, this.wantedPatient());
      if (chosen.length === 0) throw selectSubjectsNobody();
    } catch (thrown) {
      if (followsOthers(this.config)) this.markMissing(found);
      this.discoveryFailed(toCgmError(thrown));
      return;
    }
    this.discoveryFailures = 0;
    this.discovered = true;
    const single = chosen.length === 1 && this.followed.size <= 1;
    for (const subject of chosen) {
      const identity = this.identify(subject, single);
      const known = this.followed.get(subject.id);
      // A known person keeps their slug (topics, entity ids, automations); the name follows the configuration.
      if (known) known.state.name = identity.name;
      const entry = known ?? this.add(identity);
      this.refreshDetails(entry.state);
      this.ensurePoller(entry);
    }
    this.dropUnselected(found, chosen);
    if (followsOthers(this.config)) this.markMissing(found);
    else for (const id of [...this.followed.keys()]) if (!chosen.some((s) => s.id === id)) this.remove(id);
    this.removePlaceholder();
    this.setAccountProblem(this.policy?.refusal);
    this.saveSubjects();
    this.startMeasurements();
    if (this.config.provider === 'librelinkup') this.scheduleDiscovery(REDISCOVER_MS);
  }

  private wantedPatient(): string | undefined {
    return this.config.provider === 'librelinkup' ? this.config.patient : undefined;
  }

  /** Name and slug for a newly found person: the account's name when it follows one, else their own. */
  private identify(subject: Subject, single: boolean): KnownSubject {
    const name =
      (single && this.options.name) || withoutEmail(subject.name) || this.options.name || 'Glucose';
    return { id: subject.id, name, slug: this.uniqueSlug(name, subject.id) };
  }

  private uniqueSlug(name: string, id: string): string {
    let slug: string;
    try {
      slug = subjectSlug(name);
    } catch {
      slug = subjectSlug(`person ${shortHash(id)}`);
    }
    const taken = [...this.followed.values()].some((f) => f.state.slug === slug && f.state.id !== id);
    return taken ? `${slug}_${shortHash(id)}` : slug;
  }

  private add(known: KnownSubject): Followed {
    const state = new SubjectState({
      ...known,
      provider: this.config.provider,
      continuous: this.sourceOf?.cadence.continuous ?? this.config.provider !== 'vitadock',
    });
    if (this.options.thresholds) state.setThresholds(this.options.thresholds);
    const entry: Followed = { state, poller: undefined, watchers: [] };
    this.followed.set(known.id, entry);
    if (this.accountProblem) state.setProblem(this.accountProblem);
    this.safeEmit('subject', state);
    return entry;
  }

  private remove(id: string): void {
    const entry = this.followed.get(id);
    if (!entry) return;
    this.followed.delete(id);
    void entry.poller?.stop();
    this.safeEmit('removed', entry.state);
  }

  /** People the cloud still lists but the configuration no longer selects (a changed `patient`). */
  private dropUnselected(found: readonly Subject[], chosen: readonly Subject[]): void {
    const listed = new Set(found.map((s) => s.id));
    const wanted = new Set(chosen.map((s) => s.id));
    for (const id of [...this.followed.keys()]) {
      if (listed.has(id) && !wanted.has(id)) this.remove(id);
    }
  }

  /** People known but absent from this answer: kept, marked faulted, looked for again. */
  private markMissing(found: readonly Subject[]): void {
    const listed = new Set(found.map((s) => s.id));
    for (const entry of this.followed.values()) {
      if (listed.has(entry.state.id) || AccountFollower.isPlaceholder(entry.state)) continue;
      const missing = new CgmError(
        'NOT_FOUND',
        `${entry.state.name} is not among the people this account follows right now; looking again`,
        { hint: 'check the connection in the vendor app (an invitation withdrawn, a sensor removed)' },
      );
      this.setSubjectProblem(entry.state, missing);
      this.ensurePoller(entry);
    }
  }

  private ensurePlaceholder(): void {
    if (this.followed.size > 0) return;
    const name = this.options.name ?? providerLabel(this.config.provider);
    this.add({ id: `${PLACEHOLDER}${this.key}`, name, slug: this.uniqueSlug(name, this.key) });
  }

  private removePlaceholder(): void {
    for (const entry of [...this.followed.values()]) {
      if (AccountFollower.isPlaceholder(entry.state)) this.remove(entry.state.id);
    }
  }

  private saveSubjects(): void {
    const subjects = this.subjects
      .filter((s) => !AccountFollower.isPlaceholder(s))
      .map((s) => ({ id: s.id, name: s.name, slug: s.slug }));
    this.options.store.save({ subjects });
  }

  private discoveryFailed(error: CgmError): void {
    this.ensurePlaceholder();
    this.setAccountProblem(error);
    if (stopsPolling(error)) return;
    this.discoveryFailures += 1;
    const backoff = Math.min(MAX_DISCOVERY_BACKOFF_MS, MINUTE * 2 ** (this.discoveryFailures - 1));
    this.scheduleDiscovery(Math.max(backoff, error.retryAfterMs ?? 0));
  }

  private scheduleDiscovery(delayMs: number): void {
    clearTimeout(this.discoveryTimer);
    if (this.stopped) return;
    this.discoveryTimer = setTimeout(() => void this.discover(), delayMs);
  }

  // ---- polling ----------------------------------------------------------------------------------

  private ensurePoller(entry: Followed): void {
    if (this.stopped || AccountFollower.isPlaceholder(entry.state) || !this.sourceOf) return;
    if (this.mode === 'watched' && entry.watchers.length === 0) return;
    if (this.policy?.refusal) return;
    entry.poller ??= this.makePoller(entry.state, this.staleMinutesOf(entry));
    entry.poller.setStaleMinutes(this.staleMinutesOf(entry));
    entry.poller.start();
  }

  private staleMinutesOf(entry: Followed): number {
    return entry.watchers.length > 0 ? Math.min(...entry.watchers) : this.staleMinutes;
  }

  private makePoller(state: SubjectState, staleMinutes: number): Poller {
    const poller = new Poller(this.source, {
      subject: state.id,
      state,
      staleMinutes,
      logger: quietLogger(this.logger),
      ...(this.options.initialHistoryMinutes
        ? { initialHistoryMinutes: this.options.initialHistoryMinutes }
        : {}),
    });
    poller.on('reading', (reading) => {
      this.refreshDetails(state);
      this.setSubjectProblem(state, undefined);
      if (this.accountProblem) this.setAccountProblem(undefined);
      this.safeEmit('reading', state, reading);
    });
    poller.on('backfill', (readings) => {
      state.recent.addAll(readings);
      this.safeEmit('backfill', state, readings);
    });
    poller.on('stale', (info) => {
      const age =
        info.ageMs === undefined
          ? 'no reading yet'
          : `last reading ${Math.round(info.ageMs / MINUTE)} min ago`;
      this.logger.warn(`${this.who(state)}no new reading for ${poller.staleMinutes} min (${age})`);
      this.safeEmit('status', state);
    });
    poller.on('fresh', () => this.safeEmit('status', state));
    poller.on('error', (error) => {
      if (isAccountFailure(error)) this.setAccountProblem(error);
      else this.setSubjectProblem(state, error);
    });
    poller.on('halted', () => {
      // The account is refused: every person's poller stops; the problem says why and what to change.
      for (const entry of this.followed.values()) void entry.poller?.stop();
    });
    return poller;
  }

  /** A reading that came by another path (a host's one-off read): shown if newer. */
  private offer(subject: SubjectState, reading: GlucoseReading): void {
    if (!subject.accept(reading)) return;
    this.setSubjectProblem(subject, undefined);
    this.safeEmit('reading', subject, reading);
  }

  private startMeasurements(): void {
    if (!this.options.measurements || this.measurements || !hasMeasurements(this.source)) return;
    const first = this.subjects.find((s) => !AccountFollower.isPlaceholder(s));
    if (!first) return;
    this.measurements = new MeasurementFollower(
      this.source,
      (measurement) => this.safeEmit('measurement', first, measurement),
      this.logger,
    );
    this.measurements.start();
  }

  // ---- what the cloud says besides readings ----------------------------------------------------------

  /**
   * Takes the person's sensor and (with `cloudThresholds`) limits from the source's last answer; a change
   * is a `details` event, before the reading that brought it goes out.
   */
  private refreshDetails(state: SubjectState): void {
    const details = this.sourceOf?.details?.(state.id);
    let changed = false;
    if (details?.sensor || state.sensor) {
      const days =
        (this.config.provider === 'librelinkup' ? this.config.sensorDays : undefined) ?? DEFAULT_SENSOR_DAYS;
      // A sensor no longer reported (removed, between two) is not shown as if it still ran.
      changed = state.setSensor(details?.sensor, days) || changed;
    }
    const configured = this.options.thresholds;
    if (configured && this.options.cloudThresholds && details?.targets) {
      const { thresholds, refused } = personThresholds(configured, details.targets);
      if (refused && this.refusedLimits.get(state.id) !== refused) {
        this.refusedLimits.set(state.id, refused);
        this.logger.warn(`${this.who(state)}${refused}; using the configured ones`);
      }
      changed = state.setThresholds(thresholds) || changed;
    }
    if (changed) this.safeEmit('details', state);
  }

  // ---- problems -----------------------------------------------------------------------------------

  private setAccountProblem(error: CgmError | undefined): void {
    const changed =
      error?.code !== this.accountProblem?.code || error?.message !== this.accountProblem?.message;
    this.accountProblem = error;
    for (const entry of this.followed.values()) {
      if (entry.state.setProblem(error)) this.safeEmit('status', entry.state);
    }
    if (!changed) return;
    if (error) this.logProblem(error);
    else this.logger.info('the account works again');
    this.safeEmit('problem', error);
  }

  private setSubjectProblem(state: SubjectState, error: CgmError | undefined): void {
    const problem = error ?? this.accountProblem;
    const before = state.problem;
    if (!state.setProblem(problem)) return;
    if (error && error.code !== before?.code) this.logger.warn(`${this.who(state)}${describe(error)}`);
    this.safeEmit('status', state);
  }

  /** A person's name before a log line, unless it is the account's own (hosts name the account already). */
  private who(state: SubjectState): string {
    return state.name === this.options.name ? '' : `${state.name}: `;
  }

  /** One line per change of problem, with the hint and the way out. */
  private logProblem(error: CgmError): void {
    if (stopsPolling(error)) {
      this.logger.error(`${describe(error)}. Not trying again until the configuration changes.`);
    } else if (error.retryAfterMs !== undefined) {
      this.logger.warn(`${describe(error)}; next attempt in ${Math.ceil(error.retryAfterMs / MINUTE)} min`);
    } else {
      this.logger.warn(describe(error));
    }
  }

  /** A host's handler that throws must not break the follower (or the host process). */
  private safeEmit<K extends keyof FollowerEvents>(event: K, ...args: FollowerEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: FollowerEvents[K]) => boolean)(event, ...args);
    } catch (thrown) {
      this.logger.error(`a handler of "${event}" failed: ${toCgmError(thrown).message}`);
    }
  }
}

/** Failures of the account as a whole (its login), as opposed to one person's data. */
function isAccountFailure(error: CgmError): boolean {
  return (
    stopsPolling(error) ||
    error.code === 'ACCOUNT_LOCKED' ||
    error.code === 'SESSION_EXPIRED' ||
    error.detail.login === true
  );
}

/** Accounts that follow other people (LibreLinkUp carers); the others' account is the person. */
function followsOthers(config: SourceConfig): boolean {
  return config.provider === 'librelinkup';
}

function describe(error: CgmError): string {
  return `${error.code}: ${error.message}${error.hint ? ` (${error.hint})` : ''}`;
}

function selectSubjectsNobody(): CgmError {
  return new CgmError('NOT_FOUND', 'this account follows nobody yet', {
    hint: 'accept the invitation of the person to follow in the vendor app first',
  });
}

/** A subject named after a login: an e-mail address never reaches a topic, a HomeKit name or a log. */
export function withoutEmail(name: string): string {
  return name.replace(/\S*@\S*/g, '').trim();
}

function shortHash(text: string): string {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0').slice(0, 4);
}

function providerLabel(provider: SourceConfig['provider']): string {
  return { dexcom: 'Dexcom', librelinkup: 'LibreLinkUp', nightscout: 'Nightscout', vitadock: 'VitaDock' }[
    provider
  ];
}

/** The follower reports a stop itself (once, with the hint and the way out); the poller's own line is debug. */
function quietLogger(logger: Logger): Logger {
  return { ...logger, error: (message) => logger.debug(message) };
}
