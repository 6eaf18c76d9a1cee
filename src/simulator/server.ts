import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { parseJson } from '../http/transport';
import { systemClock, type SimClock } from './clock';
import { FaultInjector } from './faults';
import type { ProviderSimulator, RecordedRequest, SimResponse } from './types';

export interface SimulatorOptions {
  providers: ProviderSimulator[];
  clock?: SimClock;
  /** How many requests to remember for tests. */
  recordLimit?: number;
}

/** Largest request body the simulator reads; a client sending more is broken. */
const MAX_BODY = 1_000_000;

/** The fake cloud: one loopback HTTP server in front of the provider simulators. */
export class Simulator {
  readonly faults = new FaultInjector();
  readonly clock: SimClock;
  readonly providers: ProviderSimulator[];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly recordLimit: number;
  private recorded: RecordedRequest[] = [];
  private origin = '';

  constructor(options: SimulatorOptions) {
    this.providers = options.providers;
    this.clock = options.clock ?? systemClock;
    this.recordLimit = options.recordLimit ?? 5_000;
    this.server = createServer((req, res) => {
      this.dispatch(req, res).catch((error: unknown) => {
        // A simulator bug must show in the test as a 500, never take the process down.
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`simulator error: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on loopback and returns the base URL (`http://127.0.0.1:PORT`). */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('simulator has no TCP address');
    this.origin = `http://${host}:${address.port}`;
    return this.origin;
  }

  get url(): string {
    return this.origin;
  }

  /** The base URL one provider answers under, e.g. for a `server` option. */
  urlFor(provider: ProviderSimulator['provider']): string {
    const sim = this.providers.find((p) => p.provider === provider);
    if (!sim) throw new Error(`the simulator does not serve ${provider}`);
    return `${this.origin}${sim.prefix}`;
  }

  describe(): string[] {
    return this.providers.flatMap((p) => p.describe(`${this.origin}${p.prefix}`));
  }

  /** Requests seen so far, optionally only those whose path contains `pathPart`. */
  requests(pathPart?: string): RecordedRequest[] {
    return pathPart === undefined
      ? [...this.recorded]
      : this.recorded.filter((r) => r.path.includes(pathPart));
  }

  clearRequests(): void {
    this.recorded = [];
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin || 'http://127.0.0.1');
    const provider = this.providers.find(
      (p) => url.pathname === p.prefix || url.pathname.startsWith(`${p.prefix}/`),
    );
    const body = await readBody(req);
    if (!provider) {
      send(res, { status: 404, body: { message: 'no simulated cloud at this path' } });
      return;
    }
    const path = url.pathname.slice(provider.prefix.length) || '/';
    const json = parseJson(body);
    this.record({
      provider: provider.provider,
      method: req.method ?? 'GET',
      path,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      json,
      at: this.clock.now(),
    });
    const fault = this.faults.take(provider.provider, path);
    if (fault?.kind === 'timeout') return; // held until the client gives up or the server closes
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'respond') {
      send(res, fault.response);
      return;
    }
    const response = await provider.handle(
      { method: req.method ?? 'GET', path, query: url.searchParams, headers: req.headers, body, json, url },
      { clock: this.clock, baseUrl: `${this.origin}${provider.prefix}` },
    );
    send(res, fault?.kind === 'rewrite' ? fault.rewrite(response) : response);
  }

  private record(entry: RecordedRequest): void {
    this.recorded.push(entry);
    if (this.recorded.length > this.recordLimit)
      this.recorded.splice(0, this.recorded.length - this.recordLimit);
  }
}

function send(res: ServerResponse, response: SimResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  let payload = '';
  if (typeof response.body === 'string') payload = response.body;
  else if (response.body !== undefined) {
    payload = JSON.stringify(response.body);
    headers['Content-Type'] ??= 'application/json; charset=utf-8';
  }
  headers['Content-Length'] = String(Buffer.byteLength(payload));
  res.writeHead(response.status, headers);
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
