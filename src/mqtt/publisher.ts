import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { Redactor } from '../http/redact';
import { CgmError } from '../model/errors';
import { silentLogger, type Logger } from '../model/logger';
import type { Measurement } from '../model/measurement';
import type { GlucoseReading } from '../model/reading';
import type { GlucoseStatistics } from '../stats/statistics';
import { bridgeDiscoveryMessages, bridgeStateMessages, type BridgeStatus } from './bridge';
import {
  discoveryMessages,
  removalMessages,
  type BridgeInfo,
  type DiscoveryLayout,
  type DiscoveryOptions,
} from './discovery';
import { JobQueue, type Job } from './queue';
import { LEAF, measurementMessages, problemMessages, stateMessages } from './state';
import type { SensorStatus } from '../model/sensor';
import {
  DISCOVERABLE_KINDS,
  validateSubject,
  type DiscoverableKind,
  type SubjectDescriptor,
} from './subject';
import { planSync, scanFilters } from './sync';
import {
  BRIDGE_KEY,
  resolveTopics,
  retained,
  subjectTopic,
  type MqttMessage,
  type TopicOptions,
  type Topics,
} from './topics';

export interface MqttPublisherOptions extends TopicOptions {
  /** `mqtt://host:1883`, `mqtts://…`, `ws://…` or `wss://…`. */
  url: string;
  username?: string;
  password?: string;
  clientId?: string;
  logger?: Logger;
  /** Readings and measurements kept while the broker is away; the oldest go first. Default 10 000. */
  queueLimit?: number;
  /** QoS 1 messages sent ahead of their acknowledgements (a broker far away costs one round trip per window). Default 64. */
  maxInFlight?: number;
  /** First reconnect delay; it doubles per failed attempt up to `maxReconnectPeriodMs`. Default 1 s. */
  reconnectPeriodMs?: number;
  /** Default 60 s. */
  maxReconnectPeriodMs?: number;
  /** How long one connection attempt may take. Default 10 s. */
  connectTimeoutMs?: number;
  /** After Home Assistant's birth message, discovery is re-sent after a random delay up to this. Default 5 s. */
  birthDelayMs?: number;
  /** How long to collect retained topics after subscribing, on each connect. Default 1 s. */
  scanWindowMs?: number;
  /** How long `stop()` waits for queued messages before it cuts the connection. Default 4 s. */
  stopTimeoutMs?: number;
  /** Home Assistant discovery layout: `entity` (default, one config per entity) or `device` (HA ≥ 2024.11). */
  discovery?: DiscoveryLayout;
  /**
   * Publish the bridge device too ("GlucoBridge bridge" with connection state, accounts and last error),
   * and link every person's device to it with `via_device`. A host passes `{}` for a plain bridge, or
   * `{ model, configurationUrl }`: `model` names the host (`Stand-alone bridge`, `Homebridge plugin`),
   * `configurationUrl` is the http(s) address of its status page. It then reports its own state with
   * `updateBridgeState` (accounts configured, the last account error). Without it no bridge device is
   * published, and one left on the broker by an earlier run is removed once `retainSubjects` was called.
   */
  bridge?: BridgeInfo;
  /** For tests: the clock (stale detection) and the source of jitter. */
  now?: () => number;
  random?: () => number;
}

interface SubjectState {
  descriptor: SubjectDescriptor;
  last?: GlucoseReading;
  previous?: GlucoseReading;
  stale: boolean;
  /** The person's sensor as of the last reading published (LibreLinkUp). */
  sensor?: SensorStatus | undefined;
  /** The statistics last given, rendered into every state JSON. */
  statistics?: GlucoseStatistics | undefined;
  /** The problem payload last queued, so a repeated error is not re-sent every poll. */
  problem?: string;
}

/** One established connection; `closed` settles when it ends. */
interface Connection {
  client: MqttClient;
  closed: Promise<'closed'>;
  isClosed: boolean;
  markClosed: () => void;
}

type SendResult = 'ok' | 'closed';

const PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:', 'ws:', 'wss:']);

