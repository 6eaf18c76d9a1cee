// `npm pack` / `npm publish` hooks: the tarball's package.json has no `prepare` script. In a git checkout
// `prepare` builds dist/ on `npm ci`; the tarball ships dist/ already built (prepack), and a `prepare`
// in it would only make npm list the package among those with unreviewed install scripts.
//   node scripts/pack-manifest.js strip     (prepack, after the build)
//   node scripts/pack-manifest.js restore   (postpack)
const fs = require('node:fs');
const path = require('node:path');

const manifest = path.join(__dirname, '..', 'package.json');
const backup = path.join(__dirname, '..', '.package.json.prepack');

function restore() {
  if (fs.existsSync(backup)) fs.renameSync(backup, manifest);
}

const command = process.argv[2];
if (command === 'strip') {
  // A pack that died before postpack left the stripped file: start again from the original.
  restore();
  const text = fs.readFileSync(manifest, 'utf8');
  const pkg = JSON.parse(text);
  fs.writeFileSync(backup, text);
  delete pkg.scripts.prepare;
  fs.writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
} else if (command === 'restore') {
  restore();
} else {
  process.stderr.write('usage: node scripts/pack-manifest.js strip|restore\n');
  process.exit(2);
}
