// Issue 11: uploads that never repeat (a remembered position), never flood (5-minute spacing), lose
// nothing in a partly duplicate batch, and keep a relayed reading's instant.
import { expect } from 'chai';
import { MemoryAccountStore } from '../../../src/follow/account-state';
import { uploadPositions } from '../../../src/follow/upload-positions';
import { HttpTransport } from '../../../src/http/transport';
import type { CgmError } from '../../../src/model/errors';
import { DexcomClient } from '../../../src/providers/dexcom/client';
import {
  DEFAULT_UPLOAD_SPACING_MS,
  DexcomPublisher,
  type UploadReading,
} from '../../../src/providers/dexcom/publisher';
import { DexcomSimulator, type DexcomSimulatorOptions } from '../../../src/simulator/dexcom';
import { Simulator } from '../../../src/simulator/server';
import { tracePoint } from '../../../src/simulator/trace';
import { FAST_RETRY, OUS, US, dexcomConfig, rejection, startSim, type SimRig } from './helpers';

const SECOND = 1_000;
const MINUTE = 60_000;
const STEP = 5 * MINUTE;
const SERIAL = US.receiver!;

/** `count` readings `stepMs` apart, the last one at the last whole minute before now, oldest first. */
function source(count: number, stepMs: number, seed = 'source'): UploadReading[] {
  const last = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
  return Array.from({ length: count }, (_, i) => {
    const time = last - (count - 1 - i) * stepMs;
    const point = tracePoint(seed, time, 'steady');
    return { time: new Date(time), mgdl: point.mgdl, trend: point.trend };
  });
}

const times = (readings: { time: Date }[]) => readings.map((r) => r.time.getTime());