/**
 * Publishes readings, measurements and account problems to an MQTT broker, with Home Assistant
 * discovery. One sender works through one queue, so messages reach the broker in the order they were
 * given, with up to `maxInFlight` QoS 1 messages awaiting their acknowledgements (a broker 20 ms away
 * still takes thousands a second). While the broker is away, readings wait in the bounded queue and
 * the client reconnects with backoff; what was not acknowledged is sent again, in order. Every new
 * connection starts with a sync: `online`, then (while readings already flow) a short look at the
 * retained topics, then whatever discovery and data the broker lacks, and clears of what is no longer ours.
 */
export class MqttPublisher {
  private readonly topics: Topics;
  /** The same topics in the form the message builders take, with the layout and bridge. */
  private readonly topicOptions: DiscoveryOptions;
  private readonly log: Logger;
  private readonly redactor = new Redactor();
  private readonly queue: JobQueue;
  private readonly subjects = new Map<string, SubjectState>();
  /**
   * Retained status topics acknowledged by the broker (the account's problem), per topic: what a sync
   * restores if the broker lost it. Readings and measurements are not kept here: publishing one again
   * would deliver it to every subscriber a second time, as if it were new (one delivery per reading).
   */
  private readonly published = new Map<string, { key: string; payload: string }>();
  private keep: Set<string> | undefined;
  /** A sync is queued or scanning: it will publish the discovery of every subject registered by then. */
  private syncPending = false;
  /** The bridge state payload last queued. */
  private bridgeState: string | undefined;

  private client: MqttClient | undefined;
  private connection: Connection | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;
  private failures = 0;
  private outageStartedAt: number | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private birthTimer: NodeJS.Timeout | undefined;
  /** Messages published on this connection and not acknowledged yet. */
  private inFlight = 0;
  private readonly maxInFlight: number;
  /** Unacknowledged messages per job being sent. */
  private readonly unacked = new Map<Job, number>();
  /** The job whose messages are being published (the window filled up half-way through it). */
  private current: (Job & { type: 'messages' }) | undefined;
  /** The sync is about to plan: nothing new is published until what is in flight is acknowledged. */
  private barrier = false;
  private barrierWaiter: (() => void) | undefined;
  private pumping = false;
  /** A sync is under way on this connection. */
  private syncing = false;
  /** Retained messages acknowledged since the sync began: the broker holds them, whatever the look saw. */
  private sentDuringSync: Map<string, string> | undefined;
  private dropped = 0;
  private scan: Map<string, string> | undefined;
  private idleWaiters: (() => void)[] = [];
  private firstAttempt: (() => void) | undefined;

  private readonly options: Required<
    Pick<
      MqttPublisherOptions,
      | 'reconnectPeriodMs'
      | 'maxReconnectPeriodMs'
      | 'connectTimeoutMs'
      | 'birthDelayMs'
      | 'scanWindowMs'
      | 'stopTimeoutMs'
      | 'now'
      | 'random'
    >
  >;

