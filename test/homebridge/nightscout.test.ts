// Nightscout in Homebridge, through the real HomebridgeAPI: a site as an accessory like the clouds, and
// an account's `nightscout` block uploading what the accessory shows.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_FILE } from '../../homebridge/settings';
import { parsePlatformConfig } from '../../homebridge/config';
import { siteSubjectId } from '../../src/providers/nightscout/client';
import { demoSite, readToken } from '../providers/nightscout/helpers';
import { launch, realSleep, SAM, startRig, type Host, type Rig } from './helpers';

describe('Homebridge platform with Nightscout (real HomebridgeAPI, simulated sites)', () => {
  let rig: Rig;
  const hosts: Host[] = [];

  beforeEach(async () => {
    rig = await startRig();
  });
  afterEach(async () => {
    for (const host of hosts.splice(0)) await host.platform.stop();
    await rig.close();
  });

  async function start(config: Record<string, unknown>): Promise<Host> {
    const host = await launch(rig, config);
    hosts.push(host);
    return host;
  }

  async function until(found: () => boolean, what: string): Promise<void> {
    for (let i = 0; i < 500; i += 1) {
      if (found()) return;
      await realSleep(10);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('shows a Nightscout site as an accessory with its glucose, named by the account', async () => {
    const host = await start({
      accounts: [
        { provider: 'nightscout', name: 'Mia', server: rig.site('mia'), token: readToken('mia') },
        // A readable site needs no secret; the form saves cleared fields as "".
        { provider: 'nightscout', server: rig.site('leo'), token: '', apiSecret: '', name: 'Leo' },
        {
          provider: 'nightscout',
          server: rig.site('noah'),
          token: readToken('noah'),
          api: 'v3',
          name: 'Noah',
        },
      ],
    });
    expect(host.registered.map((a) => a.displayName).sort()).to.deep.equal(['Leo', 'Mia', 'Noah']);
    const { Characteristic, Service } = host.api.hap;
    const handlers = [...host.platform.accessories.values()];
    await until(() => handlers.every((h) => h.last !== undefined), 'every reading');
    const mia = host.registered.find((a) => a.displayName === 'Mia')!;
    const info = mia.getService(Service.AccessoryInformation)!;
    expect(info.getCharacteristic(Characteristic.Model).value).to.equal('Nightscout');
    const light = mia.services.find((s) => s.subtype === 'glucose')!;
    const handler = host.platform.accessories.get(mia.UUID)!;
    expect(light.getCharacteristic(Characteristic.CurrentAmbientLightLevel).value).to.equal(
      handler.last!.mgdl,
    );
    expect(handler.last!.provider).to.equal('nightscout');
    const logged = host.log.lines.map((l) => l.message).join('\n');
    for (const token of [readToken('mia'), readToken('noah')]) expect(logged).not.to.contain(token);
  });

  it('uploads the readings of a Dexcom account to its Nightscout site, once each', async () => {
    const host = await start({
      accounts: [
        rig.dexcomAccount(SAM, {
          nightscout: { server: rig.site('relay'), apiSecret: demoSite('relay').apiSecret, api: '' },
        }),
      ],
    });
    const handler = [...host.platform.accessories.values()][0]!;
    await until(() => handler.last !== undefined, 'the first reading');
    await until(() => rig.nightscout.uploads('relay').length > 0, 'the upload');
    const uploads = rig.nightscout.uploads('relay');
    expect(uploads.map((u) => [u.api, u.date, u.sgv, u.device])).to.deep.equal([
      ['v1', handler.last!.time.getTime(), handler.last!.mgdl, 'glucobridge-dexcom'],
    ]);
    await host.platform.stop();
    hosts.splice(0);
    const saved = JSON.parse(readFileSync(join(rig.storage, STATE_FILE), 'utf8')) as {
      accounts: Record<string, { uploads?: Record<string, number> }>;
    };
    expect(Object.values(saved.accounts)[0]!.uploads).to.deep.equal({
      [siteSubjectId(rig.site('relay'))]: handler.last!.time.getTime(),
    });
    // A second start uploads nothing already on the site.
    const again = await start({
      accounts: [
        rig.dexcomAccount(SAM, {
          nightscout: { server: rig.site('relay'), apiSecret: demoSite('relay').apiSecret },
        }),
      ],
    });
    const second = [...again.platform.accessories.values()][0]!;
    await until(() => second.last !== undefined, 'the reading after the restart');
    await realSleep(300);
    expect(rig.nightscout.uploads('relay')).to.have.length(1);
  });

  it('reads the form: an empty upload block is no destination, a wrong one is named', () => {
    const parsed = parsePlatformConfig({
      accounts: [
        {
          provider: 'dexcom',
          username: 'a',
          password: 'b',
          nightscout: { server: '', token: '', api: 'v1' },
        },
        { provider: 'dexcom', username: 'c', password: 'd', nightscout: { server: 'https://c.example.org' } },
        { provider: 'nightscout', server: 'https://e.example.org', name: 'E' },
        {
          provider: 'dexcom',
          username: 'f',
          password: 'g',
          nightscout: { server: 'https://f.example.org', token: 'u-1' },
        },
      ],
    });
    if (!parsed.ok) throw new Error(parsed.error);
    const [a, c, e, f] = parsed.accounts;
    expect(a!.config?.provider).to.equal('dexcom');
    expect(a!.nightscout).to.equal(undefined);
    expect(c!.error).to.match(
      /accounts\[1\]\.nightscout: uploading needs the site's "apiSecret" or a "token"/,
    );
    expect(e).to.deep.include({ provider: 'nightscout', label: 'E' });
    expect(e!.config).to.deep.include({ provider: 'nightscout', server: 'https://e.example.org', api: 'v1' });
    expect(f!.nightscout).to.deep.include({ server: 'https://f.example.org', token: 'u-1', api: 'v1' });
  });
});
