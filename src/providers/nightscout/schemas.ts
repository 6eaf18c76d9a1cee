// Nightscout answers as zod schemas. Shapes: `lib/server/swagger.yaml` (v1 Entry, Status, Settings),
// `lib/api3/swagger.yaml` and `lib/api3/doc/tutorial.md` (v3 wrapper and CREATE answer),
// `lib/authorization/index.js` (the token → JWT answer). Unknown extra fields are allowed everywhere:
// uploaders add their own (`noise`, `filtered`, `rssi`, `utcOffset`, `sysTime`, …).
import { z } from 'zod';

/** A number, or a number written as a string (some uploaders and older servers store strings). */
const numeric = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);

/** One entry as v1 and v3 return it; only `date` is required to consider it at all. */
export const entrySchema = z.object({
  _id: z.string().optional(),
  identifier: z.string().optional(),
  /** `sgv` (sensor), `mbg` (meter), `cal` (calibration); only `sgv` is a CGM reading. */
  type: z.string().nullish(),
  /** mg/dL, whatever unit the site displays. */
  sgv: numeric.nullish(),
  /** The instant, epoch milliseconds (never `dateString`, which uploaders write in many forms). */
  date: numeric,
  direction: z.string().nullish(),
  trend: numeric.nullish(),
  device: z.string().nullish(),
  /** v3 only: when the server stored or last changed the document (epoch ms). */
  srvModified: z.number().nullish(),
  srvCreated: z.number().nullish(),
});
export type Entry = z.output<typeof entrySchema>;

/** A list of entries: each record is judged on its own, so one bad record does not spoil the answer. */
export const entryListSchema = z.array(z.unknown());

/** The v3 wrapper of every answer: `{"status": 200, "result": …}`. */
export const v3SearchSchema = z.object({
  status: z.number().optional(),
  result: z.array(z.unknown()),
});

/** v3 CREATE: 201 `{status, identifier, lastModified}`; a deduplicated one 200 with `isDeduplication`. */
export const v3CreateSchema = z.object({
  status: z.number().optional(),
  identifier: z.string().optional(),
  lastModified: z.number().optional(),
  isDeduplication: z.boolean().optional(),
});

/** `GET /api/v2/authorization/request/<token>`: a JWT and its lifetime in seconds since the epoch. */
export const authorizationSchema = z.object({
  token: z.string().min(10),
  sub: z.string().optional(),
  iat: z.number().optional(),
  exp: z.number().optional(),
});

const threshold = numeric.optional();

/** `GET /api/v1/status.json`, the parts GlucoBridge uses. Thresholds are mg/dL (the server converts). */
export const statusSchema = z.object({
  name: z.string().optional(),
  version: z.string().optional(),
  serverTimeEpoch: z.number().optional(),
  settings: z
    .object({
      units: z.string().optional(),
      customTitle: z.string().optional(),
      thresholds: z
        .object({
          bgHigh: threshold,
          bgTargetTop: threshold,
          bgTargetBottom: threshold,
          bgLow: threshold,
        })
        .optional(),
    })
    .optional(),
});
export type StatusBody = z.output<typeof statusSchema>;

/** The error body of both APIs: `{status, message, description}`. */
export const errorBodySchema = z.object({
  status: z.number().optional(),
  message: z.string().optional(),
  description: z.string().optional(),
});
