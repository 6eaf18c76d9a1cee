import { createHash } from 'node:crypto';
import type { API, CharacteristicValue, PlatformAccessory, Service } from 'homebridge';
import { classify } from '../src/follow/classify';
import type { SubjectState } from '../src/follow/subject-state';
import type { CgmError } from '../src/model/errors';
import { valueIn, type GlucoseReading, type GlucoseUnit, type ProviderId } from '../src/model/reading';
import { VERSION } from '../src/version';
import type { Thresholds } from './config';

type HAP = API['hap'];

/** What a cached accessory remembers across restarts: no login, no secret. */
export interface GlucoseContext {
  provider: ProviderId;
  /** The account it came from (see accountKey in config.ts). */
  accountKey: string;
  /** A hash of the subject id, shown as the serial number. */
  subjectKey: string;
}

export interface DisplaySettings {
  units: GlucoseUnit;
  thresholds: Thresholds;
}

/** HomeKit's range of CurrentAmbientLightLevel: 0 is refused, so a value never goes below the minimum. */
export const MIN_LUX = 0.0001;
export const MAX_LUX = 100_000;

const MODELS: Record<ProviderId, string> = {
  dexcom: 'Dexcom Share',
  librelinkup: 'LibreLinkUp',
  nightscout: 'Nightscout',
  vitadock: 'VitaDock',
};

type AlertOf = (reading: GlucoseReading, thresholds: Thresholds) => boolean;

/** The three alert sensors: subtype, the name Home shows, and when each is on (the core's `classify`). */
const ALERTS: readonly { subtype: string; name: string; on: AlertOf }[] = [
  { subtype: 'urgentLow', name: 'Urgent low', on: (r, t) => classify(r, t).urgentLow },
  { subtype: 'low', name: 'Low', on: (r, t) => classify(r, t).low },
  { subtype: 'high', name: 'High', on: (r, t) => classify(r, t).high },
];

export function subjectKey(provider: ProviderId, subjectId: string): string {
  return createHash('sha256').update(`${provider}:${subjectId}`).digest('hex').slice(0, 12);
}

/** The glucose value as HomeKit accepts it in a Light Sensor. */
export function luxFor(reading: GlucoseReading, units: GlucoseUnit): number {
  return Math.min(MAX_LUX, Math.max(MIN_LUX, valueIn(reading, units)));
}

