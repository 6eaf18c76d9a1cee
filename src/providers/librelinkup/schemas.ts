import { z } from 'zod';

/** About 12 h at 5-minute spacing is 144 points; far more is not a real graph. */
export const MAX_GRAPH_POINTS = 2_000;
/** About 14 days of scans and alarms; far more is not a real logbook. */
export const MAX_LOGBOOK_ENTRIES = 10_000;

// Only the fields the client uses are required; everything else passes untouched, because the
// service adds fields freely and a new one must never break a reading.

/** The shape of every glucose record: current measurement, graph point, logbook entry. */
export const measurementSchema = z.object({
  FactoryTimestamp: z.string(),
  Timestamp: z.string().optional(),
  type: z.number().optional(),
  /** Judged by the reading rules (`makeReading`), which name the field when they refuse it. */
  ValueInMgPerDl: z.number(),
  /** Absent on graph points; 0 or missing means none. */
  TrendArrow: z.number().nullish(),
  MeasurementColor: z.number().optional(),
  GlucoseUnits: z.number().optional(),
  Value: z.number().optional(),
  isHigh: z.boolean().optional(),
  isLow: z.boolean().optional(),
  /** Logbook only: 0 fixed low, 1 low, 2 high. */
  alarmType: z.number().optional(),
});
export type Measurement = z.infer<typeof measurementSchema>;

export const ticketSchema = z.object({
  token: z.string().min(1),
  /** Epoch seconds. */
  expires: z.number(),
  duration: z.number().optional(),
});
export type Ticket = z.infer<typeof ticketSchema>;

/** What every answer may carry around its data. */
export const envelopeSchema = z.object({
  status: z.number().optional(),
  error: z.object({ message: z.string().optional() }).loose().optional(),
  message: z.string().optional(),
  ticket: ticketSchema.optional(),
});

const thresholdSchema = z.object({ th: z.number().optional(), on: z.boolean().optional() }).loose();

export const alarmRulesSchema = z
  .object({ h: thresholdSchema.optional(), l: thresholdSchema.optional(), f: thresholdSchema.optional() })
  .loose();

export const connectionSchema = z
  .object({
    id: z.string(),
    patientId: z.string().min(1),
    firstName: z.string().optional().default(''),
    lastName: z.string().optional().default(''),
    targetLow: z.number().optional().catch(undefined),
    targetHigh: z.number().optional().catch(undefined),
    uom: z.number().optional(),
    alarmRules: alarmRulesSchema.nullish().catch(undefined),
    /** Checked on its own (`details.ts`): a strange sensor object must not cost the patient. */
    sensor: z.unknown().optional(),
    // Checked on its own when read (a broken current value must not cost the list of patients).
    glucoseMeasurement: z.unknown().optional(),
  })
  .loose();
export type Connection = z.infer<typeof connectionSchema>;

export const connectionsResponseSchema = envelopeSchema.extend({ data: z.array(connectionSchema) });

export const graphResponseSchema = envelopeSchema.extend({
  data: z.object({
    connection: connectionSchema,
    // Points are checked one by one: a broken one is dropped, the rest still count.
    graphData: z.array(z.unknown()).max(MAX_GRAPH_POINTS).default([]),
    activeSensors: z.array(z.unknown()).nullish(),
  }),
});

export const logbookResponseSchema = envelopeSchema.extend({
  data: z.array(z.unknown()).max(MAX_LOGBOOK_ENTRIES),
});

export const notificationSettingsResponseSchema = envelopeSchema.extend({
  data: z.object({ connectionId: z.string(), alarmRules: alarmRulesSchema }).loose(),
});

/** `{"status":0,"data":{"redirect":true,"region":"eu"}}`, on login and sometimes later. */
export const redirectSchema = z.object({
  data: z.object({ redirect: z.literal(true), region: z.string() }),
});

export const stepSchema = z.object({
  type: z.string(),
  componentName: z.string().optional(),
});

/** `status: 4` at login: a document to accept or an e-mail to verify, with a short-lived step token. */
export const stepResponseSchema = z.object({
  status: z.literal(4),
  data: z.object({
    step: stepSchema,
    authTicket: ticketSchema.optional(),
  }),
});

export const loginSuccessSchema = z.object({
  status: z.literal(0),
  data: z.object({
    user: z.object({ id: z.string().min(1), country: z.string().optional() }).loose(),
    authTicket: ticketSchema,
  }),
});
export type LoginSuccess = z.infer<typeof loginSuccessSchema>;

/** The body of `status: 429` at login: `data.data.lockout` seconds. */
export const lockoutSchema = z.object({
  data: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    data: z
      .object({ failures: z.number().optional(), interval: z.number().optional(), lockout: z.number() })
      .optional(),
  }),
});

/** `status: 920` (with HTTP 403): the version header is below what the service accepts. */
export const versionTooOldSchema = z.object({
  data: z.object({ minimumVersion: z.string().optional() }).loose().optional(),
});

/** An error body of the new LLU 5 API (`{"code":5,"errors":[{"error":"…"}]}`). */
export const llu5ErrorSchema = z.object({
  code: z.number(),
  errors: z.array(z.object({ error: z.string() }).loose()),
});

/** `GET /llu/config/country` (no login needed): the app's configuration for a country. */
export const countryConfigResponseSchema = z.object({
  status: z.literal(0),
  data: z
    .object({
      MinVersion: z.string().optional(),
      regionalMap: z.record(z.string(), z.object({ lslApi: z.string() }).loose()).optional(),
    })
    .loose(),
});

/** `GET /account` (no `/llu` prefix): the logged-in user's profile. */
export const accountResponseSchema = envelopeSchema.extend({
  data: z.object({
    user: z.object({ id: z.string(), country: z.string().optional(), uom: z.string().optional() }).loose(),
  }),
});
