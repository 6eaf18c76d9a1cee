// Fuzzing the VitaDock client with generated module pages over a loopback socket (issue 17).
import { expect } from 'chai';
import fc from 'fast-check';
import { VitaDockClient } from '../../src/providers/vitadock/client';
import {
  answerServer,
  bodyArb,
  check,
  expectCgmError,
  expectReadingsOrCgmError,
  fuzzClientOptions,
  instantArb,
  junkArb,
  lineLogger,
  mutated,
  settle,
  statusArb,
  valueArb,
  withinHeap,
  type Answer,
} from './harness';

const CONSUMER_KEY = 'fuzz-consumer-key-0001';
const CONSUMER_SECRET = 'Fuzz-Consumer-Secret-3';
const ACCESS_TOKEN = 'fuzz-access-token-4444';
const ACCESS_SECRET = 'Fuzz-Access-Secret-5555';
const SECRETS = [CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET];

const now = Date.now();

const versionable = {
  id: fc.oneof(fc.constantFrom('a', 'b', 'c', 'd'), fc.string({ maxLength: 8 })),
  active: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  version: fc.nat(5),
  measurementDate: instantArb(now),
  updatedDate: instantArb(now),
};

const glucoseArb = mutated(
  fc.record({ ...versionable, bloodGlucose: valueArb, mealStatus: fc.constantFrom(0, 1), note: fc.string() }),
  12,
);
const cardioArb = mutated(
  fc.record({
    ...versionable,
    systole: fc.oneof(fc.integer({ min: 80, max: 200 }), valueArb),
    diastole: fc.oneof(fc.integer({ min: 40, max: 120 }), valueArb),
    pulse: fc.oneof(fc.integer({ min: 40, max: 180 }), fc.constant(null)),
    arrhythmic: fc.constantFrom(0, 1, null),
  }),
  12,
);

const pageArb = (record: fc.Arbitrary<unknown>): fc.Arbitrary<Answer> =>
  fc.record({
    status: statusArb,
    body: bodyArb(
      fc.oneof(
        { weight: 9, arbitrary: fc.array(record, { maxLength: 12 }) },
        { weight: 1, arbitrary: junkArb },
      ),
    ),
  });

describe('fuzz: VitaDock module answers', function () {
  this.timeout(120_000);
  let page: Answer = { status: 200, body: '[]' };
  const server = answerServer(() => page);

  function client(logger = lineLogger()): VitaDockClient {
    return new VitaDockClient(
      {
        provider: 'vitadock',
        server: server.url,
        consumerKey: CONSUMER_KEY,
        consumerSecret: CONSUMER_SECRET,
        accessToken: ACCESS_TOKEN,
        accessSecret: ACCESS_SECRET,
        module: 'glucodockglucoses',
      },
      fuzzClientOptions(logger),
    );
  }

  it('1,500 glucose pages (history and latest): CgmErrors only, possible readings, no hang, no secret', async () => {
    const readings = await withinHeap('VitaDock fuzz', async () => {
      let count = 0;
      await check(fc.tuple(pageArb(glucoseArb), fc.boolean()), 1_500, async ([answer, latest]) => {
        page = answer;
        // A client per case: a 401 blocks a client for good (by design), which would end the fuzzing.
        const logger = lineLogger();
        const c = client(logger);
        count += await expectReadingsOrCgmError(
          () => (latest ? c.latest() : c.history({ minutes: 7 * 24 * 60 })),
          SECRETS,
          logger,
        );
        await c.close();
      });
      return count;
    });
    expect(readings, 'the good path is reached too').to.be.above(300);
  });

  it('500 blood pressure pages: CgmErrors only, no hang, no secret', async () => {
    await check(pageArb(cardioArb), 500, async (answer) => {
      page = answer;
      const c = client();
      const outcome = await settle(c.measurements({ module: 'cardiodocks', minutes: 7 * 24 * 60 }));
      if (outcome.ok) for (const m of outcome.value) expect(m.kind).to.equal('bloodPressure');
      else expectCgmError(outcome.error, SECRETS);
      await c.close();
    });
  });
});
