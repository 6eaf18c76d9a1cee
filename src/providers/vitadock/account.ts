import { createHash } from 'node:crypto';

/** The stable, non-secret id of an authorised account: sha256(consumerKey + accessToken), hex. */
export function vitaDockAccount(consumerKey: string, accessToken: string): string {
  return createHash('sha256')
    .update(consumerKey + accessToken)
    .digest('hex');
}
