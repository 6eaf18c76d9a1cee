// The one place VitaDock answers become CgmErrors. VitaDock blocks its own error texts (reference §5),
// so no vendor body is ever read into a message.
import { genericHttpError, type HttpResponse } from '../../http/transport';
import { CgmError } from '../../model/errors';
import { REAUTHORISE_HINT } from './constants';

/** Which kind of call failed: a 401 means different things to each. */
export type CallKind = 'consumer' | 'verify' | 'data';

export function vitaDockError(response: HttpResponse, what: string, kind: CallKind): CgmError {
  const status = response.status;
  if (status === 401) return unauthorised(what, kind);
  if (status === 404) {
    return new CgmError('NOT_FOUND', `${what}: not found (HTTP 404)`, {
      hint: 'check the server URL and that the application may read this module',
    });
  }
  if (status === 400 || status === 405) {
    // Our request was refused as malformed: the API changed or we are wrong; a person must look.
    return new CgmError('PROTOCOL', `${what}: the server refused the request (HTTP ${status})`, {
      retryable: false,
    });
  }
  return genericHttpError(response, what);
}

function unauthorised(what: string, kind: CallKind): CgmError {
  switch (kind) {
    case 'consumer':
      return new CgmError('AUTH_INVALID', `${what}: VitaDock rejected the application key or secret`, {
        vendorCode: '401',
        hint: 'check the consumer key and secret of your VitaDock application (and the device registration)',
      });
    case 'verify':
      return new CgmError('AUTH_INVALID', `${what}: VitaDock rejected the verifier`, {
        vendorCode: '401',
        hint: 'the verifier is single-use and belongs to one request token: start the authorisation again',
      });
    case 'data':
      // VitaDock answers a stale timestamp with the same bare 401 as a revoked token.
      return new CgmError('AUTH_INVALID', `${what}: access refused (token withdrawn, or this clock is off)`, {
        vendorCode: '401',
        hint: REAUTHORISE_HINT,
      });
  }
}

/** A push with module_id -1 or a call after one: the user withdrew GlucoBridge's access. */
export function revokedError(): CgmError {
  return new CgmError('AUTH_INVALID', 'VitaDock: the user withdrew this access', {
    vendorCode: 'module_id=-1',
    hint: REAUTHORISE_HINT,
  });
}
