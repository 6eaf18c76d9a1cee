import { describeIssues, sourceConfigSchema, type SourceConfig, type SourceConfigInput } from './config';
import type { z } from 'zod';
import { CgmError } from './model/errors';
import { field } from './model/fields';
import { DexcomClient } from './providers/dexcom/client';
import { LibreLinkUpClient } from './providers/librelinkup/client';
import { NightscoutClient } from './providers/nightscout/client';
import type { CgmSource, ClientOptions } from './providers/provider';
import { VitaDockClient } from './providers/vitadock/client';

export type {
  CgmSource,
  ClientOptions,
  LoginInfo,
  SessionState,
  Subject,
  Cadence,
} from './providers/provider';

/** Checks an account configuration; a mistake is a CONFIG error naming the field and the fix. */
export function parseSourceConfig(config: SourceConfigInput | SourceConfig): SourceConfig {
  const result = sourceConfigSchema.safeParse(config);
  if (!result.success) {
    throw new CgmError('CONFIG', describeIssues(result.error), { hint: configHint(result.error) });
  }
  return result.data;
}

/** The hint for a configuration mistake: the field to fill, in the forms' words, when one field is at fault. */
function configHint(error: z.ZodError): string {
  const fields = new Set(error.issues.map((issue) => String(issue.path[0] ?? '')));
  if (fields.size === 1 && fields.has('username')) {
    return error.issues.some((i) => i.message.includes(field('accountId')))
      ? `give the ${field('username')} or the ${field('accountId')}`
      : `give the ${field('username')}`;
  }
  return 'provider must be dexcom, librelinkup, nightscout or vitadock, with the fields that provider needs';
}

/** The provider-neutral face of one account, whichever cloud it lives in. */
export function createSource(
  config: SourceConfigInput | SourceConfig,
  options: ClientOptions = {},
): CgmSource {
  const parsed = parseSourceConfig(config);
  switch (parsed.provider) {
    case 'dexcom':
      return new DexcomClient(parsed, options);
    case 'librelinkup':
      return new LibreLinkUpClient(parsed, options);
    case 'nightscout':
      return new NightscoutClient(parsed, options);
    case 'vitadock':
      return new VitaDockClient(parsed, options);
  }
}
