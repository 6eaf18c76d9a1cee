import { isIP } from 'node:net';
import { z } from 'zod';
import { CgmError } from '../../model/errors';

/** Where the status page listens when it is on and nothing else is said: this machine only. */
export const DEFAULT_LISTEN = '127.0.0.1:8780';
/** The user name of basic auth when the configuration gives only a password. */
export const DEFAULT_HTTP_USERNAME = 'glucobridge';

/** The `http` section of the bridge's configuration (the status page, `/healthz`, `/metrics`). */
export const httpSettingsSchema = z
  .object({
    /** `HOST:PORT` (`[::1]:8780` for IPv6). Loopback unless a password or token is set as well. */
    listen: z.string().trim().min(1, 'http.listen must be HOST:PORT').default(DEFAULT_LISTEN),
    /** Basic auth user name (default `glucobridge`). */
    username: z.string().trim().min(1).max(100).optional(),
    /** Basic auth password: required, or `token`, on any address other than loopback. */
    password: z.string().min(8, 'http.password must have at least 8 characters').max(1000).optional(),
    /** A bearer token (`Authorization: Bearer …`, or `?token=` in the page's address), instead of or besides the password. */
    token: z.string().min(16, 'http.token must have at least 16 characters').max(1000).optional(),
  })
  .strict();

export type HttpSettingsInput = z.input<typeof httpSettingsSchema>;

/** The status page's settings after checking: where, and how a visitor proves who they are. */
export interface HttpSettings {
  host: string;
  port: number;
  /** Basic auth, when a password is set. */
  basic?: { username: string; password: string };
  token?: string;
}

/** `HOST:PORT` or `[IPv6]:PORT` → its parts; a CONFIG error naming `field` otherwise. */
export function parseListen(text: string, field = 'http.listen'): { host: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CgmError('CONFIG', `${field}: "${text}" is not HOST:PORT (for example ${DEFAULT_LISTEN})`, {
      hint: 'write the address the status page listens on as 127.0.0.1:8780, or [::1]:8780 for IPv6',
    });
  }
  return { host: match[1]!, port };
}

/** Addresses only this machine can reach (a browser on it, a local Prometheus). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

/**
 * Checks the `http` settings: glucose is health data, so an address other than loopback needs a
 * password or a token (CONFIG error otherwise), and the `0.0.0.0`-style "everywhere" too.
 */
export function resolveHttpSettings(input: unknown, field = 'http'): HttpSettings {
  const parsed = httpSettingsSchema.safeParse(input);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new CgmError('CONFIG', `${field}: ${first?.message ?? 'invalid'}`, {
      hint: 'see the README, section "Status page, health and metrics"',
    });
  }
  const { listen, username, password, token } = parsed.data;
  const { host, port } = parseListen(listen, `${field}.listen`);
  if (!isLoopback(host) && password === undefined && token === undefined) {
    throw new CgmError(
      'CONFIG',
      `${field}.listen: ${listen} can be reached from other machines, so the status page needs a password or a token (glucose is health data)`,
      {
        hint: 'set http.password (or GLUCOBRIDGE_HTTP_PASSWORD) or http.token (or GLUCOBRIDGE_HTTP_TOKEN), or listen on 127.0.0.1',
      },
    );
  }
  return {
    host,
    port,
    ...(password === undefined ? {} : { basic: { username: username ?? DEFAULT_HTTP_USERNAME, password } }),
    ...(token === undefined ? {} : { token }),
  };
}

/** The same settings on another address (`--http HOST:PORT`), with the rule for other machines checked again. */
export function withListen(settings: HttpSettings, listen: string): HttpSettings {
  const { host, port } = parseListen(listen, '--http');
  if (!isLoopback(host) && !settings.basic && settings.token === undefined) {
    throw new CgmError(
      'CONFIG',
      `--http: ${listen} can be reached from other machines, so the status page needs a password or a token (glucose is health data)`,
      { hint: 'set GLUCOBRIDGE_HTTP_PASSWORD or GLUCOBRIDGE_HTTP_TOKEN, or listen on 127.0.0.1' },
    );
  }
  return { ...settings, host, port };
}
