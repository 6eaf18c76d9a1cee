import { randomUUID } from 'node:crypto';
import { CgmError, toCgmError } from '../../src/model/errors';
import { VitaDockClient } from '../../src/providers/vitadock/client';
import { ReplayCache, verifyPush } from '../../src/providers/vitadock/push';
import { createSource } from '../../src/source';
import type { Account } from './account';
import type { HttpHandler, HttpRequest, HttpResponse, HttpRouter, NodeAPI } from './types';

/** An authorisation started from the dialog, waiting for its verifier. */
interface Pending {
  client: VitaDockClient;
  requestToken: string;
  consumerKey: string;
  consumerSecret: string;
  expires: number;
}

/** VitaDock's request tokens are short-lived; an abandoned attempt is dropped after this. */
const PENDING_MS = 15 * 60_000;
const pending = new Map<string, Pending>();

const KEEP = '__PWRD__'; // what the editor sends for a stored, unchanged password field

function bodyText(body: unknown, key: string): string | undefined {
  const value =
    body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' && value.trim() !== '' && value !== KEEP ? value.trim() : undefined;
}

function fail(res: HttpResponse, thrown: unknown): void {
  const error = toCgmError(thrown);
  res.status(error.code === 'CONFIG' || error.code === 'AUTH_INVALID' ? 400 : 502).json(error.toJSON());
}

function dropExpired(now: number): void {
  for (const [id, entry] of pending) {
    if (entry.expires < now) {
      pending.delete(id);
      void entry.client.close();
    }
  }
}

/**
 * The editor's "Authorise" step, on admin routes that need `cgm-account.write`: start (request token
 * and consent URL), then finish with the verifier the user pasted or VitaDock's callback. The tokens go
 * straight into the node's Node-RED credentials; the dialog keeps them with "__PWRD__".
 */
export function registerVitaDockRoutes(RED: NodeAPI): void {
  const write = RED.auth.needsPermission('cgm-account.write');

  RED.httpAdmin.post('/cgm-account/:id/vitadock/authorise', write, (req, res) => {
    const id = req.params.id ?? '';
    const stored = RED.nodes.getCredentials(id) ?? {};
    const consumerKey = bodyText(req.body, 'consumerKey') ?? stored.consumerKey;
    const consumerSecret = bodyText(req.body, 'consumerSecret') ?? stored.consumerSecret;
    const server = bodyText(req.body, 'server');
    if (!consumerKey || !consumerSecret) {
      fail(res, new CgmError('CONFIG', RED._('cgm-account.errors.bad-request')));
      return;
    }
    dropExpired(Date.now());
    const start = async () => {
      const source = createSource({
        provider: 'vitadock',
        consumerKey,
        consumerSecret,
        ...(server ? { server } : {}),
      });
      if (!(source instanceof VitaDockClient)) throw new CgmError('CONFIG', 'not a VitaDock account');
      const request = await source.requestAuthorization();
      void pending.get(id)?.client.close();
      pending.set(id, {
        client: source,
        requestToken: request.requestToken,
        consumerKey,
        consumerSecret,
        expires: Date.now() + PENDING_MS,
      });
      res.json({ url: request.authorizeUrl, signupUrl: request.signupUrl });
    };
    start().catch((thrown: unknown) => fail(res, thrown));
  });

  RED.httpAdmin.post('/cgm-account/:id/vitadock/verify', write, (req, res) => {
    const id = req.params.id ?? '';
    const verifier = bodyText(req.body, 'verifier');
    finish(RED, id, verifier, res, () => res.json({ authorised: true }));
  });

  // VitaDock's browser redirect (the callback URL registered for the app). With admin auth on, the
  // browser carries no token: then the user pastes the verifier instead.
  RED.httpAdmin.get('/cgm-account/vitadock/callback', write, (req, res) => {
    const query = new URLSearchParams(
      Object.entries(req.query).filter((e): e is [string, string] => typeof e[1] === 'string'),
    ).toString();
    const token = typeof req.query.oauth_token === 'string' ? req.query.oauth_token : undefined;
    const matches = [...pending.entries()].filter(([, p]) => token === undefined || p.requestToken === token);
    const id = matches.length === 1 ? matches[0]![0] : '';
    finish(RED, id, query, res, () => res.type('text/plain').send(RED._('cgm-account.authorise.done')));
  });
}

function finish(
  RED: NodeAPI,
  id: string,
  verifier: string | undefined,
  res: HttpResponse,
  ok: () => void,
): void {
  const entry = pending.get(id);
  if (!entry || entry.expires < Date.now() || !verifier) {
    fail(res, new CgmError('CONFIG', RED._('cgm-account.errors.no-pending')));
    return;
  }
  const run = async () => {
    const state = await entry.client.authorize(verifier, entry.requestToken);
    const { accessToken, accessSecret } = state.data;
    if (typeof accessToken !== 'string' || typeof accessSecret !== 'string') {
      throw new CgmError('PROTOCOL', 'VitaDock: the access token is missing');
    }
    pending.delete(id);
    void entry.client.close();
    const stored = RED.nodes.getCredentials(id) ?? {};
    await RED.nodes.addCredentials(id, {
      ...stored,
      consumerKey: entry.consumerKey,
      consumerSecret: entry.consumerSecret,
      accessToken,
      accessSecret,
    });
    ok();
  };
  run().catch((thrown: unknown) => fail(res, thrown));
}

/**
 * The optional push endpoint of a VitaDock account in the flow's HTTP space: a valid, signed
 * notification makes every poller of the account fetch now; anything else is refused with 4xx.
 * Returns the function that takes the route away again (on redeploy).
 */
export function servePush(RED: NodeAPI, account: Account): () => void {
  const path = account.props.pushPath?.trim();
  if (!path) return () => undefined;
  const route = path.startsWith('/') ? path : `/${path}`;
  const replay = new ReplayCache();
  const handler: HttpHandler = (req: HttpRequest, res: HttpResponse) => {
    const secrets = account.pushSecrets();
    if (!secrets) {
      res.status(503).json({ reason: 'not-authorised' });
      return;
    }
    const verdict = verifyPush(
      {
        method: 'GET',
        url: `${req.protocol}://${req.get('host') ?? 'localhost'}${req.originalUrl}`,
        headers: req.headers,
      },
      secrets,
      replay,
    );
    if (!verdict.ok) {
      res.status(verdict.status).json({ reason: verdict.reason });
      return;
    }
    if (verdict.action === 'reauthorize') account.emit('problem', verdict.error);
    else account.emit('push');
    res.status(200).json({ ok: true });
  };
  // A unique marker lets close remove exactly this route, even if another account uses the same path.
  const marker = randomUUID();
  Object.defineProperty(handler, 'glucobridgeRoute', { value: marker });
  RED.httpNode.get(route, handler);
  return () => removeRoute(RED.httpNode, marker);
}

function removeRoute(router: HttpRouter, marker: string): void {
  const stack = router._router?.stack;
  if (!stack) return;
  for (let i = stack.length - 1; i >= 0; i -= 1) {
    const layer = stack[i] as { route?: { stack?: { handle?: unknown }[] } };
    if (
      layer.route?.stack?.some(
        (l) => (l.handle as { glucobridgeRoute?: string } | undefined)?.glucobridgeRoute === marker,
      )
    ) {
      stack.splice(i, 1);
    }
  }
}
