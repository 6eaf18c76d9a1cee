import { expect } from 'chai';
import { CgmError } from '../../../src/model/errors';
import { DexcomPublisher, type UploadReading } from '../../../src/providers/dexcom/publisher';
import { tracePoint } from '../../../src/simulator/trace';
import { JP, OUS, US, fixtureJson, rejection, startSim, type SimRig } from './helpers';

const MINUTE = 60_000;
const STEP = 5 * MINUTE;
const POST = 'PostReceiverEgvRecords';
const SERIAL = US.receiver!;

/** `count` readings on the 5-minute grid ending at the last grid point before now, oldest first. */
function dayOf(count: number, seed = 'upload'): UploadReading[] {
  const last = Math.floor(Date.now() / STEP) * STEP;
  return Array.from({ length: count }, (_, i) => {
    const point = tracePoint(seed, last - (count - 1 - i) * STEP, 'brittle');
    return { time: new Date(point.time), mgdl: point.mgdl, trend: point.trend };
  });
}

function posted(
  rig: SimRig,
): { SN: string; Egvs: { Trend: number; ST: string; DT: string; Value: number }[]; TA: number }[] {
  return rig.sim.requests(POST).map((r) => r.json as ReturnType<typeof posted>[number]);
}

describe('DexcomPublisher against the simulator', () => {
  let rig: SimRig;
  beforeEach(async () => {
    rig = await startSim();
  });
  afterEach(async () => {
    await rig.close();
  });

  it('reads the server clock with GET General/SystemUtcTime and no session', async () => {
    const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }));
    const time = await publisher.systemUtcTime();
    expect(Math.abs(time.time.getTime() - Date.now())).to.be.lessThan(5_000);
    expect(time).to.include({ offsetMinutes: 0, skewMs: 0 });
    const [request] = rig.sim.requests('SystemUtcTime');
    expect(request).to.include({
      method: 'GET',
      path: '/us/ShareWebServices/Services/General/SystemUtcTime',
    });
    expect(request!.query).to.deep.equal({});
    expect(rig.sim.requests('Authenticate')).to.have.length(0);
    // The 2015 answer has the same shape.
    const shape = fixtureJson('gist-2015-system-utc-time.200.json') as Record<string, unknown>;
    expect(Object.keys(shape)).to.deep.equal(['DateTime', 'OffsetMinutes']);
  });

  it('checks the receiver with the exact query and takes it over only when allowed', async () => {
    // Sam's receiver, asked for by Alex's account.
    const refused = new DexcomPublisher(rig.client({ serial: OUS.receiver!, server: rig.server(US) }));
    rig.dexcom.state(OUS.username).assignedReceiver = undefined;
    rig.dexcom.state(JP.username).assignedReceiver = OUS.receiver!;
    expect(await refused.receiverStatus()).to.equal('AssignedToOther');
    const check = rig.sim.requests('CheckMonitoredReceiverAssignmentStatus')[0]!;
    expect(check.query).to.have.keys('sessionId', 'serialNumber');
    expect(check.query.serialNumber).to.equal(OUS.receiver);
    expect(check.body).to.equal('');
    const error = (await rejection(refused.ensureReceiver())) as CgmError;
    expect(error.code).to.equal('CONFIG');
    // Host-neutral: the field as the forms name it, no CLI option or environment variable.
    expect(error.hint).to.match(/"take the receiver over"/);
    expect(error.hint).not.to.match(/--|GLUCOBRIDGE_/);
    expect(rig.sim.requests('ReplacePublisherAccountMonitoredReceiver')).to.have.length(0);

    const allowed = new DexcomPublisher(rig.client({ serial: OUS.receiver!, takeOverReceiver: true }));
    await allowed.ensureReceiver();
    const replace = rig.sim.requests('ReplacePublisherAccountMonitoredReceiver');
    expect(replace).to.have.length(1);
    expect(replace[0]!.query.serialNumber).to.equal(OUS.receiver);
    expect(await allowed.receiverStatus()).to.equal('AssignedToYou');
    expect(rig.dexcom.state(JP.username).assignedReceiver).to.equal(undefined);
  });

  it('counts the 500 of re-assigning a receiver that is already yours as success', async () => {
    rig.dexcom.state(US.username).assignedReceiver = undefined;
    // As the seed saw it: the receiver ends up (or already was) ours and Dexcom still answers 500.
    rig.dexcom.register('Publisher/ReplacePublisherAccountMonitoredReceiver', ({ state }) => {
      state.assignedReceiver = SERIAL;
      return { status: 500, body: '' };
    });
    const publisher = new DexcomPublisher(rig.client({ serial: SERIAL, takeOverReceiver: true }));
    await publisher.ensureReceiver();
    expect(rig.sim.requests('ReplacePublisherAccountMonitoredReceiver')).to.have.length(1);
  });

  it('answers the simulator’s own-receiver replace with a 500, as the seed notes', async () => {
    const client = rig.client();
    const error = (await rejection(
      client.call('Publisher/ReplacePublisherAccountMonitoredReceiver', {
        query: { serialNumber: SERIAL },
        retry: false,
      }),
    )) as CgmError;
    expect(error.code).to.equal('SERVER');
  });

  it('starts, checks and stops the monitoring session with the exact requests', async () => {
    const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }));
    expect(await publisher.isMonitoringActive()).to.equal(false);
    await publisher.startMonitoring();
    expect(await publisher.isMonitoringActive()).to.equal(true);
    await publisher.stopMonitoring();
    expect(await publisher.isMonitoringActive()).to.equal(false);
    expect(rig.sim.requests('StartRemoteMonitoringSession')[0]!.query).to.have.keys(
      'sessionId',
      'serialNumber',
    );
    expect(rig.sim.requests('StopRemoteMonitoringSession')[0]!.query).to.have.keys('sessionId');
    expect(rig.sim.requests('IsRemoteMonitoringSessionActive')[0]!.query).to.have.keys('sessionId');
  });

  it('maps MonitoredReceiverNotAssigned and SerialNumberDoesNotMatch to CONFIG naming the fix', async () => {
    const noReceiver = new DexcomPublisher(
      rig.client({
        region: 'jp',
        username: JP.username,
        password: JP.password,
        server: rig.server(JP),
        serial: 'SM11112222',
      }),
    );
    const notAssigned = (await rejection(noReceiver.startMonitoring())) as CgmError;
    expect([notAssigned.code, notAssigned.vendorCode]).to.deep.equal([
      'CONFIG',
      'MonitoredReceiverNotAssigned',
    ]);
    expect(notAssigned.hint)
      .to.match(/serial/)
      .and.match(/Dexcom app/);
    const other = new DexcomPublisher(rig.client({ serial: 'SM99990000' }));
    const mismatch = (await rejection(other.startMonitoring())) as CgmError;
    expect([mismatch.code, mismatch.vendorCode]).to.deep.equal([
      'CONFIG',
      'MonitoredReceiverSerialNumberDoesNotMatch',
    ]);
  });

  it('sends honest runtime info with the session id in the body, shaped like the uploader app’s', async () => {
    const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }), {
      runtimeInfo: { DeviceModel: 'Pi 5' },
    });
    await publisher.updateRuntimeInfo();
    const [request] = rig.sim.requests('UpdatePublisherAccountRuntimeInfo');
    const body = request!.json as { sessionId: string; runtimeInfo: Record<string, string> };
    const shape = fixtureJson('derived-xdrip-update-publisher-account-runtime-info.request.json') as {
      runtimeInfo: Record<string, string>;
    };
    expect(Object.keys(body)).to.deep.equal(['sessionId', 'runtimeInfo']);
    expect(Object.keys(body.runtimeInfo).sort()).to.deep.equal(Object.keys(shape.runtimeInfo).sort());
    expect(body.runtimeInfo).to.include({ AppName: 'GlucoBridge', DeviceModel: 'Pi 5' });
    expect(body.sessionId).to.match(/^[0-9a-f-]{36}$/);
    expect(request!.query).to.deep.equal({});
    expect(rig.dexcom.state(US.username).runtimeInfo).to.deep.equal(body.runtimeInfo);
  });

  it('posts EGVs in the uploader app’s shape, clamped, trend as a number; starts the session once', async () => {
    const publisher = new DexcomPublisher(rig.client({ serial: SERIAL.toLowerCase() }));
    const base = Math.floor(Date.now() / STEP) * STEP - 2 * STEP;
    const result = await publisher.upload([
      { time: new Date(base + STEP + 123), mgdl: 500, trend: 'doubleUp' },
      { time: new Date(base), mgdl: 20.4, trend: 'fortyFiveDown' },
      { time: new Date(base + 2 * STEP), mgdl: 112 },
    ]);
    expect(result).to.include({ uploaded: 3, skipped: 0, batches: 1 });
    // MonitoringSessionNotActive → StartRemoteMonitoringSession once → the same batch again.
    expect(rig.sim.requests('StartRemoteMonitoringSession')).to.have.length(1);
    const bodies = posted(rig);
    expect(bodies).to.have.length(2);
    expect(bodies[1]).to.deep.equal(bodies[0]);
    const shape = fixtureJson('gist-2015-post-receiver-egv-records.request.json') as {
      Egvs: Record<string, unknown>[];
    };
    expect(Object.keys(bodies[0]!)).to.have.members(Object.keys(shape));
    expect(Object.keys(bodies[0]!.Egvs[0]!)).to.have.members(Object.keys(shape.Egvs[0]!));
    expect(bodies[0]).to.deep.equal({
      SN: SERIAL,
      Egvs: [
        { Trend: 5, ST: `/Date(${base})/`, DT: `/Date(${base})/`, Value: 39 },
        { Trend: 1, ST: `/Date(${base + STEP})/`, DT: `/Date(${base + STEP})/`, Value: 401 },
        { Trend: 0, ST: `/Date(${base + 2 * STEP})/`, DT: `/Date(${base + 2 * STEP})/`, Value: 112 },
      ],
      TA: -5,
    });
    const follower = await rig.client().history({ minutes: 20 });
    expect(follower.map((r) => [r.mgdl, r.trend, r.limit])).to.deep.equal([
      [39, 'fortyFiveDown', 'low'],
      [401, 'doubleUp', 'high'],
      [112, 'none', undefined],
    ]);
  });

  it('refuses impossible readings before any request, naming the reading and the field', async () => {
    const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }));
    const now = Date.now();
    const cases: [UploadReading[], string][] = [
      [[{ time: new Date(0), mgdl: 1 }], 'readings[0].time'],
      [[{ time: new Date(now), mgdl: 1e308 }], 'readings[0].mgdl'],
      [[{ time: new Date(-1e15), mgdl: 120 }], 'readings[0].time'],
      [[{ time: new Date(now), mgdl: 1 }], 'readings[0].mgdl'],
      [[{ time: new Date(Number.NaN), mgdl: 120 }], 'readings[0].time'],
      [
        [
          { time: new Date(now), mgdl: 120 },
          { time: new Date(now + 2 * 86_400_000), mgdl: 120 },
        ],
        'readings[1].time',
      ],
    ];
    for (const [readings, field] of cases) {
      const error = await rejection(publisher.upload(readings));
      expect(error).to.be.instanceOf(CgmError).and.include({ code: 'CONFIG' });
      expect(error.message, field).to.include(field);
    }
    expect(publisher.pendingCount).to.equal(0);
    expect(rig.sim.requests()).to.have.length(0);
  });

  it('treats DuplicateEgvPosted as success and never posts the same reading twice', async () => {
    const progress: number[] = [];
    const readings = dayOf(6);
    const first = new DexcomPublisher(rig.client({ serial: SERIAL }), {
      onUploaded: (p) => progress.push(p.lastUploaded.getTime()),
    });
    await first.upload(readings.slice(0, 4));
    rig.sim.clearRequests();
    const again = await first.upload(readings);
    expect(again).to.include({ uploaded: 2, skipped: 4 });
    expect(posted(rig).flatMap((b) => b.Egvs)).to.have.length(2);
    expect(progress).to.deep.equal([readings[3]!.time.getTime(), readings[5]!.time.getTime()]);
    // A new publisher that does not know what was sent: Dexcom says duplicate, and that is fine.
    rig.sim.clearRequests();
    const fresh = new DexcomPublisher(rig.client({ serial: SERIAL }));
    expect(await fresh.upload(readings)).to.include({ uploaded: 6 });
    expect(posted(rig)).to.have.length(1);
    // Restored progress: nothing at or before the last uploaded reading is sent.
    rig.sim.clearRequests();
    const restored = new DexcomPublisher(rig.client({ serial: SERIAL }), { lastUploaded: readings[5]!.time });
    expect(await restored.upload(readings)).to.include({ uploaded: 0, skipped: 6 });
    expect(rig.sim.requests()).to.have.length(0);
  });

  it('refuses to upload without a serial, before any request', async () => {
    const error = (await rejection(new DexcomPublisher(rig.client()).upload(dayOf(1)))) as CgmError;
    expect(error.code).to.equal('CONFIG');
    expect(rig.sim.requests()).to.have.length(0);
  });

  it('keeps a failed batch and sends it first next time, in order', async () => {
    const readings = dayOf(10);
    const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }), { batchSize: 4 });
    await publisher.upload(readings.slice(0, 2));
    rig.sim.faults.add({ kind: 'status', status: 503, path: POST, times: 3 });
    const error = (await rejection(publisher.upload(readings.slice(2, 6)))) as CgmError;
    expect(error.code).to.equal('SERVER');
    expect(publisher.pendingCount).to.equal(4);
    rig.sim.clearRequests();
    const result = await publisher.upload(readings.slice(6));
    expect(result).to.include({ uploaded: 8, batches: 2 });
    const times = posted(rig).flatMap((b) => b.Egvs.map((e) => e.ST));
    expect(times).to.deep.equal(readings.slice(2).map((r) => `/Date(${r.time.getTime()})/`));
  });

  it('round trip: a day uploaded in batches through a fault reads back once each, in order', async () => {
    const readings = dayOf(288, 'round-trip');
    const publisher = new DexcomPublisher(rig.client({ serial: SERIAL }), { batchSize: 50 });
    await publisher.upload(readings.slice(0, 100));
    // The next batch meets a dead connection on every attempt.
    rig.sim.faults.add({ kind: 'reset', path: POST, times: 3 });
    const error = (await rejection(publisher.upload(readings.slice(100, 200)))) as CgmError;
    expect(error.code).to.equal('NETWORK');
    expect(publisher.pendingCount).to.equal(100);
    const result = await publisher.upload(readings);
    expect(result).to.include({ uploaded: 188, skipped: 100 });
    expect(result.lastUploaded!.getTime()).to.equal(readings[287]!.time.getTime());
    // 2 + 1 batches, the session start and its retry, 3 dead attempts, then 4 batches.
    expect(rig.sim.requests(POST).length).to.be.at.least(9);

    const follower = rig.client({ name: 'follower' });
    const back = await follower.history({ minutes: 1440 });
    expect(back).to.have.length(288);
    expect(back.map((r) => [r.time.getTime(), r.mgdl, r.trend])).to.deep.equal(
      readings.map((r) => [r.time.getTime(), Math.min(401, Math.max(39, r.mgdl)), r.trend]),
    );
    expect((await follower.latest())!.time.getTime()).to.equal(readings[287]!.time.getTime());
  });
});
