import { timingSafeEqual, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CgmError } from '../../model/errors';
import { silentLogger, type Logger } from '../../model/logger';
import type { BridgeMonitor } from './monitor';
import { isLoopback, type HttpSettings } from './settings';

/** At most this many pages kept live at once (each holds one event stream). */
const MAX_EVENT_STREAMS = 32;
/** Changes coming faster than this reach the pages together. */
const PUSH_EVERY_MS = 1_000;
/** A comment line now and then keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 25_000;

interface Asset {
  body: Buffer;
  type: string;
  /** Vendor files never change within a version. */
  cache: string;
}

/** The page's own files and the chart library, read once from the package (no build step, no CDN). */
function loadAssets(): Map<string, Asset> {
  const page = join(__dirname, 'page');
  const own = (file: string, type: string): Asset => ({
    body: readFileSync(join(page, file)),
    type,
    cache: 'no-cache',
  });
  const vendor = (module: string, type: string): Asset => ({
    body: readFileSync(require.resolve(module)),
    type,
    cache: 'public, max-age=86400',
  });
  return new Map([
    ['/', own('index.html', 'text/html; charset=utf-8')],
    ['/app.js', own('app.js', 'text/javascript; charset=utf-8')],
    ['/style.css', own('style.css', 'text/css; charset=utf-8')],
    ['/vendor/uPlot.iife.min.js', vendor('uplot/dist/uPlot.iife.min.js', 'text/javascript; charset=utf-8')],
    ['/vendor/uPlot.min.css', vendor('uplot/dist/uPlot.min.css', 'text/css; charset=utf-8')],
  ]);
}

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/**
 * The bridge's status page (`/`, `/api/status`, live `/events`), `/healthz` and `/metrics`, on one
 * small node:http server. Loopback and no password by default, and then only requests that name this
 * machine in their Host header are answered (a web page elsewhere cannot read it through DNS
 * rebinding); with a password (basic auth) or a token every route but `/healthz` asks for it.
 */
export class StatusServer {
  private server: Server | undefined;
  private readonly assets = loadAssets();
  private readonly streams = new Set<ServerResponse>();
  private pushTimer: NodeJS.Timeout | undefined;
  private keepAlive: NodeJS.Timeout | undefined;
  private lastPush = 0;
  private readonly logger: Logger;
  private readonly onChange = () => this.schedulePush();

  constructor(
    private readonly settings: HttpSettings,
    private readonly monitor: BridgeMonitor,
    logger: Logger = silentLogger,
  ) {
    this.logger = logger;
  }

  /** The page's address (with the port actually bound). */
  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    const port = address?.port ?? this.settings.port;
    const host = this.settings.host.includes(':') ? `[${this.settings.host}]` : this.settings.host;
    return `http://${host}:${port}/`;
  }

  /** Listens; a port in use or an address not of this machine is a CONFIG error saying so. */
  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((thrown: unknown) => {
        this.logger.warn(`status page: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
        if (!res.headersSent) this.send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.end();
      });
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        const why =
          error.code === 'EADDRINUSE' ? 'is in use' : `cannot be used (${error.code ?? error.message})`;
        reject(
          new CgmError(
            'CONFIG',
            `the status page's address ${this.settings.host}:${this.settings.port} ${why}`,
            {
              hint: 'choose another with http.listen or --http HOST:PORT',
            },
          ),
        );
      });
      server.listen(this.settings.port, this.settings.host, () => resolve());
    });
    this.server = server;
    this.monitor.on('change', this.onChange);
    this.keepAlive = setInterval(() => {
      for (const stream of this.streams) stream.write(': keep-alive\n\n');
    }, KEEPALIVE_MS);
    this.keepAlive.unref?.();
  }

  async stop(): Promise<void> {
    this.monitor.off('change', this.onChange);
    clearTimeout(this.pushTimer);
    clearInterval(this.keepAlive);
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://status.invalid');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return this.send(res, 405, 'text/plain; charset=utf-8', 'only GET\n');
    }
    if (!this.hostAllowed(req)) return this.send(res, 421, 'text/plain; charset=utf-8', 'wrong host\n');
    if (url.pathname === '/healthz') {
      const { healthy, body } = this.monitor.health();
      return this.send(res, healthy ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
    }
    if (!this.authorised(req, url)) {
      if (this.settings.basic)
        res.setHeader('WWW-Authenticate', 'Basic realm="GlucoBridge", charset="UTF-8"');
      return this.send(res, 401, 'text/plain; charset=utf-8', 'a password or token is needed\n');
    }
    switch (url.pathname) {
      case '/metrics':
        return this.send(res, 200, this.monitor.metrics.contentType, await this.monitor.metrics.text());
      case '/api/status':
        return this.send(res, 200, 'application/json', JSON.stringify(this.monitor.snapshot()));
      case '/events':
        return this.openStream(req, res);
      default: {
        const asset = this.assets.get(url.pathname);
        if (!asset) return this.send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
        res.setHeader('Cache-Control', asset.cache);
        return this.send(res, 200, asset.type, asset.body);
      }
    }
  }

  /**
   * Without credentials only requests addressed to this machine by name or loopback address: a page
   * from elsewhere that rebinds its own name to 127.0.0.1 sends its own name as the Host.
   */
  private hostAllowed(req: IncomingMessage): boolean {
    if (this.settings.basic || this.settings.token !== undefined) return true;
    const host = req.headers.host ?? '';
    const name = /^\[([^\]]+)\](?::\d+)?$/.exec(host)?.[1] ?? host.replace(/:\d+$/, '');
    return isLoopback(name.toLowerCase());
  }

  private authorised(req: IncomingMessage, url: URL): boolean {
    const { basic, token } = this.settings;
    if (!basic && token === undefined) return true;
    const header = req.headers.authorization ?? '';
    if (token !== undefined) {
      const given = /^Bearer\s+(.+)$/i.exec(header)?.[1] ?? url.searchParams.get('token') ?? undefined;
      if (given !== undefined && same(given, token)) return true;
    }
    if (basic) {
      const encoded = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header)?.[1];
      if (encoded !== undefined) {
        const decoded = Buffer.from(encoded, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (
          colon >= 0 &&
          same(decoded.slice(0, colon), basic.username) &&
          same(decoded.slice(colon + 1), basic.password)
        )
          return true;
      }
    }
    return false;
  }

  private openStream(req: IncomingMessage, res: ServerResponse): void {
    if (this.streams.size >= MAX_EVENT_STREAMS) {
      return this.send(res, 503, 'text/plain; charset=utf-8', 'too many open pages\n');
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    this.streams.add(res);
    req.on('close', () => this.streams.delete(res));
    res.write(`retry: 3000\n\n`);
    res.write(event(JSON.stringify(this.monitor.snapshot())));
  }

  /** At most one push per `PUSH_EVERY_MS`; the page always gets the latest state. */
  private schedulePush(): void {
    if (this.pushTimer || this.streams.size === 0) return;
    const wait = Math.max(0, this.lastPush + PUSH_EVERY_MS - Date.now());
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      this.lastPush = Date.now();
      const text = event(JSON.stringify(this.monitor.snapshot()));
      for (const stream of this.streams) stream.write(text);
    }, wait);
  }

  private send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': type,
      ...(res.hasHeader('Cache-Control') ? {} : { 'Cache-Control': 'no-store' }),
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }
}

function event(data: string): string {
  return `event: status\ndata: ${data}\n\n`;
}

/** Compares secrets in constant time (hashes first, so their lengths do not show either). */
function same(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