  constructor(private readonly config: MqttPublisherOptions) {
    this.topics = resolveTopics(config);
    this.topicOptions = {
      baseTopic: this.topics.base,
      discoveryPrefix: this.topics.discoveryPrefix,
      layout: config.discovery ?? 'entity',
      ...(config.bridge ? { bridge: config.bridge } : {}),
    };
    // A bad configuration URL is a CONFIG error now rather than a failed sync later.
    if (config.bridge) bridgeDiscoveryMessages(config.bridge, this.topicOptions);
    this.log = config.logger ?? silentLogger;
    this.queue = new JobQueue(config.queueLimit ?? 10_000);
    this.maxInFlight = Math.max(1, Math.floor(config.maxInFlight ?? 64));
    this.options = {
      reconnectPeriodMs: config.reconnectPeriodMs ?? 1_000,
      maxReconnectPeriodMs: config.maxReconnectPeriodMs ?? 60_000,
      connectTimeoutMs: config.connectTimeoutMs ?? 10_000,
      birthDelayMs: config.birthDelayMs ?? 5_000,
      scanWindowMs: config.scanWindowMs ?? 1_000,
      stopTimeoutMs: config.stopTimeoutMs ?? 4_000,
      now: config.now ?? Date.now,
      random: config.random ?? Math.random,
    };
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new CgmError('CONFIG', 'The MQTT url is not a URL.', { hint: 'Write it as mqtt://host:1883.' });
    }
    if (!PROTOCOLS.has(url.protocol)) {
      throw new CgmError('CONFIG', `The MQTT url must start with mqtt://, mqtts://, ws:// or wss://.`, {
        hint: 'Write it as mqtt://host:1883.',
      });
    }
    this.redactor.add(config.password, config.username, decodeURIComponent(url.password), url.username);
  }

  /** The broker without credentials, for log lines. */
  get brokerUrl(): string {
    const url = new URL(this.config.url);
    url.username = '';
    url.password = '';
    return url.toString();
  }

  get connected(): boolean {
    return this.connection !== undefined;
  }

  /**
   * Connects and keeps reconnecting until `stop()`. Resolves after the first attempt, whether it
   * reached the broker or not: a broker that is down is logged and retried, never thrown.
   */
  start(): Promise<void> {
    if (this.started) return Promise.resolve();
    this.started = true;
    return new Promise((resolve) => {
      this.firstAttempt = resolve;
      this.connect();
    });
  }

  /**
   * Publishes `offline`, sends what is queued, and disconnects, within `stopTimeoutMs` plus half a
   * second. Readings still queued after that are lost (and counted in a warning).
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** Registers a subject (or updates it) and publishes its discovery. Throws CONFIG for a bad descriptor. */
  addSubject(descriptor: SubjectDescriptor): void {
    validateSubject(descriptor);
    const existing = this.subjects.get(descriptor.key);
    if (existing && JSON.stringify(existing.descriptor) === JSON.stringify(descriptor)) return;
    if (existing) existing.descriptor = descriptor;
    else this.subjects.set(descriptor.key, { descriptor, stale: false });
    // While disconnected, or while a sync is still to look at the broker, that sync publishes it (once).
    if (this.connection && !this.syncPending)
      this.enqueueControl(discoveryMessages(descriptor, this.topicOptions), `discovery:${descriptor.key}`);
  }

  /** Forgets a subject and removes its entities and retained data from the broker. */
  removeSubject(key: string): void {
    const state = this.subjects.get(key);
    if (!state) return;
    this.subjects.delete(key);
    this.queue.dropKey(key);
    for (const [topic, entry] of this.published) if (entry.key === key) this.published.delete(topic);
    this.enqueueControl(removalMessages(state.descriptor, this.topicOptions), `removal:${key}`);
  }

  /**
   * Declares the complete set of configured subjects. Registered subjects not in it are removed, and
   * from now on each connection also clears retained topics of any other subject left on the broker by
   * an earlier run (an account deleted from the configuration while the bridge was stopped).
   */
  retainSubjects(keys: Iterable<string>): void {
    this.keep = new Set(keys);
    for (const key of [...this.subjects.keys()]) if (!this.keep.has(key)) this.removeSubject(key);
    // A sync still to plan reads the set then; otherwise one more look at the broker clears the rest.
    if (this.connection && !this.syncPending) {
      this.syncPending = true;
      this.push({ type: 'sync' });
    }
  }

  /**
   * A new reading, rendered with what the subject's state knows (`previous` for the delta, `stale`);
   * without it, the previous reading published and not stale. Older-or-equal readings than the last one
   * published are ignored: retained state only moves forward.
   */
  publishReading(
    key: string,
    reading: GlucoseReading,
    status: {
      previous?: GlucoseReading | undefined;
      stale?: boolean;
      sensor?: SensorStatus | undefined;
      statistics?: GlucoseStatistics | undefined;
    } = {},
  ): void {
    const state = this.subjectFor(key, 'reading');
    if (!state) return;
    if (state.last && reading.time.getTime() <= state.last.time.getTime()) {
      this.log.debug(`MQTT: reading of ${key} at ${reading.time.toISOString()} is not newer; not published`);
      return;
    }
    const previous = 'previous' in status ? status.previous : state.last;
    const stale = status.stale ?? false;
    state.sensor = status.sensor;
    if (status.statistics) state.statistics = status.statistics;
    const messages = stateMessages(
      state.descriptor,
      reading,
      previous,
      { stale, sensor: state.sensor, statistics: state.statistics },
      this.topicOptions,
    );
    state.previous = previous;
    state.last = reading;
    state.stale = stale;
    this.push({ type: 'messages', messages, droppable: true, key, next: 0 });
    // A reading proves the account works: clears a problem left retained by an earlier run, and
    // gives the problem entity a state instead of "unknown".
    if (state.problem === undefined) this.publishProblem(key, null);
  }

  /**
   * Marks the last reading as stale (or fresh again) in the JSON state. The plain glucose topic is left
   * alone so Home Assistant's `expire_after` still counts from the last real reading.
   */
  publishStale(key: string, stale = true): void {
    const state = this.subjectFor(key, 'stale flag');
    if (!state?.last || state.stale === stale) return;
    state.stale = stale;
    this.republishState(key, state);
  }

  /**
   * A person's statistics changed without a new reading (the window slid, the cloud's history came):
   * the JSON state is sent again with them (only that topic). Unchanged statistics send nothing.
   */
  publishStatistics(key: string, statistics: GlucoseStatistics): void {
    const state = this.subjectFor(key, 'statistics');
    if (!state || JSON.stringify(state.statistics) === JSON.stringify(statistics)) return;
    state.statistics = statistics;
    this.republishState(key, state);
  }

  private republishState(key: string, state: SubjectState): void {
    if (!state.last) return;
    const messages = stateMessages(
      state.descriptor,
      state.last,
      state.previous,
      { stale: state.stale, sensor: state.sensor, statistics: state.statistics },
      this.topicOptions,
    ).filter((m) => m.topic === subjectTopic(this.topics, key, LEAF.state));
    this.enqueueControl(messages, `state:${key}`, key);
  }

  /** The account's current error, or `null` when it works again; repeats of the same are not re-sent. */
  publishProblem(key: string, error: CgmError | null): void {
    const state = this.subjectFor(key, 'problem');
    if (!state) return;
    const messages = problemMessages(state.descriptor, error, this.topicOptions);
    const payload = messages[0]?.payload;
    if (payload === state.problem) return;
    state.problem = payload;
    this.enqueueControl(messages, `problem:${key}`, key);
  }

  /** A non-glucose measurement; a kind with entities that the subject did not list yet is added to it. */
  publishMeasurement(key: string, measurement: Measurement): void {
    const state = this.subjectFor(key, 'measurement');
    if (!state) return;
    const kinds = state.descriptor.measurementKinds ?? [];
    if (
      DISCOVERABLE_KINDS.includes(measurement.kind as DiscoverableKind) &&
      !kinds.includes(measurement.kind)
    ) {
      this.addSubject({ ...state.descriptor, measurementKinds: [...kinds, measurement.kind] });
    }
    const messages = measurementMessages(state.descriptor, measurement, this.topicOptions);
    this.push({ type: 'messages', messages, droppable: true, key, next: 0 });
  }

  /**
   * The bridge's own state on `<base>/bridge/state` (retained): the accounts configured and the last
   * account error (null once the host considers it over). Only with the `bridge` option; repeats of
   * the same state are not re-sent.
   */
  updateBridgeState(status: BridgeStatus): void {
    if (!this.config.bridge) {
      this.log.warn('MQTT: bridge state ignored (the publisher was not given the bridge option)');
      return;
    }
    const messages = bridgeStateMessages(status, this.topicOptions);
    const payload = messages[0]?.payload;
    if (payload === this.bridgeState) return;
    this.bridgeState = payload;
    this.enqueueControl(messages, 'bridge-state');
  }

  /** Resolves true once connected with nothing left to send, false if that takes longer than `timeoutMs`. */
  async flush(timeoutMs = 5_000): Promise<boolean> {
    if (this.connection && this.queue.length === 0 && this.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([idle, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Readings and measurements waiting for the broker. */
  get pending(): number {
    return this.queue.pendingData;
  }

  // --- connection --------------------------------------------------------------------------------

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.stopping) return;
    let client: MqttClient;
    try {
      client = connect(this.config.url, {
        clientId: this.config.clientId ?? `glucobridge_${randomBytes(4).toString('hex')}`,
        // Only when given: an explicit undefined would override credentials written in the URL.
        ...(this.config.username === undefined ? {} : { username: this.config.username }),
        ...(this.config.password === undefined ? {} : { password: this.config.password }),
        clean: true,
        // We reconnect ourselves, with backoff, on a fresh client: see onClose.
        reconnectPeriod: 0,
        connectTimeout: this.options.connectTimeoutMs,
        resubscribe: false,
        will: { topic: this.topics.availability, payload: Buffer.from('offline'), qos: 1, retain: true },
      });
    } catch (error) {
      this.onFailure(error);
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    let wasConnected = false;
    client.on('connect', () => {
      wasConnected = true;
      this.onConnect(client);
    });
    client.on('message', (topic, payload, packet) =>
      this.onMessage(topic, payload.toString('utf8'), packet.retain),
    );
    client.on('error', (error) => {
      if (!wasConnected) this.onFailure(error);
      else this.log.debug(`MQTT: ${this.redactor.clean(error.message)}`);
    });
    client.once('close', () => this.onClose(client, wasConnected));
  }

  private onConnect(client: MqttClient): void {
    let resolveClosed: (value: 'closed') => void = () => undefined;
    const connection: Connection = {
      client,
      isClosed: false,
      closed: new Promise((resolve) => {
        resolveClosed = resolve;
      }),
      markClosed: () => {
        connection.isClosed = true;
        resolveClosed('closed');
      },
    };
    this.connection = connection;
    const outage =
      this.outageStartedAt === undefined ? '' : ` after ${this.secondsSince(this.outageStartedAt)} s`;
    this.log.info(`MQTT: connected to ${this.brokerUrl}${outage}; ${this.queue.pendingData} queued`);
    this.failures = 0;
    this.outageStartedAt = undefined;
    this.queue.dropSyncs();
    this.syncPending = true;
    this.queue.pushFront({ type: 'sync' });
    this.settleFirstAttempt();
    this.kick();
  }

  private onFailure(error: unknown): void {
    this.failures += 1;
    this.outageStartedAt ??= this.options.now();
    const message = this.redactor.clean(error instanceof Error ? error.message : String(error));
    // One warning per outage; the retries are debug lines.
    if (this.failures === 1) {
      this.log.warn(`MQTT: cannot reach ${this.brokerUrl} (${message}); retrying, readings are queued`);
    } else {
      this.log.debug(`MQTT: attempt ${this.failures} failed (${message})`);
    }
  }

  private onClose(client: MqttClient, wasConnected: boolean): void {
    if (this.client === client) this.client = undefined;
    if (this.connection?.client === client) {
      this.connection.markClosed();
      this.connection = undefined;
      this.scan = undefined;
      if (!this.stopping) {
        this.outageStartedAt = this.options.now();
        this.log.warn(`MQTT: lost the connection to ${this.brokerUrl}; reconnecting, readings are queued`);
      }
    } else if (!wasConnected && this.failures === 0) {
      this.onFailure(new Error('connection closed'));
    }
    // What was in flight is sent again on the next connection, from the first unacknowledged message.
    this.inFlight = 0;
    this.current = undefined;
    this.barrier = false;
    this.barrierWaiter = undefined;
    this.syncing = false;
    this.sentDuringSync = undefined;
    this.unacked.clear();
    this.queue.release();
    client.end(true);
    this.settleFirstAttempt();
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopping || this.reconnectTimer) return;
    const { reconnectPeriodMs, maxReconnectPeriodMs, random } = this.options;
    const exponent = Math.min(Math.max(this.failures - 1, 0), 16);
    const ceiling = Math.min(reconnectPeriodMs * 2 ** exponent, maxReconnectPeriodMs);
    const delay = Math.round(ceiling * (0.5 + random() * 0.5));
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private onMessage(topic: string, payload: string, retain: boolean): void {
    if (topic === this.topics.homeAssistantStatus) {
      // A retained birth is replayed when the sync subscribes, and the sync covers that moment. Outside
      // the sync the retain flag proves nothing: some brokers (aedes) keep it on live messages.
      if (payload === 'online' && !(this.scan && retain)) this.scheduleRediscovery();
      return;
    }
    if (this.scan && retain) this.scan.set(topic, payload);
  }

  /** Home Assistant (re)started: resend discovery after a random delay so bridges do not answer at once. */
  private scheduleRediscovery(): void {
    if (this.birthTimer || this.stopping) return;
    const delay = Math.round(this.options.random() * this.options.birthDelayMs);
    this.birthTimer = setTimeout(() => {
      this.birthTimer = undefined;
      this.log.info('MQTT: Home Assistant came online; re-sending discovery');
      if (this.config.bridge)
        this.enqueueControl(
          bridgeDiscoveryMessages(this.config.bridge, this.topicOptions),
          'discovery:bridge',
        );
      for (const state of this.subjects.values()) {
        this.enqueueControl(
          discoveryMessages(state.descriptor, this.topicOptions),
          `discovery:${state.descriptor.key}`,
        );
      }
    }, delay);
  }

  private settleFirstAttempt(): void {
    this.firstAttempt?.();
    this.firstAttempt = undefined;
  }

  // --- sending -----------------------------------------------------------------------------------

  private subjectFor(key: string, what: string): SubjectState | undefined {
    const state = this.subjects.get(key);
    if (!state) this.log.warn(`MQTT: ${what} for unknown subject "${key}" ignored (addSubject first)`);
    return state;
  }

  private enqueueControl(messages: MqttMessage[], tag: string, key?: string): void {
    const job: Job = { type: 'messages', messages, droppable: false, tag, next: 0 };
    if (key !== undefined) job.key = key;
    this.push(job);
  }

  private push(job: Job): void {
    if (this.stopping && job.type === 'messages' && job.droppable) {
      this.log.warn('MQTT: stopping; a late reading is not published');
      return;
    }
    const { dropped } = this.queue.push(job);
    if (dropped > 0) {
      if (this.dropped === 0) {
        this.log.warn(`MQTT: queue full (${this.config.queueLimit ?? 10_000}); dropping the oldest readings`);
      }
      this.dropped += dropped;
    }
    this.kick();
  }

  /**
   * Publishes what the queue holds, in order, keeping up to `maxInFlight` QoS 1 messages unacknowledged
   * at once (mqtt.js tracks each one; one TCP connection keeps them in order). Synchronous: it starts
   * publications and returns; acknowledgements call it again.
   */
  private kick(): void {
    const connection = this.connection;
    if (!connection || this.pumping) return;
    this.pumping = true;
    try {
      while (!this.barrier && this.inFlight < this.maxInFlight) {
        const waiting = this.current ? undefined : this.queue.peek();
        const unsettled = this.syncing || this.inFlight > 0;
        if (unsettled && waiting?.type === 'messages' && waiting.settled === true) break;
        const job = this.current ?? this.queue.take();
        if (!job) break;
        if (job.type === 'sync') {
          this.current = undefined;
          this.startSync(connection, job);
          continue;
        }
        this.current = job;
        while (job.next < job.messages.length && this.inFlight < this.maxInFlight && !this.barrier) {
          const index = job.next;
          job.next += 1;
          if (job.acked?.[index] === true) continue;
          const message = job.messages[index];
          if (message) this.publish(connection, message, job, index);
        }
        if (job.next < job.messages.length) break;
        this.current = undefined;
        this.finishIfAcked(job);
      }
    } catch (error) {
      // Never let one bad message stop the sender; it is logged and the queue goes on.
      this.log.error(`MQTT: ${this.redactor.clean(error instanceof Error ? error.message : String(error))}`);
    } finally {
      this.pumping = false;
    }
    this.checkIdle();
  }

  /** One message on its way; its acknowledgement (or failure) counts it off and moves the queue on. */
  private publish(
    connection: Connection,
    message: MqttMessage,
    job: (Job & { type: 'messages' }) | undefined,
    index: number,
  ): void {
    this.inFlight += 1;
    if (job) this.unacked.set(job, (this.unacked.get(job) ?? 0) + 1);
    const settle = (error: Error | undefined) => {
      // A connection that ended released its jobs: what it still owed is sent again on the next one.
      if (this.connection !== connection || connection.isClosed) return;
      this.inFlight -= 1;
      if (error) {
        // Logged and skipped, as a broker's refusal of one message must not stop the others.
        this.log.error(`MQTT: publishing to ${message.topic} failed: ${this.redactor.clean(error.message)}`);
      } else {
        this.remember(message);
        // The sync's look may have missed it (live messages come without the retain flag).
        if (message.retain) this.sentDuringSync?.set(message.topic, message.payload);
      }
      if (job) {
        (job.acked ??= [])[index] = true;
        this.unacked.set(job, (this.unacked.get(job) ?? 1) - 1);
        if (this.current !== job) this.finishIfAcked(job);
      }
      if (this.barrier && this.inFlight === 0) this.barrierWaiter?.();
      this.kick();
    };
    try {
      connection.client.publish(
        message.topic,
        message.payload,
        { qos: message.qos, retain: message.retain },
        (error) => settle(error),
      );
    } catch (error) {
      settle(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** A job whose every message is out and acknowledged leaves the queue. */
  private finishIfAcked(job: Job & { type: 'messages' }): void {
    if (job.next < job.messages.length || (this.unacked.get(job) ?? 0) > 0) return;
    this.unacked.delete(job);
    this.queue.done(job);
  }

  private checkIdle(): void {
    if (!this.connection || this.queue.length > 0 || this.inFlight > 0) return;
    this.reportDropped();
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private reportDropped(): void {
    if (this.dropped === 0) return;
    this.log.warn(`MQTT: ${this.dropped} readings were dropped while the broker was unreachable`);
    this.dropped = 0;
  }

  /**
   * Keeps the retained problem topic of registered subjects (and the bridge's state), so a sync can
   * restore them when a broker lost them. A reading's topics are not restored: a broker that forgot
   * them gets the next reading.
   */
  private remember(message: MqttMessage): void {
    if (!message.retain || !message.topic.startsWith(`${this.topics.base}/`)) return;
    const [key = '', leaf] = message.topic.slice(this.topics.base.length + 1).split('/');
    const problem = this.subjects.has(key) && leaf === LEAF.problem;
    const bridge = key === BRIDGE_KEY && this.config.bridge !== undefined;
    if (!problem && !bridge) return;
    if (message.payload === '') this.published.delete(message.topic);
    else this.published.set(message.topic, { key, payload: message.payload });
  }

  /**
   * Starts a connection: `online` first, then the subscriptions and a short look at the retained
   * topics, while readings keep flowing. When the look is over, the sender pauses until what is in
   * flight is acknowledged, and the messages that bring the broker up to date go first in the queue.
   */
  private startSync(connection: Connection, job: Job): void {
    this.syncing = true;
    this.sentDuringSync = new Map();
    this.publish(connection, retained(this.topics.availability, 'online'), undefined, 0);
    void this.runSync(connection).then(
      (result) => {
        if (result === 'closed' || this.connection !== connection) return;
        this.syncing = false;
        this.queue.done(job);
        this.kick();
      },
      (error: unknown) => {
        if (this.connection !== connection) return;
        this.barrier = false;
        this.syncing = false;
        this.sentDuringSync = undefined;
        this.log.error(
          `MQTT: ${this.redactor.clean(error instanceof Error ? error.message : String(error))}; ` +
            'publishing the discovery of every person without looking first',
        );
        // Without the look, the broker may hold all of it already: sending it again is harmless.
        this.syncPending = false;
        if (this.current) {
          this.queue.release(this.current);
          this.current = undefined;
        }
        const messages = planSync({
          topics: this.topics,
          found: new Map(),
          subjects: [...this.subjects.values()].map((s) => s.descriptor),
          published: new Map([...this.published].map(([topic, entry]) => [topic, entry.payload])),
          keep: undefined,
          layout: this.topicOptions.layout ?? 'entity',
          ...(this.config.bridge ? { bridge: this.config.bridge } : {}),
        });
        if (messages.length > 0)
          this.queue.pushFront({ type: 'messages', messages, droppable: false, next: 0 });
        this.queue.done(job);
        this.kick();
      },
    );
  }

  private async runSync(connection: Connection): Promise<SendResult> {
    const filters = scanFilters(this.topics);
    const found = new Map<string, string>();
    this.scan = found;
    try {
      const subscribed = connection.client
        .subscribeAsync({
          [this.topics.homeAssistantStatus]: { qos: 1 },
          ...Object.fromEntries(filters.map((f) => [f, { qos: 0 as const }])),
        })
        .then(() => 'ok' as const);
      if ((await Promise.race([subscribed, connection.closed])) === 'closed') return 'closed';
      const window = new Promise<'ok'>((resolve) =>
        setTimeout(() => resolve('ok'), this.options.scanWindowMs),
      );
      if ((await Promise.race([window, connection.closed])) === 'closed') return 'closed';
      const unsubscribed = connection.client.unsubscribeAsync(filters).then(() => 'ok' as const);
      if ((await Promise.race([unsubscribed, connection.closed])) === 'closed') return 'closed';
    } catch (error) {
      // A subscribe cut by the disconnect is the disconnect, not an error worth a log line.
      if (connection.isClosed) return 'closed';
      throw error;
    } finally {
      if (this.scan === found) this.scan = undefined;
    }
    // What is in flight must be acknowledged first: the plan compares the broker with what we know.
    this.barrier = true;
    if (this.inFlight > 0) {
      const settled = new Promise<'ok'>((resolve) => {
        this.barrierWaiter = () => resolve('ok');
      });
      const outcome = await Promise.race([settled, connection.closed]);
      this.barrierWaiter = undefined;
      if (outcome === 'closed') return 'closed';
    }
    const published = new Map([...this.published].map(([topic, entry]) => [topic, entry.payload]));
    for (const [topic, payload] of this.sentDuringSync ?? []) found.set(topic, payload);
    this.sentDuringSync = undefined;
    // Subjects added from here on publish their own discovery; those added before are in this plan.
    this.syncPending = false;
    const messages = planSync({
      topics: this.topics,
      found,
      subjects: [...this.subjects.values()].map((s) => s.descriptor),
      published,
      keep: this.keep,
      layout: this.topicOptions.layout ?? 'entity',
      ...(this.config.bridge ? { bridge: this.config.bridge } : {}),
    });
    const cleared = messages.filter((m) => m.payload === '').length;
    this.log.debug(
      `MQTT: sync found ${found.size} retained topics; ${messages.length} to send, ${cleared} to clear`,
    );
    // A job cut half-way by the pause goes on after the plan (its sent part went before).
    if (this.current) {
      this.queue.release(this.current);
      this.current = undefined;
    }
    if (messages.length > 0) this.queue.pushFront({ type: 'messages', messages, droppable: false, next: 0 });
    this.barrier = false;
    return 'ok';
  }

  // --- stopping ----------------------------------------------------------------------------------

  private async shutdown(): Promise<void> {
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.birthTimer);
    this.reconnectTimer = undefined;
    this.birthTimer = undefined;
    if (this.connection) {
      this.queue.push({
        type: 'messages',
        messages: [retained(this.topics.availability, 'offline')],
        droppable: false,
        next: 0,
        settled: true,
      });
      this.kick();
      const drained = await this.flush(this.options.stopTimeoutMs);
      if (!drained) this.log.warn('MQTT: stop timed out; the broker publishes our last will (offline)');
      const client = this.connection?.client;
      // A clean DISCONNECT suppresses the will, so it is only sent after `offline` went out.
      if (client && drained) await withTimeout(client.endAsync(), 500);
    }
    const lost = this.queue.pendingData;
    if (lost > 0) this.log.warn(`MQTT: stopped with ${lost} readings not published`);
    // Forced: no DISCONNECT, so the broker publishes the will if `offline` did not go out.
    this.client?.end(true);
    this.connection?.client.end(true);
    this.settleFirstAttempt();
  }

  private secondsSince(time: number): number {
    return Math.round((this.options.now() - time) / 1000);
  }
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
