import { expect } from 'chai';
import { SessionStore } from '../../nodes/lib/session-store';
import type { NodeContextStore } from '../../nodes/lib/types';
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

describe('SessionStore (sealed sessions in node context)', () => {
  it('stores only ciphertext and gives the session back under the same secret', async () => {
    const context = memoryContext();
    const store = new SessionStore('n1', context, 'secret-one', 'file');
    await store.save(state);
    const raw = JSON.stringify(context.data.get('glucobridgeSession'));
    expect(raw).not.to.include('3f2a9c1e');
    expect(raw).not.to.include('acct-hash');
    expect(context.stores).to.deep.equal(['file']);
    expect(await new SessionStore('n1', context, 'secret-one', 'file').load()).to.deep.equal(state);
  });

  it('another secret (a changed password) cannot open it: no session rather than a wrong one', async () => {
    const context = memoryContext();
    await new SessionStore('n2', context, 'secret-one', undefined).save(state);
    expect(await new SessionStore('n2', context, 'secret-two', undefined).load()).to.equal(undefined);
  });

  it('survives a context that Node-RED cleared on redeploy (the process keeps a sealed copy)', async () => {
    await new SessionStore('n3', memoryContext(), 'secret', undefined).save(state);
    expect(await new SessionStore('n3', memoryContext(), 'secret', undefined).load()).to.deep.equal(state);
  });

  it('a tampered or foreign value is ignored', async () => {
    const context = memoryContext();
    context.data.set('glucobridgeSession', { v: 1, iv: 'AAAA', tag: 'AAAA', data: 'AAAA' });
    expect(await new SessionStore('n4', context, 'secret', undefined).load()).to.equal(undefined);
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
    const store = new SessionStore('n5', broken, 'secret', 'nope');
    await store.save(state);
    expect(await store.load()).to.deep.equal(state);
  });
});
