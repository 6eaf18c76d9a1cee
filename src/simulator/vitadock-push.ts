// VitaDock's push ("Monitoring URL", seed 003): a GET with `module_id` and an Authorization header
// signed like a consumer's request, with the application (or device) pair and the access secret.
import { request as httpRequest } from 'node:http';
import { makeNonce, signRequest } from '../providers/vitadock/oauth1';

export interface PushRequest {
  method: 'GET';
  url: string;
  headers: Record<string, string>;
}

export interface PushSigner {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessSecret: string;
}

/** The notification for `moduleId` as VitaDock would send it to `monitoringUrl`. */
export function signedPush(
  monitoringUrl: string,
  moduleId: number,
  signer: PushSigner,
  timestamp: number,
  nonce = makeNonce(),
): PushRequest {
  const url = new URL(monitoringUrl);
  url.searchParams.set('module_id', String(moduleId));
  const signed = signRequest(
    { method: 'GET', url: url.toString(), timestamp, nonce },
    {
      consumerKey: signer.consumerKey,
      consumerSecret: signer.consumerSecret,
      token: signer.accessToken,
      tokenSecret: signer.accessSecret,
    },
  );
  return { method: 'GET', url: url.toString(), headers: { authorization: signed.authorization } };
}

/** Sends a notification; resolves with the receiver's status and body (never throws for a status). */
export function deliverPush(push: PushRequest, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      push.url,
      { method: push.method, headers: push.headers, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`push to ${push.url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
