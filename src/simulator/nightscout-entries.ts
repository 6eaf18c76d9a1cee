// The entries a simulated Nightscout site holds: generated from its uploaders' traces (deterministic,
// appearing `lagMs` after their instant) plus what was uploaded to it.
import { createHash } from 'node:crypto';
import { entryIdentifier } from '../providers/nightscout/identifier';
import { WIRE_TREND, type NightscoutUploaderSpec } from './nightscout-sites';
import { tracePoint } from './trace';

/** An entry document as the site stores it (v1 and v3 fields). */
export type EntryDoc = Record<string, unknown> & { date: number };

/** A time window, bounds as the query gave them. */
export interface Window {
  gte?: number;
  gt?: number;
  lte?: number;
  lt?: number;
}

export function inWindow(date: number, w: Window): boolean {
  return (
    (w.gte === undefined || date >= w.gte) &&
    (w.gt === undefined || date > w.gt) &&
    (w.lte === undefined || date <= w.lte) &&
    (w.lt === undefined || date < w.lt)
  );
}

/** A MongoDB-like ObjectId: the upload time in seconds, then 16 hex digits from the content. */
export function objectId(uploadedAt: number, seed: string): string {
  const seconds = Math.floor(uploadedAt / 1000)
    .toString(16)
    .padStart(8, '0');
  return `${seconds}${createHash('sha1').update(seed).digest('hex').slice(0, 16)}`;
}

/**
 * The entries one uploader has put on the site by `now` within the window, newest first, at most
 * `limit` of them.
 */
export function uploaderEntries(
  spec: NightscoutUploaderSpec,
  window: Window,
  now: number,
  limit: number,
): EntryDoc[] {
  const out: EntryDoc[] = [];
  const step = spec.intervalMs;
  const maxOffset = Math.max(0, ...(spec.offsetsMs ?? [0]));
  const upper = Math.min(window.lte ?? Infinity, window.lt ?? Infinity, now);
  const lower = Math.max(window.gte ?? -Infinity, window.gt ?? -Infinity);
  for (let t = Math.floor(upper / step) * step; t + maxOffset >= lower && out.length < limit; t -= step) {
    const entry = uploaderEntry(spec, t);
    if (!entry) continue;
    if ((entry.srvCreated as number) > now || !inWindow(entry.date, window)) continue;
    out.push(entry);
  }
  return out;
}

/** The entry an uploader writes for the measurement at grid time `t`, or none when it skips it. */
export function uploaderEntry(spec: NightscoutUploaderSpec, t: number): EntryDoc | undefined {
  const index = Math.round(t / spec.intervalMs);
  if (spec.skipEvery && index % spec.skipEvery === 0) return undefined;
  const offsets = spec.offsetsMs ?? [0];
  const date = t + (offsets[index % offsets.length] ?? 0);
  const point = tracePoint(spec.seed, t, spec.profile ?? 'steady');
  const sgv = point.limit ? point.mgdl : Math.min(400, Math.max(40, point.mgdl + (spec.bias ?? 0)));
  const uploadedAt = date + spec.lagMs;
  const offset = spec.utcOffsetMinutes ?? 0;
  const wire = WIRE_TREND[point.trend];
  const fields = spec.trendFields ?? 'both';
  const entry: EntryDoc = {
    _id: objectId(uploadedAt, `${spec.device}@${date}`),
    device: spec.device,
    date,
    dateString: spec.zonelessDateString
      ? new Date(date + offset * 60_000).toISOString().replace(/\.\d{3}Z$/, '')
      : new Date(date).toISOString(),
    sgv,
    ...(fields === 'trend' ? {} : { direction: wire.direction }),
    ...(fields === 'direction' ? {} : { trend: wire.code }),
    type: 'sgv',
    noise: 1,
    utcOffset: offset,
    sysTime: new Date(date).toISOString(),
    identifier: entryIdentifier(spec.device, date),
    app: spec.app,
    srvCreated: uploadedAt,
    srvModified: uploadedAt,
  };
  return entry;
}
