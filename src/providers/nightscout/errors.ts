import type { NightscoutApi } from '../../config';
import type { Redactor } from '../../http/redact';
import { genericHttpError, looksLikeHtml, type HttpResponse } from '../../http/transport';
import { CgmError } from '../../model/errors';
import { errorBodySchema } from './schemas';

/** What a request was, so that its failure can be explained. */
export interface AnswerContext {
  /** Names the call in messages, e.g. `Nightscout entries`. */
  what: string;
  /** The configured site address (hints about the URL are built from it). */
  server: string;
  api: NightscoutApi;
  /** How the request authenticated. */
  auth: 'apiSecret' | 'token' | 'jwt' | 'none';
  /** The token → JWT exchange itself. */
  exchange?: boolean;
  /** An upload (a 401 may also mean the secret may read but not create). */
  upload?: boolean;
  redactor: Redactor;
}

/**
 * The one place Nightscout answers become errors; `undefined` for a 2xx. Facts: both APIs answer
 * `{status, message, description}` on failure; 401 for a missing or wrong secret/token (v1 also for a
 * missing permission), v3 403 for a missing permission or plain HTTP (`lib/api3/const.json`).
 */
export function nightscoutError(response: HttpResponse, context: AnswerContext): CgmError | undefined {
  const { status } = response;
  if (status >= 200 && status < 300) return undefined;
  const { what } = context;
  const vendor = vendorText(response, context.redactor);
  const vendorCode = `HTTP${status}`;
  if (status >= 300 && status < 400) return redirected(response, context);
  if (status === 401) {
    if (context.auth === 'jwt' && !context.exchange) {
      return new CgmError('SESSION_EXPIRED', `${what}: the site no longer accepts the JWT`, { vendorCode });
    }
    return new CgmError('AUTH_INVALID', `${what}: ${refusal(context)}${vendor ? ` (${vendor})` : ''}`, {
      vendorCode,
      hint: authHint(context),
    });
  }
  if (status === 403) {
    const https = /ssl|tls/i.test(vendor);
    return new CgmError('CONFIG', `${what}: the site refused the request${vendor ? ` (${vendor})` : ''}`, {
      vendorCode,
      hint: https
        ? 'API v3 only answers over HTTPS: use the https:// address of the site'
        : `give the token's subject a role with permission api:entries:${context.upload ? 'create' : 'read'} in the site's Admin tools`,
    });
  }
  if (status === 404) {
    return new CgmError('NOT_FOUND', `${what}: the site answered 404 (no such page)`, {
      vendorCode,
      hint: urlHint(context.server, context.api),
    });
  }
  if (status === 400 || status === 422) {
    return new CgmError('PROTOCOL', `${what}: the site refused the request${vendor ? ` (${vendor})` : ''}`, {
      vendorCode,
      retryable: false,
    });
  }
  return genericHttpError(response, what);
}

/** A 2xx that is not JSON: a hosting provider's page, a login wall, a truncated answer. */
export function notJson(response: HttpResponse, context: AnswerContext): CgmError {
  const page = looksLikeHtml(response.text);
  return new CgmError(
    'PROTOCOL',
    `${context.what}: HTTP ${response.status} with ${page ? 'an HTML page' : 'a body that is not JSON'}`,
    page
      ? {
          hint: `is ${describeServer(context.server)} a Nightscout site? ${urlHint(context.server, context.api)}`,
        }
      : {},
  );
}

function refusal(context: AnswerContext): string {
  if (context.exchange) return 'the access token was refused';
  switch (context.auth) {
    case 'apiSecret':
      return 'the API secret was refused';
    case 'token':
      return 'the access token was refused';
    case 'jwt':
      return 'the access token was refused';
    case 'none':
      return 'the site is not readable without a token or API secret';
  }
}

function authHint(context: AnswerContext): string {
  if (context.auth === 'none') {
    return 'set token (an access token from the site’s Admin tools) or apiSecret';
  }
  const which =
    context.auth === 'apiSecret'
      ? 'check apiSecret: it is the site’s API_SECRET (at least 12 characters)'
      : 'check token: copy it from the site’s Admin tools (Subjects), e.g. glucobridge-0123456789abcdef';
  const upload = context.upload
    ? '; to upload, the secret or the token’s role must allow api:entries:create'
    : '';
  return `${which}${upload}; it is not tried again until the setting changes`;
}

/** A hint for a URL that answered 404 (or a page that is not Nightscout's). */
export function urlHint(server: string, api: NightscoutApi): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return 'set server to the address of the Nightscout site, e.g. https://name.example.com';
  }
  const path = url.pathname.replace(/\/+$/, '');
  const apiAt = path.search(/\/api(\/|$)/);
  if (apiAt >= 0) {
    return `remove "${path.slice(apiAt)}" from the end of server: it is the site's address, without the API path`;
  }
  const parts: string[] = [];
  if (path) parts.push(`check the path "${path}": server is the address you open the site at`);
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) parts.push('most sites need https://');
  if (api === 'v3') parts.push('the site may not offer API v3 (Nightscout 14 or newer); try api v1');
  if (parts.length === 0) parts.push('check server: the address you open the Nightscout site at');
  return parts.join('; ');
}

function redirected(response: HttpResponse, context: AnswerContext): CgmError {
  const location = response.headers.location;
  let target = '';
  try {
    if (location) target = new URL(location, context.server).origin;
  } catch {
    target = '';
  }
  const toHttps = target.startsWith('https://') && context.server.startsWith('http://');
  return new CgmError('CONFIG', `${context.what}: the site redirects (HTTP ${response.status})`, {
    vendorCode: `HTTP${response.status}`,
    hint: toHttps
      ? `use the https:// address: ${target}`
      : `set server to the address the site answers at${target ? ` (${target})` : ''}`,
  });
}

function vendorText(response: HttpResponse, redactor: Redactor): string {
  const body = errorBodySchema.safeParse(response.json);
  if (!body.success) return '';
  const text = [body.data.message, body.data.description].filter(Boolean).join(': ');
  return redactor.clean(text).slice(0, 120);
}

function describeServer(server: string): string {
  try {
    return new URL(server).host;
  } catch {
    return 'the server';
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
}
