// Fuzzing the Dexcom client with generated read answers over a loopback socket (issue 17).
import { expect } from 'chai';
import fc from 'fast-check';
import { DexcomClient } from '../../src/providers/dexcom/client';
import { formatDexcomDateWithOffset } from '../../src/providers/dexcom/timestamp';
import {
  answerServer,
  bodyArb,
  check,
  expectReadingsOrCgmError,
  fuzzClientOptions,
  instantArb,
  junkArb,
  lineLogger,
  mutated,
  statusArb,
  valueArb,
  withinHeap,
  type Answer,
} from './harness';

const ACCOUNT_ID = '5f0c2a1e-9b7d-4c3e-8a21-7d6e5f4c3b2a';
const SESSION_ID = 'c0ffee00-1234-4abc-9def-0123456789ab';
const USERNAME = 'fuzz-dexcom-user';
const PASSWORD = 'Fuzz-Dexcom-Secret-Password-1';
const SECRETS = [PASSWORD, USERNAME, ACCOUNT_ID, SESSION_ID];

const now = Date.now();

const dexcomDateArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: instantArb(now).map((ms) => `Date(${ms})`) },
  { weight: 2, arbitrary: instantArb(now).map((ms) => formatDexcomDateWithOffset(ms, -300, true)) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        'Date()',
        'Date(1e3)',
        '/Date(-)/',
        'Date(12345678901234567890)',
        'Date(1700000000000+99)',
      ),
      junkArb,
    ),
  },
);

const recordArb = mutated(
  fc.record({
    WT: dexcomDateArb,
    ST: dexcomDateArb,
    DT: dexcomDateArb,
    Value: valueArb,
    Trend: fc.oneof(
      fc.constantFrom('Flat', 'DoubleUp', 'SingleDown', 'NotComputable', 'None', 'Sideways'),
      fc.integer({ min: -1, max: 12 }),
      fc.constant(null),
    ),
  }),
);

const answerArb: fc.Arbitrary<Answer> = fc.record({
  status: statusArb,
  body: bodyArb(
    fc.oneof(
      { weight: 8, arbitrary: fc.array(recordArb, { maxLength: 12 }) },
      {
        weight: 1,
        arbitrary: fc.record({
          Code: fc.constantFrom('SessionNotValid', 'SessionIdNotFound', 'InvalidArgument', 'Whatever', ''),
          Message: fc.oneof(fc.string({ maxLength: 40 }), fc.constant(`AccountName='${USERNAME}'`)),
        }),
      },
      { weight: 1, arbitrary: junkArb },
    ),
  ),
});

describe('fuzz: Dexcom read answers', function () {
  this.timeout(120_000);
  let current: Answer = { status: 200, body: '[]' };
  const server = answerServer((_method, path) => {
    if (path.endsWith('AuthenticatePublisherAccount')) return { status: 200, body: `"${ACCOUNT_ID}"` };
    if (path.endsWith('LoginPublisherAccountById')) return { status: 200, body: `"${SESSION_ID}"` };
    return current;
  });

  it('3,000 generated answers: only CgmErrors, only possible readings, no hang, no secret, bounded memory', async () => {
    const logger = lineLogger();
    const client = new DexcomClient(
      {
        provider: 'dexcom',
        region: 'us',
        server: server.url,
        username: USERNAME,
        password: PASSWORD,
        takeOverReceiver: false,
      },
      fuzzClientOptions(logger),
    );
    await client.login();
    const readings = await withinHeap('Dexcom fuzz', async () => {
      let count = 0;
      await check(fc.tuple(answerArb, fc.boolean()), 3_000, async ([answer, latest]) => {
        current = answer;
        count += await expectReadingsOrCgmError(
          () => (latest ? client.latest() : client.history({ minutes: 1440 })),
          SECRETS,
          logger,
        );
      });
      await client.close();
      return count;
    });
    expect(readings, 'the generators must reach the good path too').to.be.above(1_000);
  });
});
