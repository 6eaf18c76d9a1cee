import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { PlatformAccessory, Service } from 'homebridge';
import sinon from 'sinon';
import { STATE_FILE } from '../../homebridge/settings';
import { tracePoint } from '../../src/simulator/trace';
import {
  advance,
  ALEX,
  FAMILY,
  launch,
  SAM,
  settle,
  startRig,
  throughCache,
  type Host,
  type Rig,
} from './helpers';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0); // Sam's trace falls to LOW at 10:45 and rises to 156 by 13:00

function lightOf(accessory: PlatformAccessory): Service {
  return accessory.services.find((s) => s.subtype === 'glucose')!;
}

function alert(accessory: PlatformAccessory, subtype: string): Service {
  return accessory.services.find((s) => s.subtype === subtype)!;
}

describe('Homebridge platform (real HomebridgeAPI, simulated clouds)', () => {
  let rig: Rig;
  let clock: sinon.SinonFakeTimers;
  const hosts: Host[] = [];

  beforeEach(async () => {
    rig = await startRig();
    clock = sinon.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
      now: T0,
    });
  });

  afterEach(async () => {
    for (const host of hosts.splice(0)) await host.platform.stop();
    clock.restore();
    await rig.close();
  });

  async function start(config: Record<string, unknown>, cached: PlatformAccessory[] = []): Promise<Host> {
    const host = await launch(rig, config, cached);
    hosts.push(host);
    await advance(clock, rig.sim, 1_000, 1_000);
    return host;
  }

  const C = () => hosts[0]!.api.hap.Characteristic;

  it('creates one accessory per person: the Dexcom account and each LibreLinkUp patient', async () => {
    const host = await start({ accounts: [rig.dexcomAccount(SAM), rig.libreAccount()] });
    expect(host.registered.map((a) => a.displayName).sort()).to.deep.equal([
      'Leo Sample',
      'Mia Sample',
      'Sam',
    ]);
    expect(new Set(host.registered.map((a) => a.UUID)).size).to.equal(3);
    expect(new Set(host.registeredAs)).to.deep.equal(
      new Set(['@glucobridge/homebridge-glucobridge.GlucoBridge']),
    );
    const sam = host.registered.find((a) => a.displayName === 'Sam')!;
    const { Characteristic } = host.api.hap;
    const info = sam.getService(host.api.hap.Service.AccessoryInformation)!;
    expect(info.getCharacteristic(Characteristic.Model).value).to.equal('Dexcom Share');
    expect(info.getCharacteristic(Characteristic.Manufacturer).value).to.equal('GlucoBridge');
    expect(lightOf(sam).isPrimaryService).to.be.true;
    expect(
      sam.services.filter((s) => s.UUID === host.api.hap.Service.OccupancySensor.UUID).map((s) => s.subtype),
    ).to.deep.equal(['urgentLow', 'low', 'high']);
    expect(alert(sam, 'urgentLow').getCharacteristic(Characteristic.ConfiguredName).value).to.equal(
      'Urgent low',
    );
    // What Homebridge writes to its cache carries no login.
    const cache = JSON.stringify(host.registered.map((a) => ({ context: a.context, name: a.displayName })));
    for (const secret of [SAM.username, SAM.password, FAMILY.email, FAMILY.password])
      expect(cache).not.to.include(secret);
  });

  it('restores accessories from the cache without registering them again, then fills them with readings', async () => {
    const first = await start({ accounts: [rig.dexcomAccount(SAM), rig.libreAccount()] });
    await first.platform.stop();
    const second = await start(
      { accounts: [rig.dexcomAccount(SAM), rig.libreAccount()] },
      throughCache(first.registered),
    );
    expect(second.registered).to.be.empty;
    expect(second.unregistered).to.be.empty;
    expect([...second.platform.accessories.keys()].sort()).to.deep.equal(
      first.registered.map((a) => a.UUID).sort(),
    );
    await advance(clock, rig.sim, 2 * MINUTE);
    for (const handler of second.platform.accessories.values()) {
      const reading = handler.last!;
      expect(reading, handler.accessory.displayName).to.exist;
      expect(lightOf(handler.accessory).getCharacteristic(C().CurrentAmbientLightLevel).value).to.equal(
        reading.mgdl,
      );
    }
  });

  it('removes accessories whose account or patient left the configuration', async () => {
    const first = await start({ accounts: [rig.dexcomAccount(SAM), rig.libreAccount()] });
    await first.platform.stop();
    const cached = throughCache(first.registered);
    const second = await start({ accounts: [rig.libreAccount({ patient: 'mia  sample' })] }, cached);
    expect(second.unregistered.map((a) => a.displayName).sort()).to.deep.equal(['Leo Sample', 'Sam']);
    expect([...second.platform.accessories.values()].map((h) => h.accessory.displayName)).to.deep.equal([
      'Mia Sample',
    ]);
  });

  it('keeps restored accessories while a cloud is down at start, and fills them once it answers', async () => {
    const first = await start({ accounts: [rig.libreAccount()] });
    await first.platform.stop();
    rig.sim.faults.add({
      kind: 'status',
      status: 503,
      provider: 'librelinkup',
      path: '/llu/connections',
      times: Infinity,
    });
    const second = await launch(rig, { accounts: [rig.libreAccount()] }, throughCache(first.registered), {
      waitForStart: false,
    });
    hosts.push(second);
    await advance(clock, rig.sim, 30_000, 1_000);
    await second.platform.whenStarted();
    expect(second.unregistered).to.be.empty;
    const handlers = [...second.platform.accessories.values()];
    expect(handlers).to.have.length(2);
    for (const handler of handlers) {
      expect(lightOf(handler.accessory).getCharacteristic(C().StatusFault).value).to.equal(1);
      expect(handler.last).to.be.undefined;
    }
    rig.sim.faults.clear();
    await advance(clock, rig.sim, 3 * MINUTE, 10_000);
    for (const handler of handlers) {
      expect(handler.last, handler.accessory.displayName).to.exist;
      expect(lightOf(handler.accessory).getCharacteristic(C().StatusFault).value).to.equal(0);
    }
    expect(second.registered).to.be.empty;
  });

  it('answers "No Response" until the first reading is known', async () => {
    rig.sim.faults.add({ kind: 'status', provider: 'dexcom', path: 'ReadPublisherLatest', times: Infinity });
    const host = await start({ accounts: [rig.dexcomAccount(SAM)] });
    const sam = host.registered[0]!;
    const failure = host.api.hap.HAPStatus.SERVICE_COMMUNICATION_FAILURE;
    const light = lightOf(sam).getCharacteristic(C().CurrentAmbientLightLevel);
    const low = alert(sam, 'low').getCharacteristic(C().OccupancyDetected);
    for (const characteristic of [light, low]) {
      const outcome = await characteristic.handleGetRequest().then(
        () => 'answered',
        (status: unknown) => status,
      );
      expect(outcome).to.equal(failure);
    }
    rig.sim.faults.clear();
    await advance(clock, rig.sim, 5 * MINUTE);
    expect(await light.handleGetRequest()).to.equal(host.platform.accessories.get(sam.UUID)!.last!.mgdl);
  });

  it('follows the trace through urgent low, low and high (thresholds from the config)', async () => {
    const host = await start({
      accounts: [rig.dexcomAccount(SAM)],
      thresholds: { urgentLow: 55, low: 70, high: 150 },
    });
    const handler = [...host.platform.accessories.values()][0]!;
    const sam = handler.accessory;
    const seen = new Set<string>();
    const times = new Set<number>();
    await advance(clock, rig.sim, 3.25 * 60 * MINUTE, 30_000, () => {
      const reading = handler.last;
      if (!reading) return;
      times.add(reading.time.getTime());
      // The value shown is the simulator's trace at that instant, never more than one reading behind
      // (due time 5 min + 20 s lag + up to 10 s jitter, seen at 30 s steps).
      expect(reading.mgdl).to.equal(tracePoint(SAM.accountId, reading.time.getTime(), 'brittle').mgdl);
      expect(Date.now() - reading.time.getTime()).to.be.at.most(6 * MINUTE + 1_000);
      const value = (subtype: string) => alert(sam, subtype).getCharacteristic(C().OccupancyDetected).value;
      const lux = lightOf(sam).getCharacteristic(C().CurrentAmbientLightLevel).value;
      expect(lux).to.equal(reading.mgdl);
      expect(value('urgentLow')).to.equal(reading.mgdl <= 55 ? 1 : 0);
      expect(value('low')).to.equal(reading.mgdl <= 70 ? 1 : 0);
      expect(value('high')).to.equal(reading.mgdl >= 150 ? 1 : 0);
      seen.add(['urgentLow', 'low', 'high'].filter((s) => value(s) === 1).join('+') || 'in range');
    });
    expect([...seen].sort()).to.deep.equal(['high', 'in range', 'low', 'urgentLow+low']);
    expect(times.size).to.be.within(38, 40); // one reading per 5 minutes, none skipped
  });

  it('flags stale data on every sensor, logs it once, and clears the fault when readings resume', async () => {
    const host = await start({ accounts: [rig.dexcomAccount(SAM)], staleMinutes: 15 });
    await advance(clock, rig.sim, 6 * MINUTE);
    const handler = [...host.platform.accessories.values()][0]!;
    const services = handler.accessory.services.filter((s) => s.subtype);
    const shown = handler.last!.mgdl;
    expect(services.map((s) => s.getCharacteristic(C().StatusFault).value)).to.deep.equal([0, 0, 0, 0]);

    rig.sim.faults.add({
      kind: 'status',
      status: 503,
      provider: 'dexcom',
      path: 'ReadPublisherLatest',
      times: Infinity,
    });
    await advance(clock, rig.sim, 25 * MINUTE);
    expect(services.map((s) => s.getCharacteristic(C().StatusFault).value)).to.deep.equal([1, 1, 1, 1]);
    expect(services.map((s) => s.getCharacteristic(C().StatusActive).value)).to.deep.equal([
      false,
      false,
      false,
      false,
    ]);
    expect(lightOf(handler.accessory).getCharacteristic(C().CurrentAmbientLightLevel).value).to.equal(shown);
    expect(host.log.lines.filter((l) => /no new reading/.test(l.message))).to.have.length(1);
    expect(host.log.lines.filter((l) => l.level === 'warn' && /SERVER/.test(l.message))).to.have.length(1);

    rig.sim.faults.clear();
    await advance(clock, rig.sim, 16 * MINUTE);
    expect(services.map((s) => s.getCharacteristic(C().StatusFault).value)).to.deep.equal([0, 0, 0, 0]);
    expect(handler.last!.time.getTime()).to.be.greaterThan(Date.now() - 6 * MINUTE);
  });

  it('stops only the account with a wrong password, after one login, and says so once with the hint', async () => {
    const wrong = rig.dexcomAccount(SAM, { password: 'a-wrong-password' });
    const host = await start({ accounts: [wrong, rig.dexcomAccount(ALEX)] });
    await advance(clock, rig.sim, 30 * MINUTE);
    const logins = rig.sim
      .requests('AuthenticatePublisherAccount')
      .filter((r) => JSON.stringify(r.json).includes(SAM.username));
    expect(logins).to.have.length(1);
    const refused = host.log.lines.filter((l) => l.level === 'error');
    expect(refused).to.have.length(1);
    expect(refused[0]!.message).to.match(
      /^Sam: AUTH_INVALID: .* \(.*region.*\)\. Not trying again until the configuration changes\.$/,
    );
    const said = host.log.lines.filter((l) => l.level !== 'debug' && /AUTH_INVALID/.test(l.message));
    expect(said).to.have.length(1);
    // The hint names the fields of the settings form, never a variable of the command line.
    expect(refused[0]!.message).to.contain('or log in with the "account ID"');
    expect(refused[0]!.message).not.to.match(/GLUCOBRIDGE_|--/);

    const byName = (name: string) =>
      [...host.platform.accessories.values()].find((h) => h.accessory.displayName === name)!;
    const sam = byName('Sam');
    expect(lightOf(sam.accessory).getCharacteristic(C().StatusFault).value).to.equal(1);
    expect(sam.last).to.be.undefined;
    const alex = byName('Alex');
    expect(alex.last!.time.getTime()).to.be.greaterThan(Date.now() - 6 * MINUTE);
    expect(lightOf(alex.accessory).getCharacteristic(C().StatusFault).value).to.equal(0);

    const everything = host.log.lines.map((l) => l.message).join('\n');
    for (const secret of [SAM.username, 'a-wrong-password', ALEX.username, ALEX.password]) {
      expect(everything).not.to.include(secret);
    }
  });

  it('keeps session tokens in a file only its owner can read, and reuses them after a restart', async () => {
    const first = await start({ accounts: [rig.dexcomAccount(SAM), rig.libreAccount()] });
    await advance(clock, rig.sim, 6 * MINUTE);
    await first.platform.stop();
    const file = join(rig.storage, STATE_FILE);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const stored = readFileSync(file, 'utf8');
    for (const secret of [SAM.username, SAM.password, FAMILY.email, FAMILY.password])
      expect(stored).not.to.include(secret);
    expect(Object.keys((JSON.parse(stored) as { accounts: object }).accounts)).to.have.length(2);

    const dexcomLogins = rig.sim.requests('LoginPublisherAccountById').length;
    const libreLogins = rig.sim.requests('/llu/auth/login').length;
    const second = await start(
      { accounts: [rig.dexcomAccount(SAM), rig.libreAccount()] },
      throughCache(first.registered),
    );
    await advance(clock, rig.sim, 6 * MINUTE);
    await settle(rig.sim);
    expect(rig.sim.requests('LoginPublisherAccountById')).to.have.length(dexcomLogins);
    expect(rig.sim.requests('/llu/auth/login')).to.have.length(libreLogins);
    for (const handler of second.platform.accessories.values()) expect(handler.last).to.exist;
  });

  it('tells a Dexcom account without a login to fill the username or account ID fields', async () => {
    const { username: _username, ...noLogin } = rig.dexcomAccount(SAM);
    const host = await start({ accounts: [noLogin, rig.dexcomAccount(ALEX)] });
    await advance(clock, rig.sim, MINUTE);
    const errors = host.log.lines.filter((l) => l.level === 'error').map((l) => l.message);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.contain('give the "username" or the "account ID"');
    expect(errors[0]).not.to.match(/GLUCOBRIDGE_|--/);
  });

  it('skips an account that is not valid, names the field, and runs the others', async () => {
    const host = await start({ accounts: [{ provider: 'dexcom', name: 'Broken' }, rig.dexcomAccount(ALEX)] });
    const errors = host.log.lines.filter((l) => l.level === 'error').map((l) => l.message);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.include('accounts[0].password');
    expect(host.registered.map((a) => a.displayName)).to.deep.equal(['Alex']);
  });

  it('starts nothing and keeps cached accessories when the platform block itself is not valid', async () => {
    const first = await start({ accounts: [rig.dexcomAccount(SAM)] });
    await first.platform.stop();
    const second = await start(
      { accounts: [rig.dexcomAccount(SAM)], units: 'furlongs' },
      throughCache(first.registered),
    );
    expect(second.unregistered).to.be.empty;
    expect(second.log.lines.some((l) => l.level === 'error' && l.message.includes('units'))).to.be.true;
    const handler = [...second.platform.accessories.values()][0]!;
    expect(lightOf(handler.accessory).getCharacteristic(C().StatusFault).value).to.equal(1);
  });

  it('stops every timer on shutdown', async () => {
    const host = await start({ accounts: [rig.dexcomAccount(SAM), rig.libreAccount()] });
    await advance(clock, rig.sim, 2 * MINUTE);
    host.api.signalShutdown();
    await host.platform.stop();
    expect(clock.countTimers()).to.equal(0);
  });

  describe('the account follower underneath (issue cases)', () => {
    const samLogins = () =>
      rig.sim
        .requests('AuthenticatePublisherAccount')
        .filter((r) => JSON.stringify(r.json).includes(SAM.username));

    it('sends a refused password once across three restarts (a fourth would lock the real account)', async () => {
      const wrong = rig.dexcomAccount(SAM, { password: 'a-wrong-password' });
      let cached: PlatformAccessory[] = [];
      for (let run = 0; run < 3; run += 1) {
        const host = await launch(rig, { accounts: [wrong] }, throughCache(cached));
        await advance(clock, rig.sim, 5 * MINUTE);
        cached = [...cached, ...host.registered];
        const sam = [...host.platform.accessories.values()][0]!;
        expect(
          lightOf(sam.accessory).getCharacteristic(host.api.hap.Characteristic.StatusFault).value,
          `run ${run}`,
        ).to.equal(1);
        await host.platform.stop();
      }
      expect(samLogins()).to.have.length(1);
      const fixed = await start({ accounts: [rig.dexcomAccount(SAM)] }, throughCache(cached));
      await advance(clock, rig.sim, 2 * MINUTE);
      expect(samLogins()).to.have.length(2);
      expect([...fixed.platform.accessories.values()][0]!.last).to.exist;
    });

    it('waits out a temporary LibreLinkUp lock at start, then follows on its own', async () => {
      // Another app tried a wrong password three times: logins are locked for 300 s.
      rig.libre.lock(FAMILY.email, Date.now() + 300_000);
      const host = await start({ accounts: [rig.libreAccount()] });
      await advance(clock, rig.sim, 4 * MINUTE);
      expect(rig.sim.requests('/llu/auth/login')).to.have.length(1);
      expect(host.log.lines.some((l) => l.message.includes('ACCOUNT_LOCKED'))).to.equal(true);
      await advance(clock, rig.sim, 10 * MINUTE);
      const handlers = [...host.platform.accessories.values()];
      expect(handlers).to.have.length(2);
      for (const handler of handlers) expect(handler.last, handler.accessory.displayName).to.exist;
    });

    it('keeps a person whose connection is missing from one answer (or an empty list): faulted, never removed', async () => {
      const host = await start({ accounts: [rig.libreAccount({ patient: 'Mia' })] });
      await advance(clock, rig.sim, 2 * MINUTE);
      const mia = [...host.platform.accessories.values()][0]!;
      expect(mia.accessory.displayName).to.equal('Mia Sample');
      const before = mia.last!.time.getTime();
      rig.sim.faults.add({
        kind: 'rewrite',
        provider: 'librelinkup',
        path: '/llu/connections',
        times: Infinity,
        rewrite: (response) => ({ ...response, body: { ...(response.body as object), data: [] } }),
      });
      await advance(clock, rig.sim, 20 * MINUTE);
      expect(host.unregistered).to.be.empty;
      expect(lightOf(mia.accessory).getCharacteristic(C().StatusFault).value).to.equal(1);
      await host.platform.stop();
      // A restart while the list is still empty keeps her too.
      const again = await start(
        { accounts: [rig.libreAccount({ patient: 'Mia' })] },
        throughCache(host.registered),
      );
      await advance(clock, rig.sim, 5 * MINUTE);
      expect(again.unregistered).to.be.empty;
      rig.sim.faults.clear();
      await advance(clock, rig.sim, 5 * MINUTE);
      const back = [...again.platform.accessories.values()][0]!;
      expect(back.last!.time.getTime()).to.be.greaterThan(before);
      expect(lightOf(back.accessory).getCharacteristic(C().StatusFault).value).to.equal(0);
    });
  });
});
