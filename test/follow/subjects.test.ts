import { expect } from 'chai';
import { CgmError } from '../../src/model/errors';
import { chooseSubject, selectSubjects } from '../../src/model/subject';
import { subjectSlug } from '../../src/mqtt/subject';
import { credentialFingerprint, sameCredentials } from '../../src/follow/fingerprint';
import { parseSourceConfig } from '../../src/source';

const PEOPLE = [
  { id: 'p-ben', name: 'Ben Smith' },
  { id: 'p-anna', name: 'Anna Smith' },
  { id: 'p-anna2', name: 'Anna Jones' },
];

function notFound(fn: () => unknown): CgmError {
  try {
    fn();
  } catch (error) {
    return error as CgmError;
  }
  throw new Error('expected NOT_FOUND');
}

describe('choosing a person, slugs and fingerprints', () => {
  it('chooses by id, exact name, any case, then a unique first name', () => {
    expect(chooseSubject(PEOPLE, 'p-ben').name).to.equal('Ben Smith');
    expect(chooseSubject(PEOPLE, 'Anna Smith').id).to.equal('p-anna');
    expect(chooseSubject(PEOPLE, '  anna   SMITH ').id).to.equal('p-anna');
    expect(chooseSubject(PEOPLE, 'ben').id).to.equal('p-ben');
    expect(selectSubjects(PEOPLE, undefined)).to.have.length(3);
  });

  it('never picks another person: a near name or a shared first name is NOT_FOUND naming who is followed', () => {
    const near = notFound(() => chooseSubject(PEOPLE, 'Anna Smyth'));
    expect(near.code).to.equal('NOT_FOUND');
    expect(near.message).to.include('Ben Smith, Anna Smith, Anna Jones');
    expect(near.message).not.to.include('p-ben');
    const shared = notFound(() => chooseSubject(PEOPLE, 'anna'));
    expect(shared.code).to.equal('NOT_FOUND');
    expect(shared.message).to.match(/2 people/);
    expect(notFound(() => chooseSubject([], 'Anna')).message).to.include('follows nobody');
  });

  it('gives every name a slug: accents folded, other scripts transliterated or hashed', () => {
    expect(subjectSlug('Zoë Ölmann')).to.equal('zoe_olmann');
    expect(subjectSlug('Мария')).to.equal('mariya');
    expect(subjectSlug('李小龍')).to.match(/^p_[0-9a-f]{10}$/);
    expect(subjectSlug('李小龍')).to.equal(subjectSlug('李小龍'));
    expect(subjectSlug('Anna B')).to.equal(subjectSlug('Anna-B'));
    expect(() => subjectSlug('anna@example.org')).to.throw(CgmError);
    expect(() => subjectSlug('!!!')).to.throw(CgmError);
  });

  it('fingerprints credentials without keeping them: same credentials, same hex; any change, another', () => {
    const config = parseSourceConfig({
      provider: 'dexcom',
      region: 'ous',
      username: 'anna',
      password: 'pw-1',
    });
    const print = credentialFingerprint(config, 'salt-123456');
    expect(print).to.match(/^[0-9a-f]{64}$/);
    expect(print).not.to.include('pw-1');
    expect(sameCredentials(config, 'salt-123456', print)).to.equal(true);
    expect(sameCredentials({ ...config, name: 'Anna' }, 'salt-123456', print)).to.equal(true);
    for (const change of [{ password: 'pw-2' }, { region: 'us' as const }, { username: 'ben' }]) {
      expect(
        sameCredentials({ ...config, ...change }, 'salt-123456', print),
        JSON.stringify(change),
      ).to.equal(false);
    }
    expect(credentialFingerprint(config, 'other-salt-9')).to.not.equal(print);
  });
});
