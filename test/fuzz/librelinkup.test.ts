// Fuzzing the LibreLinkUp client with generated answers over a loopback socket (issue 17): the
// connections (latest), the graph, the logbook and the login.
import { expect } from 'chai';
import fc from 'fast-check';
import type { GlucoseReading } from '../../src/model/reading';
import { LibreLinkUpClient } from '../../src/providers/librelinkup/client';
import { formatLibreTimestamp } from '../../src/simulator/librelinkup-records';
import {
  answerServer,
  bodyArb,
  check,
  expectCgmError,
  expectNoSecret,
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

const EMAIL = 'fuzz.follower@example.org';
const PASSWORD = 'Fuzz-Libre-Secret-Password-2';
const TOKEN = 'eyJfuzz.token.that-must-never-be-said';
const USER_ID = 'a1b2c3d4-fuzz-user-0000-111122223333';
const PATIENT = 'p-0000-fuzz-patient';
const SECRETS = [PASSWORD, EMAIL, TOKEN, USER_ID];

const now = Date.now();
const farFuture = Math.floor(now / 1000) + 3_600 * 24 * 30;

function loginSuccess(token = TOKEN): Answer {
  return {
    status: 200,
    body: JSON.stringify({
      status: 0,
      data: {
        user: { id: USER_ID, country: 'DE' },
        authTicket: { token, expires: farFuture, duration: 15_552_000_000 },
      },
    }),
  };
}

const timestampArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: instantArb(now).map((ms) => formatLibreTimestamp(ms)) },
  {
    weight: 1,
    arbitrary: instantArb(now).map((ms) => new Date(Math.max(-8.64e15, Math.min(8.64e15, ms))).toISOString()),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom(
        '13/45/2026 1:00:00 PM',
        '2/30/2026 1:00:00 AM',
        '1/1/2100 0:00:00 AM',
        '0/0/0 0:00:00 PM',
      ),
      junkArb,
    ),
  },
);

const recordArb = mutated(
  fc.record({
    FactoryTimestamp: timestampArb,
    Timestamp: timestampArb,
    type: fc.integer({ min: 0, max: 3 }),
    ValueInMgPerDl: valueArb,
    TrendArrow: fc.oneof(fc.integer({ min: -1, max: 7 }), fc.constant(null)),
    MeasurementColor: fc.integer({ min: 0, max: 5 }),
    GlucoseUnits: fc.constantFrom(0, 1),
    Value: fc.double({ noNaN: true, noDefaultInfinity: true }),
    isHigh: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.boolean() }),
    isLow: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.boolean() }),
  }),
);

const ticketArb = fc.oneof(
  fc.constant(undefined),
  fc.record({
    token: fc.constantFrom('fresh-token-aaaa', 'other-token-bbbb'),
    expires: fc.oneof(
      fc.constant(farFuture),
      instantArb(now).map((ms) => Math.floor(ms / 1000)),
    ),
    duration: fc.nat(),
  }),
);

const connectionArb = mutated(
  fc.record({
    id: fc.constant('conn-1'),
    patientId: fc.constant(PATIENT),
    firstName: fc.constant('Mia'),
    lastName: fc.constant('Fuzz'),
    glucoseMeasurement: fc.oneof(
      { weight: 9, arbitrary: recordArb },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
  }),
  20,
);

const envelope = (data: fc.Arbitrary<unknown>) =>
  mutated(
    fc.record({
      status: fc.oneof(
        { weight: 9, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.constantFrom(2, 4, 429, 911, 920, 7) },
      ),
      data,
      ticket: ticketArb,
    }),
    20,
  );

const answerOf = (data: fc.Arbitrary<unknown>): fc.Arbitrary<Answer> =>
  fc.record({ status: statusArb, body: bodyArb(envelope(data)) });

const connectionsArb = answerOf(fc.array(connectionArb, { maxLength: 3 }));
const graphArb = answerOf(
  mutated(
    fc.record({
      connection: connectionArb,
      graphData: fc.array(recordArb, { maxLength: 20 }),
      activeSensors: fc.constant([]),
    }),
  ),
);
const logbookArb = answerOf(fc.array(recordArb, { maxLength: 15 }));

const loginArb: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(loginSuccess()) },
  {
    weight: 8,
    arbitrary: fc.record({
      status: statusArb,
      body: bodyArb(
        mutated(
          fc.record({
            status: fc.constantFrom(0, 2, 4, 429, 911, 920),
            data: fc.oneof(
              mutated(
                fc.record({
                  user: fc.oneof(fc.constant({ id: USER_ID }), junkArb),
                  authTicket: fc.oneof(
                    fc.constant({ token: TOKEN, expires: farFuture, duration: 1 }),
                    fc.record({ token: fc.string(), expires: fc.double() }),
                    junkArb,
                  ),
                }),
              ),
              fc.constant({ redirect: true, region: 'eu' }),
              fc.constant({
                step: { type: 'tou', componentName: 'AcceptDocument' },
                authTicket: { token: TOKEN, expires: farFuture },
              }),
              fc.constant({ code: 60, data: { failures: 3, interval: 60, lockout: 300 }, message: 'locked' }),
              fc.constant({ minimumVersion: '4.17.0' }),
              junkArb,
            ),
            error: fc.option(
              fc.record({ message: fc.constantFrom('notAuthenticated', 'Invalid', `bad ${EMAIL}`) }),
            ),
          }),
        ),
      ),
    }),
  },
);

