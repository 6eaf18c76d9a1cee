import { expect } from 'chai';
import { CgmError } from '../../src/model/errors';
import { LoginPolicy, type LoginMemory } from '../../src/providers/login-policy';

const MINUTE = 60_000;

function policy(memory?: LoginMemory) {
  const clock = { now: 1_800_000_000_000 };
  const saved: LoginMemory[] = [];
  const p = new LoginPolicy({
    ...(memory ? { memory } : {}),
    now: () => clock.now,
    random: () => 1,
    onChange: (m) => saved.push(m),
  });
  return { p, clock, saved };
}

const codeOf = (p: LoginPolicy) => p.blocked?.code;

describe('LoginPolicy (when a password may be sent)', () => {
  it('never admits a refused password again, and says so with the same error', () => {
    const { p, saved } = policy();
    const refused = new CgmError('AUTH_INVALID', 'wrong password', { hint: 'check it' });
    expect(p.failed(refused)).to.equal(refused);
    expect(() => p.admit())
      .to.throw(CgmError)
      .that.equals(refused);
    expect(saved.at(-1)?.refused?.message).to.equal('wrong password');
  });

  it('restores a refusal from an earlier run', () => {
    const { p } = policy({ refused: { code: 'AUTH_INVALID', message: 'wrong password', at: 1 } });
    expect(codeOf(p)).to.equal('AUTH_INVALID');
    expect(p.blocked?.message).to.match(/refused at 1970-01-01T00:00:00Z; not sent again until it changes/);
  });

  it('waits out a lock for its stated time, doubling while it lasts, and forgets it after a success', () => {
    const { p, clock, saved } = policy();
    const locked = () => new CgmError('ACCOUNT_LOCKED', 'locked', { retryAfterMs: 10 * MINUTE });
    expect(p.failed(locked()).retryAfterMs).to.equal(10 * MINUTE);
    expect(codeOf(p)).to.equal('ACCOUNT_LOCKED');
    clock.now += 10 * MINUTE;
    expect(codeOf(p)).to.equal(undefined);
    expect(p.failed(locked()).retryAfterMs).to.equal(20 * MINUTE);
    clock.now += 20 * MINUTE;
    p.succeeded();
    expect(saved.at(-1)).to.deep.equal({});
    expect(p.failed(locked()).retryAfterMs).to.equal(10 * MINUTE);
  });

  it('waits 15 minutes for a lock that names no time', () => {
    const { p } = policy();
    expect(p.failed(new CgmError('ACCOUNT_LOCKED', 'locked')).retryAfterMs).to.equal(15 * MINUTE);
  });

  it('backs server failures off exponentially to an hour, a Retry-After winning', () => {
    const { p, clock } = policy();
    const waits: number[] = [];
    for (let i = 0; i < 9; i += 1) {
      const wait = p.failed(new CgmError('SERVER', 'HTTP 500')).retryAfterMs!;
      waits.push(wait / MINUTE);
      expect(codeOf(p)).to.equal('SERVER');
      expect(p.blocked?.detail.login).to.equal(true);
      clock.now += wait;
      expect(codeOf(p)).to.equal(undefined);
    }
    expect(waits).to.deep.equal([1, 2, 4, 8, 16, 32, 60, 60, 60]);
    expect(
      p.failed(new CgmError('RATE_LIMITED', '429', { retryAfterMs: 3 * 60 * MINUTE })).retryAfterMs,
    ).to.equal(3 * 60 * MINUTE);
  });

  it('waits for the configuration after a terms step or a configuration mistake (not persisted)', () => {
    const { p, saved } = policy();
    const terms = new CgmError('TERMS_REQUIRED', 'accept the terms');
    p.failed(terms);
    expect(p.blocked).to.equal(terms);
    expect(saved).to.deep.equal([]);
  });
});
