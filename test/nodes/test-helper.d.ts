// The part of node-red-node-test-helper's API the tests use (the package ships no types).
declare module 'node-red-node-test-helper' {
  interface TestRequest extends PromiseLike<{ status: number; body: unknown; text: string }> {
    send(body: unknown): TestRequest;
    set(name: string, value: string): TestRequest;
  }

  type NodeModule = (RED: never) => void;
  interface Helper {
    init(runtimePath: string, settings?: Record<string, unknown>): void;
    settings(settings: Record<string, unknown>): Record<string, unknown>;
    startServer(done: () => void): void;
    stopServer(done: () => void): void;
    load(
      nodes: NodeModule | NodeModule[],
      flow: Record<string, unknown>[],
      credentials?: Record<string, Record<string, string>>,
    ): Promise<void>;
    setFlows(
      flow: Record<string, unknown>[],
      type?: 'full' | 'flows' | 'nodes',
      credentials?: Record<string, Record<string, string>>,
    ): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): unknown;
    /** A sinon spy on the runtime's log: each call's first argument is the log event. */
    log(): { args: [{ level: number; id?: string; type?: string; msg?: unknown }][] };
    /** The runtime's credential store. */
    credentials: { get(id: string): Record<string, string> | undefined };
    request(): { get(path: string): TestRequest; post(path: string): TestRequest };
  }
  const helper: Helper;
  export = helper;
}
