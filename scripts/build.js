// Compiles the package with tsc and copies what Node-RED loads beside the node .js files
// (editor HTML, locales, icons): tsc copies none of them.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
const nodesSrc = path.join(root, 'nodes');
const nodesOut = path.join(root, 'dist', 'nodes');
if (fs.existsSync(nodesSrc)) {
  fs.mkdirSync(nodesOut, { recursive: true });
  for (const entry of fs.readdirSync(nodesSrc, { withFileTypes: true })) {
    const from = path.join(nodesSrc, entry.name);
    // Node-RED looks for locales/ and icons/ beside the node files; lib/ is TypeScript, compiled by tsc.
    if (entry.isDirectory() && (entry.name === 'locales' || entry.name === 'icons')) {
      fs.cpSync(from, path.join(nodesOut, entry.name), { recursive: true });
    } else if (entry.name.endsWith('.html')) fs.copyFileSync(from, path.join(nodesOut, entry.name));
  }
}
// The bridge's status page is served as it is (HTML, CSS, plain browser JavaScript).
fs.cpSync(
  path.join(root, 'src', 'bridge', 'http', 'page'),
  path.join(root, 'dist', 'src', 'bridge', 'http', 'page'),
  {
    recursive: true,
  },
);
fs.chmodSync(path.join(root, 'dist', 'src', 'bridge', 'cli.js'), 0o755);
