// Small loopback helpers shared by the tests.
import { request as httpRequest, createServer } from 'node:http';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A plain GET that does not follow redirects: the "browser" of the authorisation tests. */
export function getNoRedirect(url: string): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          ...(res.headers.location ? { location: res.headers.location } : {}),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

/**
 * The environment for a process a test starts: only what is given, plus PATH and the settings that move
 * this machine's clock and time zone (so a child of `npm run test:shifted` keeps the shifted clock).
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(
    ([key]) => key === 'PATH' || key === 'TZ' || key === 'LD_PRELOAD' || key.startsWith('FAKETIME'),
  );
  return { ...Object.fromEntries(kept), ...extra };
}