describe('fuzz: LibreLinkUp answers', function () {
  this.timeout(120_000);
  const goodConnections: Answer = {
    status: 200,
    body: JSON.stringify({ status: 0, data: [{ id: 'conn-1', patientId: PATIENT }] }),
  };
  let data: Answer = goodConnections;
  let connections: Answer = goodConnections;
  let login: Answer = loginSuccess();

  const server = answerServer((method, path) => {
    if (method === 'POST' && path.endsWith('/llu/auth/login')) return login;
    if (path.endsWith('/llu/connections')) return connections;
    return data;
  });

  function client(logger = lineLogger()): LibreLinkUpClient {
    return new LibreLinkUpClient(
      {
        provider: 'librelinkup',
        server: server.url,
        region: 'eu',
        username: EMAIL,
        password: PASSWORD,
        acceptTerms: false,
      },
      fuzzClientOptions(logger),
    );
  }

  /** Runs `call` against each generated data answer; the login always succeeds. */
  async function dataProperty(
    answers: fc.Arbitrary<Answer>,
    numRuns: number,
    call: (c: LibreLinkUpClient) => Promise<GlucoseReading | GlucoseReading[] | null>,
  ): Promise<number> {
    login = loginSuccess();
    const logger = lineLogger();
    const c = client(logger);
    let readings = 0;
    await check(answers, numRuns, async (answer) => {
      data = answer;
      readings += await expectReadingsOrCgmError(() => call(c), SECRETS, logger);
    });
    await c.close();
    return readings;
  }

  it('1,500 connections answers (latest): CgmErrors only, possible readings, no hang, no secret', async () => {
    const readings = await withinHeap('LibreLinkUp latest fuzz', async () => {
      const count = await dataProperty(connectionsArb, 1_500, (c) => {
        connections = data;
        return c.latest(PATIENT);
      });
      connections = goodConnections;
      return count;
    });
    expect(readings, 'the good path is reached too').to.be.above(50);
  });

  it('1,500 graph answers (history)', async () => {
    const readings = await dataProperty(graphArb, 1_500, (c) =>
      c.history({ minutes: 1440, subject: PATIENT }),
    );
    expect(readings).to.be.above(300);
  });

  it('1,000 logbook answers', async () => {
    const readings = await dataProperty(logbookArb, 1_000, (c) => c.logbook(PATIENT));
    expect(readings).to.be.above(300);
  });

  it('1,000 login answers: CgmErrors only, no secret, and one login POST per attempt', async () => {
    await check(loginArb, 1_000, async (answer) => {
      login = answer;
      const logger = lineLogger();
      const c = client(logger);
      const before = server.count('/llu/auth/login');
      const outcome = await settle(c.login());
      if (!outcome.ok) expectCgmError(outcome.error, SECRETS);
      // No {region} in the server: a redirect cannot be followed, a terms step is not accepted.
      expect(server.count('/llu/auth/login') - before).to.equal(1);
      expectNoSecret(logger.lines.join('\n'), SECRETS);
      await c.close();
    });
  });
});
