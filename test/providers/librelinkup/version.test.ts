// Abbott raises LibreLinkUp's minimum app version with a week's notice: data calls then answer HTTP 403
// with {"status":920,"data":{"minimumVersion":…}}. The client adopts a valid, higher version once per
// call and keeps going; anything else is refused, and it never loops.
import { expect } from 'chai';
import type { LibreLinkUpConfig } from '../../../src/config';
import type { LibreLinkUpOptions } from '../../../src/providers/librelinkup/client';
import { LoginPolicy } from '../../../src/providers/login-policy';
import {
  compareAppVersions,
  NEWER_APP_HINT,
  parseAppVersion,
  startingVersion,
} from '../../../src/providers/librelinkup/version';
import type { AdoptedVersions } from '../../../src/providers/provider';
import { LIBRE_DEMO_ACCOUNTS, LibreLinkUpSimulator } from '../../../src/simulator/librelinkup';
import { Simulator } from '../../../src/simulator/server';
import { failure, makeClient, makeConfig } from './helpers';

const MIA = LIBRE_DEMO_ACCOUNTS[0]!.patients[0]!;

describe('LibreLinkUp app version: adopted from a 920 answer', () => {
  let sim: Simulator;
  let libre: LibreLinkUpSimulator;
  let server: string;

  beforeEach(async () => {
    libre = new LibreLinkUpSimulator();
    sim = new Simulator({ providers: [libre] });
    await sim.listen();
    server = `${sim.urlFor('librelinkup')}/{region}`;
  });
  afterEach(() => sim.close());

  function client(fields: Partial<LibreLinkUpConfig> = {}, options: LibreLinkUpOptions = {}) {
    const made = makeClient(makeConfig({ server, ...fields }), options);
    const adopted: AdoptedVersions[] = [];
    made.client.onVersions((v) => adopted.push(v));
    return { ...made, adopted };
  }

  /** The `version` header of each data call after `from` requests. */
  const versionsSent = (from: number) =>
    sim
      .requests('/llu/connections')
      .slice(from)
      .map((r) => r.headers.version);

  it('a server that starts answering 920 with 4.17.0: readings continue after one repeated call', async () => {
    const { client: c, logger, adopted } = client();
    expect((await c.latest())?.subject).to.equal(MIA.patientId);
    const before = sim.requests('/llu/connections').length;
    libre.requireVersion('4.17.0');
    expect((await c.latest())?.subject).to.equal(MIA.patientId);
    expect(versionsSent(before)).to.deep.equal(['4.16.0', '4.17.0']);
    expect(adopted).to.deep.equal([{ librelinkup: '4.17.0' }]);
    expect(logger.lines.filter((l) => l.includes('4.17.0'))).to.have.length(1);
    // From now on the new version goes out at once; no more 920s, no new login.
    await c.latest();
    expect(versionsSent(before)).to.deep.equal(['4.16.0', '4.17.0', '4.17.0']);
    expect(sim.requests('/llu/auth/login').filter((r) => r.path.startsWith('/eu/'))).to.have.length(1);
    expect(c.appVersion).to.equal('4.17.0');
  });

  it('calls running alongside adopt it once: one log line, one version to persist', async () => {
    const { client: c, logger, adopted } = client();
    await c.login();
    libre.requireVersion('4.17.0');
    const readings = await Promise.all([c.latest(), c.latest('Leo'), c.history({ minutes: 30 })]);
    expect(readings[0]).to.not.equal(null);
    expect(readings[1]).to.not.equal(null);
    expect(readings[2].length).to.be.greaterThan(0);
    expect(adopted).to.deep.equal([{ librelinkup: '4.17.0' }]);
    expect(logger.lines.filter((l) => l.includes('sending 4.17.0'))).to.have.length(1);
  });

  it('refuses a 920 asking for a lower version or an unreadable one, without repeating the call', async () => {
    for (const answer of ['4.12.0', '4.16.0', 'banana', '4.17.0-beta', '']) {
      const { client: c, adopted } = client();
      await c.login();
      libre.requireVersion('4.17.0', answer);
      const before = sim.requests('/llu/connections').length;
      const error = await failure(c.latest());
      expect(error.code, answer).to.equal('CONFIG');
      expect(error.hint, answer).to.equal(NEWER_APP_HINT);
      expect(error.vendorCode).to.equal('920');
      expect(versionsSent(before), answer).to.deep.equal(['4.16.0']);
      expect(adopted).to.deep.equal([]);
      expect(c.appVersion).to.equal('4.16.0');
      libre.requireVersion('4.16.0');
    }
  });

  it('never loops: a second 920 after adopting is an error, and so is the next call', async () => {
    const { client: c, adopted } = client();
    await c.login();
    // The cloud asks for 4.17.0 but refuses it too (it wants 4.18.0 without saying so).
    libre.requireVersion('4.18.0', '4.17.0');
    let before = sim.requests('/llu/connections').length;
    const error = await failure(c.latest());
    expect(error.code).to.equal('CONFIG');
    expect(error.message).to.contain('still refuses app version 4.17.0 after adopting it');
    expect(error.hint).to.equal(NEWER_APP_HINT);
    expect(versionsSent(before)).to.deep.equal(['4.16.0', '4.17.0']);
    before = sim.requests('/llu/connections').length;
    const again = await failure(c.latest());
    expect(again.message).to.contain('refuses app version 4.17.0 although it asks for 4.17.0');
    expect(versionsSent(before)).to.deep.equal(['4.17.0']);
    expect(adopted).to.deep.equal([{ librelinkup: '4.17.0' }]);
  });

  it('adopts a version asked for at login without sending the password twice; the next login sends it', async () => {
    libre.requireVersion('4.17.0');
    const time = { now: Date.now() };
    const { client: c, adopted } = client({}, { loginGate: new LoginPolicy({ now: () => time.now }) });
    const error = await failure(c.login());
    expect(error).to.include({ code: 'SERVER', retryable: true, vendorCode: '920' });
    expect(error.message).to.contain('asked for app version 4.17.0; the next login sends it');
    expect(adopted).to.deep.equal([{ librelinkup: '4.17.0' }]);
    const posts = () =>
      sim.requests('/llu/auth/login').map((r) => `${r.path.split('/')[1]} ${String(r.headers.version)}`);
    expect(posts()).to.deep.equal(['global 4.16.0']);
    time.now += 2 * 60_000;
    await c.login();
    expect(posts()).to.deep.equal(['global 4.16.0', 'global 4.17.0', 'eu 4.17.0']);
  });

  it('starts with a version adopted earlier; a configured version stays a floor', async () => {
    libre.requireVersion('4.17.0');
    const restored = client({}, { versions: { librelinkup: '4.17.0' } });
    await restored.client.login();
    expect(sim.requests().every((r) => r.headers.version === '4.17.0')).to.equal(true);
    expect(restored.adopted).to.deep.equal([]);

    expect(startingVersion('4.18.0', '4.17.0')).to.equal('4.18.0');
    expect(startingVersion('4.16.0', '4.17.0')).to.equal('4.17.0');
    expect(startingVersion('4.16.0', 'x.y')).to.equal('4.16.0');
    expect(startingVersion('4.16.0', undefined)).to.equal('4.16.0');
    const floor = client({ version: '4.18.0' }, { versions: { librelinkup: '4.17.0' } });
    expect(floor.client.appVersion).to.equal('4.18.0');
  });

  it('compares versions part by part', () => {
    expect(parseAppVersion('4.16.0')).to.deep.equal([4, 16, 0]);
    expect(parseAppVersion('4.16')).to.deep.equal([4, 16]);
    for (const bad of ['4', '4.16.0.1.2', 'v4.16.0', '4.16.0-beta', '', '99999.0.0']) {
      expect(parseAppVersion(bad), bad).to.equal(undefined);
    }
    expect(compareAppVersions('4.17.0', '4.16.9')).to.be.greaterThan(0);
    expect(compareAppVersions('4.16', '4.16.0')).to.equal(0);
    expect(compareAppVersions('4.9.0', '4.16.0')).to.be.lessThan(0);
  });
});
