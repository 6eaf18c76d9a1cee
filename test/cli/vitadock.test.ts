import { expect } from 'chai';
import { getNoRedirect } from '../net';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/bridge/cli';
import type { CliIo } from '../../src/bridge/cli/io';
import { vitaDockAccount } from '../../src/providers/vitadock/account';
import { Simulator } from '../../src/simulator/server';
import { VitaDockSimulator } from '../../src/simulator/vitadock';
import { runCli } from './helpers';

const APP = { key: 'cli-test-app-key', secret: 'cli-test-app-secret' };
const ENV = { GLUCOBRIDGE_VITADOCK_CONSUMER_KEY: APP.key, GLUCOBRIDGE_VITADOCK_CONSUMER_SECRET: APP.secret };

/** A CLI run whose stdout the test can watch and whose stdin it answers later. */
function interactive(argv: string[]) {
  let stdout = '';
  let stderr = '';
  let answer: (text: string) => void = () => undefined;
  const stdin = new Promise<string>((resolve) => (answer = resolve));
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: ENV,
    readStdin: () => stdin,
  };
  const done = main(argv, io);
  return {
    done,
    answer: (text: string) => answer(text),
    out: () => stdout,
    err: () => stderr,
    /** The consent URL once the command has printed it. */
    async consentUrl(): Promise<string> {
      for (let i = 0; i < 200; i += 1) {
        const url = /(http:\/\/\S+\/desiredaccessrights\/request\?oauth_token=\w+)/.exec(stdout)?.[1];
        if (url) return url;
        if (stderr) throw new Error(stderr);
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no consent URL printed: ${stdout}`);
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

interface StoredState {
  accounts: Record<string, { session?: { provider: string; account: string; data: Record<string, string> } }>;
}

describe('glucobridge vitadock authorize (in-process, against the simulator)', () => {
  let sim: Simulator;
  let vitadock: VitaDockSimulator;
  let server: string;
  let dir: string;

  beforeEach(async () => {
    vitadock = new VitaDockSimulator({ consumers: [{ key: APP.key, secret: APP.secret }], historyDays: 3 });
    sim = new Simulator({ providers: [vitadock] });
    await sim.listen();
    server = sim.urlFor('vitadock');
    dir = mkdtempSync(join(tmpdir(), 'glucobridge-vitadock-'));
  });
  afterEach(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes a pasted verifier, stores the tokens 0600 and never prints a secret; read then uses them', async () => {
    const state = join(dir, 'state.json');
    const run = interactive(['vitadock', 'authorize', '--server', server, '--state', state, '--name', 'Kim']);
    const consent = await run.consentUrl();
    expect(run.out()).to.contain(`${server}/signup?oauth_token=`);
    const page = await getNoRedirect(`${consent}&approve=1`);
    const verifier = /oauth_verifier=(\w+)/.exec(page.body)?.[1];
    run.answer(`${verifier}\n`);
    expect(await run.done, run.err()).to.equal(0);

    expect(statSync(state).mode & 0o777).to.equal(0o600);
    const stored = JSON.parse(readFileSync(state, 'utf8')) as StoredState;
    const session = stored.accounts.Kim!.session!;
    expect(session.provider).to.equal('vitadock');
    expect(session.account).to.equal(vitaDockAccount(APP.key, session.data.accessToken!));
    expect(run.out()).to.contain(state);
    for (const secret of [session.data.accessToken!, session.data.accessSecret!, APP.secret, verifier!]) {
      expect(run.out() + run.err()).not.to.contain(secret);
    }

    const glucose = await runCli(
      ['read', '--provider', 'vitadock', '--server', server, '--state', state, '--name', 'Kim', '--json'],
      ENV,
    );
    expect(glucose.code, glucose.stderr).to.equal(0);
    const [reading] = JSON.parse(glucose.stdout) as { provider: string; mgdl: number }[];
    expect(reading?.provider).to.equal('vitadock');

    const bp = await runCli(
      [
        'read',
        '--provider',
        'vitadock',
        '--module',
        'cardiodocks',
        '--minutes',
        '2880',
        '--server',
        server,
      ].concat(['--state', state, '--name', 'Kim', '--json']),
      ENV,
    );
    expect(bp.code, bp.stderr).to.equal(0);
    const measurements = JSON.parse(bp.stdout) as Record<string, unknown>[];
    expect(measurements).to.have.length.within(3, 5);
    expect(measurements[0]).to.include.keys(
      'provider',
      'subject',
      'module',
      'time',
      'systolic',
      'diastolic',
      'pulse',
    );
    expect(measurements[0]).to.deep.include({
      provider: 'vitadock',
      subject: 'Kim',
      module: 'cardiodocks',
      units: { systolic: 'mmHg', diastolic: 'mmHg', pulse: 'bpm' },
    });

    const table = await runCli(
      [
        'read',
        '--provider',
        'vitadock',
        '--module',
        'weight',
        '--server',
        server,
        '--state',
        state,
        '--name',
        'Kim',
      ],
      ENV,
    );
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}targetscales {2}weightKg [\d.]+ kg/);
    expect(table.stdout.trim().split('\n')).to.have.length(1);
  });

  it('takes the verifier from the loopback callback the browser is sent to', async () => {
    const port = await freePort();
    const callback = `http://127.0.0.1:${port}/vitadock/callback`;
    vitadock.setCallbackUrl(APP.key, callback);
    const state = join(dir, 'nested', 'state.json');
    const run = interactive([
      'vitadock',
      'authorize',
      '--server',
      server,
      '--state',
      state,
      '--callback',
      callback,
    ]);
    const consent = await run.consentUrl();
    const redirect = await getNoRedirect(`${consent}&approve=1`);
    expect(redirect.location).to.match(new RegExp(`^${callback}\\?oauth_token=\\w+&oauth_verifier=\\w+$`));
    const landed = await getNoRedirect(redirect.location!);
    expect(landed.body).to.contain('authorised');
    expect(await run.done, run.err()).to.equal(0);
    const stored = JSON.parse(readFileSync(state, 'utf8')) as StoredState;
    expect(stored.accounts.vitadock?.session?.data.accessToken).to.be.a('string');
  });

  it('fails clearly without the application key, with a refused consent, or without a verifier', async () => {
    const noKey = await runCli(
      ['vitadock', 'authorize', '--server', server, '--state', join(dir, 's.json')],
      {},
    );
    expect(noKey.code).to.equal(2);
    expect(noKey.stderr).to.match(/^CONFIG: .*\nhint: set GLUCOBRIDGE_VITADOCK_CONSUMER_KEY/);

    const empty = await runCli(
      ['vitadock', 'authorize', '--server', server, '--state', join(dir, 's.json')],
      ENV,
      {
        stdin: '',
      },
    );
    expect(empty.code).to.equal(2);
    expect(empty.stderr).to.contain('no verifier');

    const run = interactive(['vitadock', 'authorize', '--server', server, '--state', join(dir, 's.json')]);
    const consent = await run.consentUrl();
    const token = /oauth_token=(\w+)/.exec(consent)?.[1];
    run.answer(`http://127.0.0.1/cb?oauth_token=${token}&deny=true`);
    expect(await run.done).to.equal(2);
    expect(run.err()).to.match(/^AUTH_INVALID: .*declined/);

    const remote = await runCli(['vitadock', 'authorize', '--callback', 'http://example.com:80/cb'], ENV);
    expect(remote.code).to.equal(2);
    expect(remote.stderr).to.contain('loopback');
  });
});
