// Runs the test suite again with the wall clock moved (Debian's libfaketime), so a test that only
// passes at some hours fails in CI rather than at a user's: once across Berlin's spring-forward at
// 01:00 UTC, once at 01:16 Los Angeles time across the autumn fall-back. The clock keeps ticking from
// the given instant; time zones change only what local-time formatting shows.
const { spawnSync } = require('node:child_process');

const RUNS = [
  { tz: 'Europe/Berlin', at: '2026-03-29 00:46:00', spec: ['test/**/*.test.ts'] },
  {
    tz: 'America/Los_Angeles',
    at: '2026-11-01 08:16:00',
    spec: ['test/**/*.test.ts', '--exclude', 'test/integration/**', '--exclude', 'test/fuzz/**'],
  },
];

const faketime = spawnSync('faketime', ['--version'], { encoding: 'utf8' });
if (faketime.error) {
  console.error("test:shifted needs Debian's faketime (apt-get install faketime); .ci/run installs it");
  process.exit(1);
}
for (const run of RUNS) {
  console.log(`\n== the suite at ${run.at} UTC, TZ=${run.tz} ==`);
  const result = spawnSync(
    'faketime',
    ['-f', `@${run.at}`, process.execPath, require.resolve('mocha/bin/mocha.js'), ...run.spec],
    { stdio: 'inherit', env: { ...process.env, TZ: run.tz } },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}
