// Root setup for every mocha run: tests may talk only to this machine. Any connection to
// another host fails loudly instead of reaching a real vendor.
import net from 'node:net';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;
// eslint-disable-next-line @typescript-eslint/unbound-method -- re-applied with its own `this` below
const originalConnect = net.Socket.prototype.connect;

function targetHost(args: unknown[]): string | undefined {
  const first = args[0];
  if (Array.isArray(first)) return targetHost(first as unknown[]);
  if (first && typeof first === 'object') {
    const options = first as { host?: string; path?: string };
    if (options.path !== undefined) return undefined; // a Unix socket stays on this machine
    return options.host ?? 'localhost';
  }
  if (typeof first === 'number') return typeof args[1] === 'string' ? args[1] : 'localhost';
  return undefined;
}

net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  const host = targetHost(args);
  if (host !== undefined && !LOOPBACK.test(host)) {
    throw new Error(`test tried to reach ${host}: tests may only talk to 127.0.0.1`);
  }
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
};
