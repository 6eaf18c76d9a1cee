import { createServer, type Server, type Socket } from 'node:net';

export interface EmbeddedBroker {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * An MQTT broker inside the bridge process, for the demo and for users without one. It listens on
 * loopback only (no authentication: it is not meant to be reached from the network). Port 0 picks a
 * free port; a busy preferred port falls back to a free one.
 */
export async function startEmbeddedBroker(port = 1883, host = '127.0.0.1'): Promise<EmbeddedBroker> {
  // aedes is published as an ES module only: load it with import() from our CommonJS build.
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  const bound = await listen(server, port, host).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE' || port === 0) throw error;
    return listen(server, 0, host);
  });
  return {
    url: `mqtt://${host}:${bound}`,
    port: bound,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}
