import { CgmError } from '../../model/errors';

export interface FoundVerifier {
  verifier: string;
  /** The request token the callback named, when it did. */
  requestToken?: string;
}

/**
 * The verifier from whatever the user has: the callback URL VitaDock redirected to, its query
 * string, or the bare code VitaDock shows when the application has no callback URL.
 * A callback with `deny=true` means the user refused: AUTH_INVALID.
 */
export function verifierFrom(input: string): FoundVerifier {
  const text = input.trim();
  if (text.includes('=')) {
    const query = text.includes('?') ? text.slice(text.indexOf('?') + 1) : text;
    const params = new URLSearchParams(query.split('#')[0]);
    if (params.get('deny') === 'true') {
      throw new CgmError('AUTH_INVALID', 'VitaDock: the user declined the access request', {
        hint: 'start the authorisation again and grant GlucoBridge access in VitaDock Online',
      });
    }
    const verifier = params.get('oauth_verifier')?.trim();
    if (verifier) {
      const token = params.get('oauth_token')?.trim();
      return token ? { verifier, requestToken: token } : { verifier };
    }
  } else if (/^[A-Za-z0-9._~-]+$/.test(text)) {
    return { verifier: text };
  }
  throw new CgmError('CONFIG', 'VitaDock: no verifier found in what was given', {
    hint: 'paste the verifier code VitaDock showed, or the whole address the browser was sent to',
  });
}