describe('DexcomPublisher: position, spacing, duplicates, time', () => {
  let rig: SimRig;
  async function start(options: DexcomSimulatorOptions = {}) {
    rig = await startSim(options);
  }
  afterEach(async () => {
    await rig.close();
  });

  const stored = (username = US.username) =>
    [...rig.dexcom.state(username).uploads.keys()].sort((a, b) => a - b);

  describe('spacing', () => {
    beforeEach(() => start());

    it('a 1-minute source of 60 minutes uploads 12–13 readings, 5 minutes apart, whether in one batch or one by one', async () => {
      const minutes = source(60, MINUTE);
      const batch = new DexcomPublisher(rig.client({ serial: SERIAL }));
      const result = await batch.upload(minutes);
      expect(result.uploaded).to.be.within(12, 13);
      expect(result.uploaded + result.skipped).to.equal(60);
      expect(rig.dexcom.state(US.username).egvsPosted).to.equal(result.uploaded * 2); // the session start resends the first post
      const kept = stored();
      expect(kept).to.have.length(result.uploaded);
      for (let i = 1; i < kept.length; i += 1) expect(kept[i]! - kept[i - 1]!).to.equal(5 * MINUTE);
      expect(kept[0]).to.equal(minutes[0]!.time.getTime());

      // The relay case: readings arriving one a minute, each its own upload.
      const relay = new DexcomPublisher(
        rig.client({
          region: 'ous',
          username: OUS.username,
          password: OUS.password,
          server: rig.server(OUS),
          serial: OUS.receiver!,
        }),
      );
      let uploaded = 0;
      for (const reading of minutes) uploaded += (await relay.upload([reading])).uploaded;
      expect(stored(OUS.username)).to.deep.equal(kept);
      expect(uploaded).to.equal(kept.length);
    });

    it('keeps the spacing from the stored position, and 0 sends every reading', async () => {
      const minutes = source(12, MINUTE);
      const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }), {
        lastUploaded: new Date(minutes[0]!.time.getTime() - 2 * MINUTE),
      });
      const result = await publisher.upload(minutes);
      // Position at -2 min: the next one kept is at +3 min (5 min later), then +8 min.
      expect(stored()).to.deep.equal([3, 8].map((i) => minutes[i]!.time.getTime()));
      expect(result).to.include({ uploaded: 2, skipped: 10 });
      const every = new DexcomPublisher(rig.client({ serial: SERIAL }), { spacingMs: 0 });
      expect(await every.upload(minutes)).to.include({ uploaded: 12, skipped: 0 });
      expect(stored()).to.deep.equal(times(minutes));
      expect(DEFAULT_UPLOAD_SPACING_MS).to.equal(4 * MINUTE + 45 * SECOND);
    });

    it('refuses a spacing that is negative or not a number before any request', async () => {
      const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }));
      for (const spacingMs of [-1, Number.NaN, 2 * 86_400_000]) {
        const error = (await rejection(publisher.upload(source(2, STEP), { spacingMs }))) as CgmError;
        expect(error.code).to.equal('CONFIG');
      }
      expect(rig.sim.requests()).to.have.length(0);
    });
  });

  describe('the position in the state store', () => {
    beforeEach(() => start());

    it('a restart posts only what is new and says how many it skipped; other positions stay', async () => {
      const store = new MemoryAccountStore({ uploads: { 'nightscout:0123abcd': 1_700_000_000_000 } });
      const readings = source(7, STEP);
      const first = new DexcomPublisher(rig.client({ serial: SERIAL }), {
        positions: uploadPositions(store),
      });
      expect(await first.upload(readings.slice(0, 6))).to.include({ uploaded: 6, skipped: 0 });
      expect(store.current.uploads).to.deep.equal({
        'nightscout:0123abcd': 1_700_000_000_000,
        [`dexcom:${SERIAL}`]: readings[5]!.time.getTime(),
      });
      const posted = rig.dexcom.state(US.username).egvsPosted;

      // A new process: a new client and publisher, the same store.
      const again = new DexcomPublisher(rig.client({ serial: SERIAL }), {
        positions: uploadPositions(store),
      });
      const result = await again.upload(readings);
      expect(result).to.include({ uploaded: 1, skipped: 6 });
      expect(result.lastUploaded!.getTime()).to.equal(readings[6]!.time.getTime());
      expect(rig.dexcom.state(US.username).egvsPosted - posted).to.equal(1);
      const nothing = await new DexcomPublisher(rig.client({ serial: SERIAL }), {
        positions: uploadPositions(store),
      }).upload(readings);
      expect(nothing).to.include({ uploaded: 0, skipped: 7 });
      expect(stored()).to.deep.equal(times(readings));
    });

    it('ignores a stored position from a clock far in the future (it would stop every upload)', async () => {
      const store = new MemoryAccountStore({
        uploads: { [`dexcom:${SERIAL}`]: Date.now() + 3 * 86_400_000 },
      });
      const readings = source(3, STEP);
      const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }), {
        positions: uploadPositions(store),
      });
      expect(await publisher.upload(readings)).to.include({ uploaded: 3 });
      expect(store.current.uploads?.[`dexcom:${SERIAL}`]).to.equal(readings[2]!.time.getTime());
    });

    it('two uploads at once post each reading once', async () => {
      const readings = source(6, STEP);
      const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }));
      const [a, b] = await Promise.all([publisher.upload(readings), publisher.upload(readings)]);
      expect(a.uploaded + b.uploaded).to.equal(6);
      expect(stored()).to.deep.equal(times(readings));
      const posts = rig.sim.requests('PostReceiverEgvRecords').map((r) => r.json as { Egvs: unknown[] });
      // The first post meets the inactive monitoring session and is sent again once.
      expect(posts.reduce((n, p) => n + p.Egvs.length, 0)).to.equal(12);
    });
  });

  describe('a batch that holds a reading Dexcom already has', () => {
    beforeEach(() => start({ duplicates: 'refuse-batch' }));

    /** Dexcom already holds these readings (another run of the uploader sent them). */
    function preStore(readings: UploadReading[]): void {
      const state = rig.dexcom.state(US.username);
      for (const r of readings)
        state.uploads.set(r.time.getTime(), { time: r.time.getTime(), mgdl: r.mgdl, trendCode: 4 });
    }

    it('loses nothing: Dexcom’s own record tells which it has, the rest is posted once', async () => {
      const readings = source(20, STEP, 'mixed');
      preStore([readings[3]!, readings[7]!, readings[12]!]);
      const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }));
      const result = await publisher.upload(readings);
      expect(result).to.include({ uploaded: 20, skipped: 0 });
      expect(stored()).to.deep.equal(times(readings));
      expect(rig.sim.requests('ReadPublisherLatestGlucoseValues')).to.have.length(1);
      // The batch (twice: the session start), then the 17 new ones.
      expect(rig.dexcom.state(US.username).egvsPosted).to.equal(20 + 20 + 17);
      expect(publisher.pendingCount).to.equal(0);
      expect(result.lastUploaded!.getTime()).to.equal(readings[19]!.time.getTime());
    });

    it('loses nothing when Dexcom’s record cannot be read: halves, down to single readings', async () => {
      const readings = source(20, STEP, 'halves');
      preStore([readings[0]!, readings[9]!, readings[10]!, readings[19]!]);
      rig.sim.faults.add({
        kind: 'status',
        status: 503,
        path: 'ReadPublisherLatestGlucoseValues',
        times: 100,
      });
      const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }));
      const result = await publisher.upload(readings);
      expect(result.uploaded).to.equal(20);
      expect(stored()).to.deep.equal(times(readings));
      // Far fewer than one post per reading and split: at most 2n − 1 posts for n readings.
      const posts = rig.sim.requests('PostReceiverEgvRecords').length;
      expect(posts).to.be.within(5, 2 * 20);
      expect(publisher.pendingCount).to.equal(0);
    });

    it('a day of duplicates (a lost position) costs one read, not a flood', async () => {
      const readings = source(150, STEP, 'lost');
      preStore(readings);
      const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }), { batchSize: 50 });
      expect(await publisher.upload(readings)).to.include({ uploaded: 150, skipped: 0 });
      // The first batch (twice: the session start); the read settles it and the two batches after it.
      expect(rig.sim.requests('PostReceiverEgvRecords')).to.have.length(2);
      expect(rig.sim.requests('ReadPublisherLatestGlucoseValues')).to.have.length(1);
      expect(publisher.pendingCount).to.equal(0);
    });

    it('a failure while finding the duplicates keeps every unsent reading for the next call', async () => {
      const readings = source(8, STEP, 'fault');
      preStore([readings[2]!]);
      rig.sim.faults.add({
        kind: 'status',
        status: 503,
        path: 'ReadPublisherLatestGlucoseValues',
        times: 100,
      });
      const store = new MemoryAccountStore();
      const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }), {
        positions: uploadPositions(store),
      });
      await publisher.startMonitoring();
      // Posts: [0–7] refused, [0–3] refused, [0,1] stored, [2,3] refused, [2] refused (Dexcom has it),
      // then [3] meets a server that fails every attempt.
      const post = rig.dexcom.handler('Publisher/PostReceiverEgvRecords')!;
      let posts = 0;
      rig.dexcom.register('Publisher/PostReceiverEgvRecords', (call) => {
        posts += 1;
        return posts >= 6 && posts <= 8 ? { status: 503, body: '' } : post(call);
      });
      const error = (await rejection(publisher.upload(readings))) as CgmError;
      expect(error.code).to.equal('SERVER');
      expect(stored()).to.deep.equal(times(readings.slice(0, 3)));
      expect(store.current.uploads?.[`dexcom:${SERIAL}`]).to.equal(readings[2]!.time.getTime());
      expect(publisher.pendingCount).to.equal(5);
      const next = await publisher.upload([]);
      expect(next).to.include({ uploaded: 5, skipped: 0 });
      expect(stored()).to.deep.equal(times(readings));
      expect(store.current.uploads?.[`dexcom:${SERIAL}`]).to.equal(readings[7]!.time.getTime());
    });
  });

  describe('time', () => {
    let sim: Simulator;
    let url: string;
    const AHEAD = 90 * SECOND;

    beforeEach(async () => {
      // Dexcom's clock runs 90 s ahead of this machine's.
      sim = new Simulator({ providers: [new DexcomSimulator()], clock: { now: () => Date.now() + AHEAD } });
      url = `${await sim.listen()}/dexcom/${US.region}`;
      rig = { close: () => sim.close() } as SimRig;
    });

    const client = () =>
      new DexcomClient(dexcomConfig({ server: url, serial: SERIAL }), {
        retry: FAST_RETRY,
        transport: new HttpTransport({ timeoutMs: 1_000 }),
      });

    it('a relayed reading is read back at the same instant; only a reading this clock stamped moves by Dexcom’s offset', async () => {
      const base = Math.floor(Date.now() / STEP) * STEP - 3 * STEP;
      const publisher = new DexcomPublisher(client());
      const result = await publisher.upload([
        { time: new Date(base), mgdl: 120, trend: 'flat' },
        { time: new Date(base + STEP + 1_234), mgdl: 125, trend: 'fortyFiveUp', hostClock: true },
      ]);
      expect(result.uploaded).to.equal(2);
      expect((await publisher.systemUtcTime()).skewMs).to.equal(AHEAD);
      // The follower read path (ReadPublisherLatestGlucoseValues through a fresh client).
      const back = await client().history({ minutes: 60 });
      expect(back.map((r) => [r.time.getTime(), r.mgdl, r.trend])).to.deep.equal([
        [base, 120, 'flat'],
        [base + STEP + 1_000 + AHEAD, 125, 'fortyFiveUp'],
      ]);
      // The position is kept in the reading's own time, so the same input adds nothing.
      expect(
        await publisher.upload([{ time: new Date(base + STEP + 1_234), mgdl: 125, hostClock: true }]),
      ).to.include({ uploaded: 0, skipped: 1 });
    });
  });
});
