import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/bridge/cli';
import { OUS, US, startSim, type SimRig } from '../providers/dexcom/helpers';
import { credentials, fakeIo } from './dexcom-cli';

describe('glucobridge upload', () => {
  let rig: SimRig;
  let dir: string;
  /** Every run keeps its position in a file of its own, never in the working directory. */
  const state = () => ['--state', join(dir, 'state.json')];
  beforeEach(async () => {
    rig = await startSim();
    dir = mkdtempSync(join(tmpdir(), 'gb-upload-'));
  });
  afterEach(async () => {
    await rig.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes what `read --json` prints and uploads it to another account, which reads it back', async () => {
    const read = fakeIo(credentials(US));
    expect(
      await main(
        ['read', '--provider', 'dexcom', '--server', rig.server(US), '--minutes', '60', '--json'],
        read,
      ),
    ).to.equal(0);
    const source = JSON.parse(read.out()) as { time: string; mgdl: number; trend: string }[];
    expect(source.length).to.be.within(11, 12);

    const upload = fakeIo(credentials(OUS), read.out());
    const code = await main(
      ['upload', '--serial', OUS.receiver!, '--server', rig.server(OUS), ...state()],
      upload,
    );
    expect(upload.err()).to.equal('');
    expect(code).to.equal(0);
    expect(upload.out()).to.match(
      new RegExp(`^uploaded ${source.length} reading\\(s\\) in 1 batch\\(es\\), 0 skipped`),
    );

    const back = fakeIo(credentials(OUS));
    await main(
      ['read', '--provider', 'dexcom', '--server', rig.server(OUS), '--minutes', '60', '--json'],
      back,
    );
    const copied = JSON.parse(back.out()) as { time: string; mgdl: number; trend: string; subject: string }[];
    expect(copied.map((r) => [r.time, r.mgdl, r.trend])).to.deep.equal(
      source.map((r) => [r.time, r.mgdl, r.trend]),
    );
    expect(copied[0]!.subject).to.equal(OUS.username);
  });

  it('refuses impossible readings with a CONFIG error naming the reading, before any request', async () => {
    const cases: [unknown[], RegExp][] = [
      [[{ time: '1970-01-01T00:00:00Z', mgdl: 1 }], /readings\[0\]\.time is before 2000/],
      [[{ time: new Date().toISOString(), mgdl: 1e308 }], /readings\[0\]\.mgdl .*impossible/],
      [
        [
          { time: new Date(Date.now() - 60_000).toISOString(), mgdl: 120 },
          { time: new Date(Date.now() - 30_000).toISOString(), mgdl: 1 },
        ],
        /readings\[1\]\.mgdl 1 mg\/dL is outside/,
      ],
    ];
    for (const [input, message] of cases) {
      const io = fakeIo(credentials(US), JSON.stringify(input));
      expect(
        await main(['upload', '--serial', US.receiver!, '--server', rig.server(US), ...state()], io),
      ).to.equal(2);
      expect(io.err())
        .to.match(/^CONFIG: /)
        .and.match(message);
      expect(io.err()).to.not.include('Invalid time value');
    }
    expect(rig.sim.requests()).to.have.length(0);
  });

  it('takes the receiver over only with --take-over-receiver', async () => {
    const input = JSON.stringify([{ time: new Date(Date.now() - 60_000).toISOString(), mgdl: 120 }]);
    const refused = fakeIo(credentials(US), input);
    expect(
      await main(['upload', '--serial', OUS.receiver!, '--server', rig.server(US), ...state()], refused),
    ).to.equal(2);
    expect(refused.err())
      .to.match(/^CONFIG: /)
      .and.match(/hint: .*--take-over-receiver/);
    const allowed = fakeIo(credentials(US), input);
    expect(
      await main(
        ['upload', '--serial', OUS.receiver!, '--server', rig.server(US), '--take-over-receiver', ...state()],
        allowed,
      ),
    ).to.equal(0);
    expect(rig.dexcom.state(US.username).assignedReceiver).to.equal(OUS.receiver);
  });

  it('exits 2 with the code and a hint, never a secret, when the password is wrong', async () => {
    const io = fakeIo({ ...credentials(US), GLUCOBRIDGE_PASSWORD: 'Wrong-Secret-42' }, '[]');
    io.readStdin = () => Promise.resolve(JSON.stringify([{ time: '2026-01-05T12:00:00Z', mgdl: 100 }]));
    expect(
      await main(['upload', '--serial', US.receiver!, '--server', rig.server(US), ...state()], io),
    ).to.equal(2);
    expect(io.err())
      .to.match(/^AUTH_INVALID: /)
      .and.match(/\nhint: .*region/);
    expect(io.err()).not.to.include('Wrong-Secret-42');
    expect(io.err()).not.to.include(US.username);
  });

  it('refuses bad input before any request', async () => {
    for (const [stdin, pattern] of [
      ['not json', /^CONFIG: standard input is not JSON/],
      ['[{"time":"yesterday","mgdl":100}]', /^CONFIG: readings: 0\.time/],
      ['[{"time":"2026-01-05T12:00:00Z","mgdl":"high"}]', /^CONFIG: readings: 0\.mgdl/],
      ['[{"time":"2026-01-05T12:00:00Z","mgdl":100,"trend":"sideways"}]', /^CONFIG: readings: 0\.trend/],
    ] as const) {
      const io = fakeIo(credentials(US), stdin);
      expect(await main(['upload', '--serial', 'SM1', '--server', rig.server(US), ...state()], io)).to.equal(
        2,
      );
      expect(io.err()).to.match(pattern);
    }
    const noSerial = fakeIo(credentials(US), '[]');
    expect(await main(['upload', '--server', rig.server(US), ...state()], noSerial)).to.equal(2);
    expect(noSerial.err()).to.match(/^usage: --serial is required/);
    expect(rig.sim.requests()).to.have.length(0);
  });
});
