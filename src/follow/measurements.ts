import type { Measurement } from '../model/measurement';
import type { Logger } from '../model/logger';
import { stopsPolling, toCgmError } from '../model/errors';

/** A source that also has non-glucose measurements (VitaDock). */
export interface MeasurementSource {
  measurements(options: { module?: string; minutes: number }): Promise<Measurement[]>;
}

export function hasMeasurements(source: object): source is MeasurementSource {
  return typeof (source as Partial<MeasurementSource>).measurements === 'function';
}

/** The modules whose measurements get Home Assistant entities: blood pressure, weight, temperature. */
export const PUBLISHED_MODULES = ['cardiodocks', 'targetscales', 'thermodocks'] as const;

const MINUTE = 60_000;
/** How far back the first look goes: the newest of each kind may be weeks old. */
const FIRST_LOOK_MINUTES = 30 * 24 * 60;

/**
 * Follows the measurement modules of one account: at start the newest of each module, then every
 * new one in order. Scales and cuffs measure a few times a day, so a 15-minute look is plenty.
 */
export class MeasurementFollower {
  private timer: NodeJS.Timeout | undefined;
  private readonly lastSeen = new Map<string, number>();
  private running = false;

  constructor(
    private readonly source: MeasurementSource,
    private readonly publish: (measurement: Measurement) => void,
    private readonly logger: Logger,
    private readonly intervalMs = 15 * MINUTE,
  ) {}

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private schedule(delay: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.look(), delay);
  }

  private async look(): Promise<void> {
    for (const module of PUBLISHED_MODULES) {
      const since = this.lastSeen.get(module);
      const minutes = since === undefined ? FIRST_LOOK_MINUTES : Math.ceil((Date.now() - since) / MINUTE) + 1;
      try {
        const found = (await this.source.measurements({ module, minutes }))
          .filter((m) => since === undefined || m.time.getTime() > since)
          .sort((a, b) => a.time.getTime() - b.time.getTime());
        const fresh = since === undefined ? found.slice(-1) : found;
        for (const measurement of fresh) this.publish(measurement);
        const newest = found.at(-1);
        if (newest) this.lastSeen.set(module, newest.time.getTime());
        else if (since === undefined) this.lastSeen.set(module, Date.now() - FIRST_LOOK_MINUTES * MINUTE);
      } catch (thrown) {
        const error = toCgmError(thrown);
        this.logger.warn(`${module}: ${error.code}: ${error.message}`);
        if (stopsPolling(error)) {
          this.running = false;
          return;
        }
      }
    }
    this.schedule(this.intervalMs);
  }
}
