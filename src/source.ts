import { describeIssues, sourceConfigSchema, type SourceConfig, type SourceConfigInput } from './config';
import { CgmError } from './model/errors';
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
    throw new CgmError('CONFIG', describeIssues(result.error), {
      hint: 'provider must be dexcom, librelinkup, nightscout or vitadock, with the fields that provider needs',
    });
  }
  return result.data;
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
