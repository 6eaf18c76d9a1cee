import { expect } from 'chai';
import { ContextStateStore } from '../../nodes/lib/state-store';
import type { NodeContextStore } from '../../nodes/lib/types';
import type { Logger } from '../../src/model/logger';
import { silentLogger } from '../../src/model/logger';
import type { SessionState } from '../../src/providers/provider';

/** A context store like Node-RED's memory store, remembering what was written where. */
function memoryContext(): NodeContextStore & { data: Map<string, unknown>; stores: (string | undefined)[] } {
  const data = new Map<string, unknown>();
  const stores: (string | undefined)[] = [];
  return {
    data,
    stores,
    get: (key, store, callback) => {
      stores.push(store);
      callback(null, data.get(key));
    },
    set: (key, value, store, callback) => {
      stores.push(store);
      data.set(key, value);
      callback(null);
    },
  };
}

const state: SessionState = {
  provider: 'dexcom',
  account: 'acct-hash',
  data: { sessionId: '3f2a9c1e-1111-4d5e-8a6b-0123456789ab', createdAt: 1_700_000_000_000 },
};

const store = (
  id: string,
  context: NodeContextStore,
  secret: string,
  where?: string,
  logger: Logger = silentLogger,
) => new ContextStateStore(id, context, secret, where, logger);

describe('ContextStateStore (an account state in node context, its session sealed)', () => {
  it('stores the session only as ciphertext and gives it back under the same secret', async () => {
    const context = memoryContext();
    store('n1', context, 'secret-one', 'file').save({ session: state });
    const raw = JSON.stringify(context.data.get('glucobridgeState'));
    expect(raw).not.to.include('3f2a9c1e');
    expect(raw).not.to.include('acct-hash');
    expect(context.stores).to.deep.equal(['file']);
    expect((await store('n1', context, 'secret-one', 'file').load()).session).to.deep.equal(state);
  });

  it('keeps the other sections plain (no secret in them) and checks each when read', async () => {
    const context = memoryContext();
    const subjects = [{ id: 'p-1', name: 'Mia', slug: 'mia' }];
    store('n6', context, 'secret').save({ subjects, uploads: { SM123: 1_700_000_000_000 } });
    const said: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => said.push(m) };
    const raw = context.data.get('glucobridgeState') as Record<string, unknown>;
    expect(raw.subjects).to.deep.equal(subjects);
    context.data.set('glucobridgeState', { ...raw, uploads: { SM123: 'yesterday' } });
    const loaded = await store('n6', context, 'secret', undefined, logger).load();
    expect(loaded.subjects).to.deep.equal(subjects);
    expect(loaded.uploads).to.equal(undefined);
    expect(said).to.have.length(1);
    expect(said[0]).to.match(/n6.*uploads.*ignored/);
  });

  it('another secret (a changed password) cannot open the session: no session rather than a wrong one', async () => {
    const context = memoryContext();
    store('n2', context, 'secret-one').save({ session: state });
    expect((await store('n2', context, 'secret-two').load()).session).to.equal(undefined);
  });

  it('survives a context that Node-RED cleared on redeploy (the process keeps a sealed copy)', async () => {
    store('n3', memoryContext(), 'secret').save({ session: state });
    expect((await store('n3', memoryContext(), 'secret').load()).session).to.deep.equal(state);
  });

  it('reads the sealed session release 0.1 kept under its own key', async () => {
    const context = memoryContext();
    store('n7', context, 'secret').save({ session: state });
    const sealed = (context.data.get('glucobridgeState') as { session: unknown }).session;
    const old = memoryContext();
    old.data.set('glucobridgeSession', sealed);
    expect((await store('n7-old', old, 'secret').load()).session).to.deep.equal(state);
  });

  it('a tampered or foreign value is ignored', async () => {
    const context = memoryContext();
    context.data.set('glucobridgeState', { session: { v: 1, iv: 'AAAA', tag: 'AAAA', data: 'AAAA' } });
    expect((await store('n4', context, 'secret').load()).session).to.equal(undefined);
  });

  it('a broken context store does not throw', async () => {
    const broken: NodeContextStore = {
      get: () => {
        throw new Error('unknown store');
      },
      set: () => {
        throw new Error('unknown store');
      },
    };
    const s = store('n5', broken, 'secret', 'nope');
    s.save({ session: state });
    expect((await s.load()).session).to.deep.equal(state);
  });
});
