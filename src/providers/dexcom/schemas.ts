import { z } from 'zod';
import { parseBody, type HttpResponse } from '../../http/transport';
import { parseDexcomDate } from './timestamp';

/** A `Date(ms±hhmm)` string, parsed (the offset kept aside, never applied). */
export const dexcomDateSchema = z.string().transform((text, ctx) => {
  const parsed = parseDexcomDate(text);
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: 'not a Dexcom Date(ms) value' });
    return z.NEVER;
  }
  return parsed;
});

/** Login answers: a JSON string holding a UUID (account id or session id). */
export const idResponseSchema = z.string();

/** One glucose record of ReadPublisherLatestGlucoseValues; unknown extra fields are ignored. */
export const glucoseRecordSchema = z
  .object({
    WT: dexcomDateSchema.optional(),
    ST: z.string().optional(),
    DT: dexcomDateSchema.optional(),
    Value: z.number(),
    // A name since late 2021, a number 0–9 before; absent or null is tolerated.
    Trend: z.union([z.string(), z.number()]).nullish(),
  })
  .refine((record) => record.WT !== undefined || record.DT !== undefined, {
    message: 'a reading needs WT or DT',
  });
export type GlucoseRecord = z.output<typeof glucoseRecordSchema>;

export const glucoseRecordsSchema = z.array(glucoseRecordSchema);

/** Business errors (usually HTTP 500). SubCode is XML or a JSON string and is never relied on. */
export const errorBodySchema = z.object({
  Code: z.string().min(1),
  Message: z.string().nullish(),
  SubCode: z.unknown().optional(),
  TypeName: z.string().nullish(),
});
export type DexcomErrorBody = z.output<typeof errorBodySchema>;

/** `{"DateTime":"/Date(ms)/","OffsetMinutes":0}`: SystemUtcTime and the dates of a subscription. */
export const dateTimeOffsetSchema = z.object({
  DateTime: dexcomDateSchema,
  OffsetMinutes: z.number(),
});

export const systemUtcTimeSchema = dateTimeOffsetSchema;

/** One follower of ListPublisherAccountSubscriptions. */
export const subscriptionSchema = z.object({
  ContactId: z.string(),
  ContactName: z.string(),
  DisplayName: z.string().nullish(),
  DateTimeCreated: dateTimeOffsetSchema.nullish(),
  DateTimeModified: dateTimeOffsetSchema.nullish(),
  InviteExpires: dateTimeOffsetSchema.nullish(),
  IsEnabled: z.boolean(),
  IsMonitoringSessionActive: z.boolean(),
  Permissions: z.number().int(),
  State: z.number().int(),
  SubscriberId: z.string().nullish(),
  SubscriptionId: z.string().nullish(),
});
export const subscriptionsSchema = z.array(subscriptionSchema);
export type SubscriptionRecord = z.output<typeof subscriptionSchema>;

/** `true`/`false` answers, as JSON or plain text (either case). */
export function booleanAnswer(response: HttpResponse, what: string): boolean {
  const text = response.text.trim().replace(/^"|"$/g, '').toLowerCase();
  const value =
    typeof response.json === 'boolean'
      ? response.json
      : text === 'true' || text === 'false'
        ? text === 'true'
        : response.json;
  return parseBody(z.boolean(), value, what);
}

/** Ids and statuses (`AssignedToYou`) come as a JSON string or as plain text. */
export function textAnswer(response: HttpResponse, what: string): string {
  const value = typeof response.json === 'string' ? response.json : response.text.trim();
  return parseBody(z.string().min(1), value, what);
}
