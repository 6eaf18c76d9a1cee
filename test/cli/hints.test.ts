// Every hint `glucobridge read` gives after a failure names something that exists and fits the cloud:
// the --accept-terms flag, the e-mail verification, a pending terms step, each cloud's own NO_DATA
// advice, the people a carer follows by name, Dexcom's login hint, the VitaDock environment variables.
import { expect } from 'chai';
import { DexcomSimulator, DEXCOM_DEMO_ACCOUNTS } from '../../src/simulator/dexcom';
import { LibreLinkUpSimulator, LIBRE_DEMO_ACCOUNTS } from '../../src/simulator/librelinkup';
import { Simulator } from '../../src/simulator/server';
import { VITADOCK_DEMO, VitaDockSimulator } from '../../src/simulator/vitadock';
import type { SimResponse } from '../../src/simulator/types';
import { runCli } from './helpers';

const OUS = DEXCOM_DEMO_ACCOUNTS.find((a) => a.region === 'ous')!;
const FAMILY = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('family@'))!;
const [MIA, LEO] = FAMILY.patients as [(typeof FAMILY.patients)[0], (typeof FAMILY.patients)[0]];
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

const libreEnv = (email: string) => ({ GLUCOBRIDGE_USERNAME: email, GLUCOBRIDGE_PASSWORD: FAMILY.password });

