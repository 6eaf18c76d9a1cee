// The small part of Node-RED's runtime API these nodes use. Only types: node-red is a devDependency and
// is never imported at runtime (the host hands us `RED`).
import type { IncomingHttpHeaders } from 'node:http';

export interface NodeMessage {
  _msgid?: string;
  payload?: unknown;
  topic?: string;
  [key: string]: unknown;
}

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'dot' | 'ring';
  text?: string;
}

export type NodeSend = (msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[] | null) => void;
export type NodeDone = (err?: Error) => void;

export interface NodeContextStore {
  get(key: string, store: string | undefined, callback: (err: Error | null, value: unknown) => void): void;
  set(key: string, value: unknown, store: string | undefined, callback: (err: Error | null) => void): void;
}

/** A runtime node instance as `RED.nodes.createNode` leaves it. */
export interface Node<Credentials = Record<string, string | undefined>> {
  readonly id: string;
  readonly type: string;
  readonly z?: string;
  name?: string;
  credentials: Credentials;
  on(event: 'input', listener: (msg: NodeMessage, send: NodeSend, done: NodeDone) => void): void;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[] | null): void;
  status(status: NodeStatus): void;
  log(message: string): void;
  warn(message: string): void;
  error(error: string | Error, msg?: NodeMessage): void;
  debug(message: string): void;
  trace(message: string): void;
  context(): NodeContextStore;
}

/** What the editor saved for a node (its `defaults`), as the runtime receives it. */
export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

export interface HttpRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  headers: IncomingHttpHeaders;
  protocol: string;
  originalUrl: string;
  get(name: string): string | undefined;
}

export interface HttpResponse {
  status(code: number): HttpResponse;
  json(body: unknown): void;
  send(body: string): void;
  type(type: string): HttpResponse;
  sendStatus(code: number): void;
}

export type HttpNext = (err?: unknown) => void;
export type HttpHandler = (req: HttpRequest, res: HttpResponse, next: HttpNext) => void;

export interface HttpRouter {
  get(path: string, ...handlers: HttpHandler[]): void;
  post(path: string, ...handlers: HttpHandler[]): void;
  /** Express 4's internal route table, the only way to take a route away again. */
  _router?: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
}

export type CredentialTypes = Record<string, { type: 'text' | 'password' }>;

/** The `RED` object a node module's exported function receives. */
export interface NodeAPI {
  nodes: {
    createNode(node: object, def: NodeDef): void;
    getNode(id: string): unknown;
    registerType(
      type: string,
      constructor: (this: never, def: never) => void,
      options?: { credentials?: CredentialTypes; settings?: Record<string, unknown> },
    ): void;
    addCredentials(id: string, credentials: Record<string, string>): Promise<void> | void;
    getCredentials(id: string): Record<string, string> | undefined;
  };
  httpAdmin: HttpRouter;
  httpNode: HttpRouter;
  auth: { needsPermission(permission: string): HttpHandler };
  _(key: string, substitutions?: Record<string, string | number>): string;
  settings: Record<string, unknown>;
}
