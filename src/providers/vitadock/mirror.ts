import type { AnyRecord } from './schemas';

/** What one `/sync` round changed. */
export interface MirrorChange<R extends AnyRecord> {
  upserted: R[];
  deletedIds: string[];
}

/**
 * The local copy of one module kept current through `/sync` (reference §2.3): records by id, the
 * newest `updatedDate` seen as the cursor, `active:false` as a deletion. Old records are pruned so a
 * long-running bridge stays small.
 */
export class ModuleMirror<R extends AnyRecord = AnyRecord> {
  private readonly records = new Map<string, R>();
  private newestUpdate: number | undefined;

  /** The `updatedDate` to sync from, or undefined before the first sync. */
  get cursor(): number | undefined {
    return this.newestUpdate;
  }

  apply(records: R[]): MirrorChange<R> {
    const change: MirrorChange<R> = { upserted: [], deletedIds: [] };
    for (const record of records) {
      this.newestUpdate = Math.max(this.newestUpdate ?? 0, record.updatedDate);
      const known = this.records.get(record.id);
      if (!record.active) {
        if (known) change.deletedIds.push(record.id);
        this.records.delete(record.id);
        continue;
      }
      // The overlap re-reads records; only a new version is a change.
      if (known && known.updatedDate === record.updatedDate && known.version === record.version) continue;
      this.records.set(record.id, record);
      change.upserted.push(record);
    }
    return change;
  }

  /** Marks the first sync done even when it found nothing, so the next one starts from here. */
  touch(at: number): void {
    if (this.newestUpdate === undefined) this.newestUpdate = at;
  }

  /** The record measured last, if any. */
  newest(): R | undefined {
    let newest: R | undefined;
    for (const record of this.records.values()) {
      if (!newest || record.measurementDate > newest.measurementDate) newest = record;
    }
    return newest;
  }

  prune(before: number): void {
    for (const [id, record] of this.records) if (record.measurementDate < before) this.records.delete(id);
  }

  get size(): number {
    return this.records.size;
  }
}
