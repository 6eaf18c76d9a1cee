import type { HttpTransport } from '../http/transport';
import type { Logger } from '../model/logger';
import type { GlucoseReading, ProviderId } from '../model/reading';
import type { SensorInfo } from '../model/sensor';

import type { Subject } from '../model/subject';
import type { LoginGate } from './login-policy';

export type { Subject };

/** What a successful login tells a host. */
export interface LoginInfo {
  provider: ProviderId;
  region: string;
  subjects: Subject[];
}

/**
 * Tokens a host may persist so that a restart does not log in again. `data` is opaque to hosts
 * and holds secrets: store it like a password, never log it.
 */
export interface SessionState {
  provider: ProviderId;
  /** Which account it belongs to (a hash of the login, never the login itself). */
  account: string;
  data: Record<string, string | number>;
}

/** How often new data appears at the provider, for the poller's schedule. */
export interface Cadence {
  /** A new stored reading every this often (Dexcom and the Libre graph: 5 minutes). */
  readingIntervalMs: number;
  /** The latest value may change this often (LibreLinkUp: every minute). */
  latestIntervalMs: number;
  /** Typical delay from measurement to availability in the cloud. */
  lagMs: number;
  /** The longest history the cloud gives. */
  maxHistoryMinutes: number;
  /**
   * A continuous sensor (Dexcom, Libre, Nightscout) is expected every few minutes, so its data goes
   * stale; a spot-check device (a VitaDock meter, scale or cuff) measures when its owner does, and never does.
   */
  continuous: boolean;
}

export type SessionListener = (state: SessionState) => void;

/**
 * Protocol versions a client adopted from the cloud, by name (LibreLinkUp: `librelinkup`, its minimum
 * app version). Hosts persist them (the state store's `versions`) and hand them back at the next start.
 */
export type AdoptedVersions = Record<string, string>;
export type VersionListener = (versions: AdoptedVersions) => void;

/** A person's own limits as the cloud keeps them, in mg/dL; each only where the cloud has one. */
export interface CloudTargets {
  urgentLow?: number;
  low?: number;
  high?: number;
}

/**
 * What a cloud says about a person besides readings, as of its last answer (LibreLinkUp's connection:
 * the sensor, the target range and the follower's alarm rules; a Nightscout site's thresholds).
 */
export interface SubjectDetails {
  /** The person's name as the cloud gives it. */
  name?: string;
  sensor?: SensorInfo;
  targets?: CloudTargets;
}

/** The provider-neutral face every adapter uses. Every method rejects only with `CgmError`. */
export interface CgmSource {
  readonly provider: ProviderId;
  readonly cadence: Cadence;
  /** Logs in (or confirms the session) and tells who can be read. */
  login(): Promise<LoginInfo>;
  /** The newest reading, or `null` when the cloud has none. */
  latest(subject?: string): Promise<GlucoseReading | null>;
  /** Readings of the last `minutes`, oldest first, one per instant. */
  history(options: { minutes: number; subject?: string }): Promise<GlucoseReading[]>;
  subjects(): Promise<Subject[]>;
  /** Called whenever the tokens worth persisting change. */
  onSession(listener: SessionListener): () => void;
  /** Called when the client adopts a protocol version the cloud asked for (persist it). */
  onVersions?(listener: VersionListener): () => void;
  /**
   * What the last answer said about a person (sensor, targets, name); no request of its own.
   * Undefined when the cloud said nothing (yet) or the source has no such details.
   */
  details?(subject: string): SubjectDetails | undefined;
  close(): Promise<void>;
}

/** What a host hands every provider client besides the account's configuration. */
export interface ClientOptions {
  logger?: Logger;
  /** Shared transport (tests inject one with a short timeout). */
  transport?: HttpTransport;
  /** Tokens persisted from an earlier run, as emitted by `onSession`. */
  session?: SessionState;
  /**
   * Decides when a password may be sent (refusals, locks, backoff). The account follower passes one
   * that survives restarts; without it the client keeps the same rules in memory.
   */
  loginGate?: LoginGate;
  /** Protocol versions adopted in an earlier run, as emitted by `onVersions`. */
  versions?: Readonly<AdoptedVersions>;
}