/** HomeKit names must start and end with a letter or digit; keep what people wrote otherwise. */
export function homeKitName(name: string): string {
  const cleaned = name
    .replace(/[^\p{L}\p{N} '.,-]/gu, ' ')
    .replace(/\s+/g, ' ')
    .replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
  return cleaned || 'Glucose';
}

/**
 * One person's glucose in Apple Home: a Light Sensor carrying the value, occupancy sensors for urgent
 * low, low and high, and fault flags. Values are pushed as readings arrive; gets answer from memory.
 */
export class GlucoseAccessory {
  private reading: GlucoseReading | undefined;
  private stale = false;
  private failure: CgmError | undefined;
  private readonly light: Service;
  private readonly alerts: { service: Service; on: AlertOf }[];

  constructor(
    private readonly hap: HAP,
    readonly accessory: PlatformAccessory<GlucoseContext>,
    private settings: DisplaySettings,
  ) {
    const { Service: S, Characteristic: C } = hap;
    const context = accessory.context;
    accessory
      .getService(S.AccessoryInformation)
      ?.setCharacteristic(C.Manufacturer, 'GlucoBridge')
      .setCharacteristic(C.Model, MODELS[context.provider] ?? context.provider)
      .setCharacteristic(C.SerialNumber, context.subjectKey)
      .setCharacteristic(C.FirmwareRevision, VERSION.replace(/[^0-9.].*$/, ''));

    this.light = this.service(S.LightSensor, 'Glucose', 'glucose');
    this.light.setPrimaryService(true);
    this.light.getCharacteristic(C.CurrentAmbientLightLevel).onGet(() => this.lux());
    this.alerts = ALERTS.map((alert) => {
      const service = this.service(S.OccupancySensor, alert.name, alert.subtype);
      service.getCharacteristic(C.OccupancyDetected).onGet(() => this.occupancy(alert.on));
      return { service, on: alert.on };
    });
    for (const service of [this.light, ...this.alerts.map((a) => a.service)]) {
      service.getCharacteristic(C.StatusActive).onGet(() => !this.faulty);
      service.getCharacteristic(C.StatusFault).onGet(() => this.faultValue());
    }
    this.pushStatus();
  }

  get uuid(): string {
    return this.accessory.UUID;
  }

  get last(): GlucoseReading | undefined {
    return this.reading;
  }

  get faulty(): boolean {
    return this.stale || this.failure !== undefined;
  }

  /** A new reading: older ones (a late backfill) never replace a newer one. */
  show(reading: GlucoseReading): void {
    if (this.reading && reading.time.getTime() < this.reading.time.getTime()) return;
    this.reading = reading;
    const C = this.hap.Characteristic;
    this.light.updateCharacteristic(C.CurrentAmbientLightLevel, luxFor(reading, this.settings.units));
    for (const alert of this.alerts) {
      alert.service.updateCharacteristic(
        C.OccupancyDetected,
        this.occupancyValue(alert.on(reading, this.settings.thresholds)),
      );
    }
  }

  /** The person's own limits (the follower's, e.g. from their cloud with `thresholds: "cloud"`). */
  setThresholds(thresholds: Thresholds): void {
    const t = this.settings.thresholds;
    if (t.urgentLow === thresholds.urgentLow && t.low === thresholds.low && t.high === thresholds.high)
      return;
    this.settings = { ...this.settings, thresholds: { ...thresholds } };
    if (this.reading) this.show(this.reading);
  }

  /** The unit or thresholds changed (the accessory moved to another account). */
  setDisplay(settings: DisplaySettings): void {
    this.settings = { units: settings.units, thresholds: settings.thresholds };
    if (this.reading) this.show(this.reading);
  }

  setStale(stale: boolean): void {
    if (this.stale === stale) return;
    this.stale = stale;
    this.pushStatus();
  }

  /**
   * The person's state as the follower has it: stale data, or a problem that keeps readings away (a
   * refused or locked account, a person no longer shared) is a fault; a passing server error while the
   * data is fresh is not.
   */
  setStatus(subject: Pick<SubjectState, 'stale' | 'problem'>): void {
    this.setStale(subject.stale);
    const problem = subject.problem;
    this.setFailure(problem && !problem.retryable ? problem : undefined);
  }

  /** The account failed (`undefined` once it works again). */
  setFailure(error: CgmError | undefined): void {
    if (this.failure === error) return;
    this.failure = error;
    this.pushStatus();
  }

  private service(
    type: typeof Service.LightSensor | typeof Service.OccupancySensor,
    name: string,
    subtype: string,
  ): Service {
    const { Characteristic: C } = this.hap;
    const existing = this.accessory.getServiceById(type, subtype);
    if (existing) return existing;
    const service = this.accessory.addService(type, name, subtype);
    // Home shows ConfiguredName for extra services; set once so a name chosen in Home is kept.
    service.addOptionalCharacteristic(C.ConfiguredName);
    service.setCharacteristic(C.ConfiguredName, name);
    return service;
  }

  private lux(): number {
    return luxFor(this.known(), this.settings.units);
  }

  private occupancy(on: AlertOf): CharacteristicValue {
    return this.occupancyValue(on(this.known(), this.settings.thresholds));
  }

  private occupancyValue(on: boolean): number {
    const O = this.hap.Characteristic.OccupancyDetected;
    return on ? O.OCCUPANCY_DETECTED : O.OCCUPANCY_NOT_DETECTED;
  }

  /** The reading to answer with; with none yet, HomeKit shows "No Response" rather than a made-up value. */
  private known(): GlucoseReading {
    if (!this.reading) throw new this.hap.HapStatusError(this.hap.HAPStatus.SERVICE_COMMUNICATION_FAILURE);
    return this.reading;
  }

  private faultValue(): number {
    const F = this.hap.Characteristic.StatusFault;
    return this.faulty ? F.GENERAL_FAULT : F.NO_FAULT;
  }

  private pushStatus(): void {
    const C = this.hap.Characteristic;
    for (const service of [this.light, ...this.alerts.map((a) => a.service)]) {
      service.updateCharacteristic(C.StatusActive, !this.faulty);
      service.updateCharacteristic(C.StatusFault, this.faultValue());
    }
  }
}
