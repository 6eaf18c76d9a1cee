// Runs the test suite again with the wall clock moved (Debian's libfaketime), so a test that passes only
// at some hours or on some dates fails in CI rather than at a user's: once across Berlin's spring-forward
// (01:00 UTC), once at 01:16 Los Angeles time across the autumn fall-back, both a year or so ahead (every
// fixed date in the tests then lies in the past, as it will for every later run). The clock is moved by
// an offset, so the test process and every process it starts (the CLI, Homebridge, Node-RED, Mosquitto,
// Chromium) agree on the time, and it keeps ticking.
const { spawnSync } = require('node:child_process');

const RUNS = [
  { tz: 'Europe/Berlin', at: '2027-03-28T00:46:00Z', spec: ['test/**/*.test.ts'] },
  {
    tz: 'America/Los_Angeles',
    at: '2027-11-07T08:16:00Z',
    spec: ['test/**/*.test.ts', '--exclude', 'test/integration/**', '--exclude', 'test/fuzz/**'],
  },
];

if (spawnSync('faketime', ['--version']).error) {
  console.error("test:shifted needs Debian's faketime (apt-get install faketime); .ci/run installs it");
  process.exit(1);
}
for (const run of RUNS) {
  const offset = Math.round((Date.parse(run.at) - Date.now()) / 1000);
  console.log(`\n== the suite from ${run.at}, TZ=${run.tz} (clock moved by ${offset} s) ==`);
  const result = spawnSync(
    'faketime',
    [
      '-f',
      `${offset >= 0 ? '+' : ''}${offset}`,
      process.execPath,
      require.resolve('mocha/bin/mocha.js'),
      ...run.spec,
    ],
    { stdio: 'inherit', env: { ...process.env, TZ: run.tz } },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}
