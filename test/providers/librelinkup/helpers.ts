import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { libreLinkUpConfigSchema, type LibreLinkUpConfig } from '../../../src/config';
import { HttpTransport } from '../../../src/http/transport';
import { LibreLinkUpClient, type LibreLinkUpOptions } from '../../../src/providers/librelinkup/client';
import { FAST_RETRY, MemoryLogger } from '../helpers';

export { FAST_RETRY, MemoryLogger } from '../helpers';

export const FIXTURES = join(__dirname, 'fixtures');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

export function makeConfig(fields: Partial<LibreLinkUpConfig> & { server: string }): LibreLinkUpConfig {
  return libreLinkUpConfigSchema.parse({
    provider: 'librelinkup',
    username: 'family@glucobridge.example',
    password: 'demo-password-not-real',
    ...fields,
  });
}

export function makeClient(
  config: LibreLinkUpConfig,
  options: LibreLinkUpOptions = {},
): { client: LibreLinkUpClient; logger: MemoryLogger } {
  const logger = new MemoryLogger();
  const client = new LibreLinkUpClient(config, {
    logger,
    transport: new HttpTransport({ timeoutMs: 1_000, logger }),
    retry: FAST_RETRY,
    ...options,
  });
  return { client, logger };
}

/** Rejection of a promise, for asserting on the error itself. */
export async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to fail');
}

export interface FixtureRoute {
  method: 'GET' | 'POST';
  path: string;
  /** A file from the fixtures folder, served byte for byte. */
  file?: string;
  text?: string;
  status?: number;
  /** Served this many times, then the next matching route answers. Default: always. */
  times?: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback server answering set paths with fixture files, recording what it was asked. */
export class FixtureServer {
  readonly seen: SeenRequest[] = [];
  private readonly server: Server;
  private readonly routes: (FixtureRoute & { left: number })[];

  constructor(routes: FixtureRoute[]) {
    this.routes = routes.map((r) => ({ ...r, left: r.times ?? Infinity }));
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        const method = req.method ?? 'GET';
        this.seen.push({ method, path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const route = this.routes.find((r) => r.method === method && r.path === path && r.left > 0);
        if (!route) {
          res.writeHead(404, { 'Content-Type': 'application/json' });
          res.end('{"message":"no fixture for this path"}');
          return;
        }
        route.left -= 1;
        const body = route.file ? fixture(route.file) : (route.text ?? '');
        res.writeHead(route.status ?? 200, { 'Content-Type': 'application/json' });
        res.end(body);
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    return `http://127.0.0.1:${address.port}`;
  }

  count(method: string, path: string): number {
    return this.seen.filter((r) => r.method === method && r.path === path).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