describe('glucobridge read: the hints (against the simulator)', function () {
  this.timeout(20_000);
  let sim: Simulator;
  let libre: LibreLinkUpSimulator;
  let libreServer: string;
  let dexcomServer: string;

  beforeEach(async () => {
    libre = new LibreLinkUpSimulator();
    sim = new Simulator({
      providers: [new DexcomSimulator(), libre, new VitaDockSimulator({ historyDays: 2 })],
    });
    await sim.listen();
    libreServer = `${sim.urlFor('librelinkup')}/{region}`;
    dexcomServer = `${sim.urlFor('dexcom')}/ous`;
  });
  afterEach(() => sim.close());

  const readLibre = (email: string, ...extra: string[]) =>
    runCli(['read', '--provider', 'librelinkup', '--server', libreServer, ...extra], libreEnv(email));

  describe('LibreLinkUp', () => {
    it('TERMS_REQUIRED points to --accept-terms, which exists and gets the reading', async () => {
      const refused = await readLibre('terms@glucobridge.example');
      expect(refused.code).to.equal(2);
      expect(refused.stderr).to.match(/^TERMS_REQUIRED: /);
      expect(refused.stderr).to.match(/\nhint: .*"accept new terms of use automatically" \(--accept-terms\)/);
      expect(sim.requests('/auth/continue')).to.have.length(0);

      const accepted = await readLibre('terms@glucobridge.example', '--accept-terms', '--json');
      expect(accepted.stderr).to.equal('');
      expect(accepted.code).to.equal(0);
      expect(sim.requests('/auth/continue').map((r) => r.path)).to.deep.equal([
        '/de/auth/continue/tou',
        '/de/auth/continue/pp',
      ]);
      // The flag is LibreLinkUp's only.
      const dexcom = await runCli(['read', '--provider', 'dexcom', '--accept-terms'], {});
      expect(dexcom.stderr).to.contain('--accept-terms is for --provider librelinkup');
    });

    it('an e-mail verification has its own hint, never --accept-terms (which cannot do it)', async () => {
      const run = await readLibre('verify@glucobridge.example', '--accept-terms');
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/^TERMS_REQUIRED: .*e-mail address verification/);
      expect(run.stderr).to.match(/\nhint: open the LibreLinkUp app with this account and verify its e-mail/);
      expect(run.stderr).not.to.contain('--accept-terms');
      expect(sim.requests('/auth/continue')).to.have.length(0);
    });

    it('a token refused right after its login hints at a pending terms step, after one new login', async () => {
      sim.faults.add({
        kind: 'answer',
        provider: 'librelinkup',
        path: '/llu/connections',
        times: Infinity,
        response: { status: 401, body: { message: 'invalid or expired jwt' } },
      });
      const run = await readLibre(FAMILY.email);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/^SESSION_EXPIRED: .*refused the token of the login it had just given/);
      expect(run.stderr).to.match(/\nhint: the account may have a step pending \(new terms of use/);
      expect(run.stderr).to.contain('(--accept-terms)');
      expect(sim.requests('/llu/auth/login').filter((r) => r.path.startsWith('/eu/'))).to.have.length(2);
    });

    it("NO_DATA speaks of the patient's phone, not of Dexcom", async () => {
      sim.faults.add({
        kind: 'rewrite',
        provider: 'librelinkup',
        path: '/llu/connections',
        times: Infinity,
        rewrite: (response: SimResponse) => {
          const body = response.body as { data: Record<string, unknown>[] };
          return {
            ...response,
            body: { ...body, data: body.data.map(({ glucoseMeasurement: _gone, ...rest }) => rest) },
          };
        },
      });
      const run = await readLibre(FAMILY.email, '--patient', 'Mia');
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/^NO_DATA: /);
      expect(run.stderr).to.match(/\nhint: the patient's phone must be uploading/);
      expect(run.stderr).not.to.match(/Dexcom|Share|Nightscout/);
    });

    it('an account following several people prints everyone, each row named (never an id), with their sensor', async () => {
      const run = await readLibre(FAMILY.email);
      expect(run.stderr).to.equal('');
      const lines = run.stdout.trimEnd().split('\n');
      expect(lines[0]).to.match(/^person\s+time \(UTC\)\s+glucose\s+trend\s+age$/);
      expect(lines[1]).to.match(/^Mia Sample\s+\d{4}-/);
      expect(lines[2]).to.match(/^Leo Sample\s+\d{4}-/);
      expect(lines.slice(3)).to.have.length(2);
      expect(lines[3]).to.match(/^sensor of Mia Sample: 0E\d{8}, started .*, ends .* \(\d+(\.\d)? days left/);
      expect(run.stdout).not.to.match(UUID);
    });

    it('--patient takes a unique first name (the shared rule), in any case', async () => {
      const run = await readLibre(FAMILY.email, '--patient', 'leo', '--json');
      expect(run.stderr).to.equal('');
      const readings = JSON.parse(run.stdout) as { subject: string }[];
      expect(readings.map((r) => r.subject)).to.deep.equal([LEO.patientId]);
      const unknown = await readLibre(FAMILY.email, '--patient', 'Lea');
      expect(unknown.stderr).to.match(/^NOT_FOUND: .*it follows: Mia Sample, Leo Sample/);
      expect(unknown.stderr).not.to.contain(MIA.patientId);
    });

    it('a blocked login (HTTP 430) says why and is not repeated', async () => {
      sim.faults.add({
        kind: 'rateLimit',
        provider: 'librelinkup',
        path: '/auth/login',
        status: 430,
        times: Infinity,
      });
      const run = await readLibre(FAMILY.email);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/^RATE_LIMITED: .*refused the login for now \(HTTP 430\)/);
      expect(run.stderr).to.match(/\nhint: LibreLinkUp blocks logins that come too often: stop other apps/);
      expect(sim.requests('/llu/auth/login')).to.have.length(1);
    });

    it('a cloud that now wants a newer app than this release speaks says so', async () => {
      libre.requireVersion('99.0.0', '4.16.0');
      const run = await readLibre(FAMILY.email);
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/^CONFIG: .*refuses app version 4\.16\.0 although it asks for 4\.16\.0/);
      expect(run.stderr).to.match(
        /\nhint: the LibreLinkUp cloud now needs a newer app than this GlucoBridge release/,
      );
    });
  });

  describe('Dexcom', () => {
    it('a 4xx HTML answer to the login gets the login hint', async () => {
      sim.faults.add({ kind: 'html', provider: 'dexcom', path: 'AuthenticatePublisherAccount', status: 403 });
      const run = await runCli(
        ['read', '--provider', 'dexcom', '--server', dexcomServer, '--region', 'ous'],
        {
          GLUCOBRIDGE_USERNAME: OUS.username,
          GLUCOBRIDGE_PASSWORD: OUS.password,
        },
      );
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(/^SERVER: .*HTTP 403 with an HTML page/);
      expect(run.stderr).to.match(
        /\nhint: check the "username" \(GLUCOBRIDGE_USERNAME\) and "password" \(GLUCOBRIDGE_PASSWORD\), and the "region" \(--region\)/,
      );
    });

    it('with --server and no --region the hint guesses no region', async () => {
      const run = await runCli(['read', '--provider', 'dexcom', '--server', dexcomServer], {
        GLUCOBRIDGE_USERNAME: OUS.username,
        GLUCOBRIDGE_PASSWORD: 'not-the-password',
      });
      expect(run.code).to.equal(2);
      const hint = /\nhint: (.*)/.exec(run.stderr)?.[1] ?? '';
      expect(hint).to.contain('us = United States, ous = everywhere else, jp = Japan');
      expect(hint).not.to.match(/"us" is for accounts/);
      expect(hint).to.contain('"server URL" (--server)');
    });
  });

  describe('VitaDock', () => {
    const server = () => sim.urlFor('vitadock');
    it('a missing secret names its environment variable', async () => {
      const run = await runCli(['read', '--provider', 'vitadock', '--server', server()], {
        GLUCOBRIDGE_VITADOCK_CONSUMER_KEY: VITADOCK_DEMO.consumerKey,
        GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN: VITADOCK_DEMO.accessToken,
        GLUCOBRIDGE_VITADOCK_ACCESS_SECRET: VITADOCK_DEMO.accessSecret,
      });
      expect(run.code).to.equal(2);
      expect(run.stderr).to.match(
        /^CONFIG: the VitaDock application secret is not set: GLUCOBRIDGE_VITADOCK_CONSUMER_SECRET\n/,
      );
      const half = await runCli(
        ['read', '--provider', 'vitadock', '--module', 'targetscales', '--server', server()],
        {
          GLUCOBRIDGE_VITADOCK_CONSUMER_KEY: VITADOCK_DEMO.consumerKey,
          GLUCOBRIDGE_VITADOCK_CONSUMER_SECRET: VITADOCK_DEMO.consumerSecret,
          GLUCOBRIDGE_VITADOCK_ACCESS_TOKEN: VITADOCK_DEMO.accessToken,
        },
      );
      expect(half.stderr).to.match(/^CONFIG: .*GLUCOBRIDGE_VITADOCK_ACCESS_SECRET is not set/);
      expect(half.stderr).not.to.contain(VITADOCK_DEMO.accessToken);
    });
  });
});
