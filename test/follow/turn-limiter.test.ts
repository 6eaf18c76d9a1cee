// Start-up at scale: logins spread by one limiter per host (fake clock; the simulator over loopback).
import { expect } from 'chai';
import sinon from 'sinon';
import { sourceConfigSchema } from '../../src/config';
import { MemoryAccountStore } from '../../src/follow/account-state';
import { AccountFollower } from '../../src/follow/follower';
import { TurnLimiter } from '../../src/follow/turn-limiter';
import { CgmError } from '../../src/model/errors';
import { silentLogger } from '../../src/model/logger';
import { LoginPolicy } from '../../src/providers/login-policy';
import { DexcomSimulator, type DexcomSimAccount } from '../../src/simulator/dexcom';
import { Simulator } from '../../src/simulator/server';
import { CountingTransport, VirtualClock } from '../bench/virtual-clock';

describe('turn limiter (logins, day loads)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({
      now: Date.UTC(2026, 5, 1),
      toFake: ['Date', 'setTimeout', 'clearTimeout'],
    });
  });
  afterEach(() => clock.restore());

  /** Asks for `n` turns; returns the releases in the order the turns were given. */
  function ask(limiter: TurnLimiter, n: number, signal?: AbortSignal) {
    const given: (() => void)[] = [];
    const failed: unknown[] = [];
    for (let i = 0; i < n; i += 1)
      limiter.turn(signal).then(
        (release) => given.push(release),
        (error: unknown) => failed.push(error),
      );
    return { given, failed };
  }

  it('starts at most `perSecond` logins in any second, and no fewer than 19', async () => {
    const limiter = new TurnLimiter({ concurrency: 100, perSecond: 20 });
    const startedAt: number[] = [];
    for (let i = 0; i < 50; i += 1) void limiter.turn().then(() => startedAt.push(Date.now()));
    await clock.tickAsync(3_000);
    expect(startedAt).to.have.length(50);
    for (const from of startedAt) {
      const inSecond = startedAt.filter((at) => at >= from && at < from + 1000).length;
      expect(inSecond).to.be.at.most(20);
      if (from + 1000 <= startedAt.at(-1)!) expect(inSecond).to.be.at.least(19);
    }
  });

  it('keeps at most `concurrency` logins under way; a release lets the next one go', async () => {
    const limiter = new TurnLimiter({ concurrency: 10, perSecond: 1000 });
    const { given } = ask(limiter, 25);
    await clock.tickAsync(5_000);
    expect(given).to.have.length(10);
    expect(limiter.inFlight).to.equal(10);
    expect(limiter.queued).to.equal(15);
    given[0]!();
    given[0]!(); // twice: still one turn given back
    given[1]!();
    await clock.tickAsync(5_000);
    expect(given).to.have.length(12);
    expect(limiter.inFlight).to.equal(10);
  });

  it('lets a closing client leave the queue with its reason', async () => {
    const limiter = new TurnLimiter({ concurrency: 1, perSecond: 1000 });
    const first = ask(limiter, 1);
    const controller = new AbortController();
    const waiting = ask(limiter, 2, controller.signal);
    await clock.tickAsync(10);
    const closed = new CgmError('CONFIG', 'the client was closed', { retryable: false });
    controller.abort(closed);
    await clock.tickAsync(10);
    expect(waiting.failed).to.deep.equal([closed, closed]);
    expect(limiter.queued).to.equal(0);
    first.given[0]!();
    expect(limiter.inFlight).to.equal(0);
  });

  it('is what a login policy hands its client; without one a turn is free', async () => {
    const limiter = new TurnLimiter({ concurrency: 1, perSecond: 1000 });
    const shared = new LoginPolicy({ turns: limiter });
    const release = await shared.turn();
    let second = false;
    void new LoginPolicy({ turns: limiter }).turn().then(() => (second = true));
    await clock.tickAsync(100);
    expect(second).to.equal(false);
    release();
    await clock.tickAsync(100);
    expect(second).to.equal(true);
    const own = await new LoginPolicy().turn();
    expect(own).to.be.a('function');
  });
});

describe('many accounts starting at once (followers sharing a limiter)', function () {
  this.timeout(30_000);
  const START = Date.UTC(2026, 5, 1, 8, 2, 0);

  function accounts(count: number): DexcomSimAccount[] {
    return Array.from({ length: count }, (_, i) => ({
      username: `many-${i}`,
      password: `many-password-${i}`,
      accountId: `0d0d0d0d-0000-4000-8000-${String(i).padStart(12, '0')}`,
      region: 'ous' as const,
      name: `Many ${i}`,
    }));
  }

  it('logs in at most 20 a second and 10 at once; accounts with a saved session do not log in', async () => {
    const virtual = new VirtualClock(START);
    const people = accounts(60);
    const sim = new Simulator({ providers: [new DexcomSimulator({ accounts: people })] });
    const followers: AccountFollower[] = [];
    try {
      const url = await sim.listen();
      const limiter = new TurnLimiter();
      let inFlight = 0;
      let most = 0;
      const turns = {
        turn: async (signal?: AbortSignal) => {
          const release = await limiter.turn(signal);
          most = Math.max(most, (inFlight += 1));
          return () => {
            inFlight -= 1;
            release();
          };
        },
      };
      // The first ten have a session saved by an earlier run.
      const stores = people.map(() => new MemoryAccountStore());
      const shown = new Set<string>();
      const follow = (account: DexcomSimAccount, store: MemoryAccountStore) => {
        const config = sourceConfigSchema.parse({
          provider: 'dexcom',
          region: 'ous',
          server: `${url}/dexcom/ous`,
          username: account.username,
          password: account.password,
        });
        const follower = new AccountFollower({
          key: `dexcom:${account.username}`,
          name: account.name ?? account.username,
          config,
          store,
          logger: silentLogger,
          clientOptions: { transport: new CountingTransport(virtual) },
          loginTurns: turns,
        });
        follower.on('reading', () => shown.add(account.username));
        followers.push(follower);
        return follower;
      };
      const earlier = people.slice(0, 10).map((a, i) => follow(a, stores[i]!));
      await Promise.all(earlier.map((f) => f.start()));
      await virtual.runUntil(START + 5_000);
      await Promise.all(followers.splice(0).map((f) => f.stop()));
      sim.clearRequests();
      shown.clear();

      const restart = START + 10_000;
      await virtual.runUntil(restart);
      await Promise.all(people.map((a, i) => follow(a, stores[i]!).start()));
      await virtual.runUntil(restart + 10_000);

      expect(shown.size).to.equal(60);
      const logins = sim.requests('LoginPublisherAccountById');
      expect(logins).to.have.length(50);
      const perSecond = new Map<number, number>();
      for (const login of logins) {
        const second = Math.floor((login.at - restart) / 1000);
        perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
      }
      expect(Math.max(...perSecond.values())).to.be.at.most(20);
      expect(most).to.be.within(1, 10);
      const saved = people.slice(0, 10).map((a) => a.accountId);
      expect(
        logins.filter((l) => saved.includes(String((l.json as { accountId?: string }).accountId))),
      ).to.have.length(0);
    } finally {
      await Promise.all(followers.map((f) => f.stop()));
      virtual.restore();
      await sim.close();
    }
  });
});
