// Reads each mutated file it is sent (one path per stdin line) with the built reader and answers one
// JSON line per file: how the read ended. It runs in its own process so that the test can put a time
// limit on every read, which a test in the same thread could not do for a synchronous hang.
const { readFileSync } = require('node:fs');
const { createInterface } = require('node:readline');
const { join } = require('node:path');
const dist = join(__dirname, '..', '..', '..', 'dist', 'lib', 'convert');
const { readKerasModelBytes } = require(join(dist, 'keras', 'read-keras-model.js'));
const { ConversionError } = require(join(dist, 'errors.js'));

const lines = createInterface({ input: process.stdin });
lines.on('line', async (path) => {
  lines.pause();
  let outcome;
  try {
    const file = await readKerasModelBytes(readFileSync(path), 'mutant', {});
    outcome = { kind: 'read', layers: file.graph.layers.length };
  } catch (err) {
    outcome = err instanceof ConversionError ? { kind: 'refused', message: err.message } : { kind: 'crash', message: String(err && err.stack || err) };
  }
  process.stdout.write(JSON.stringify({ path, ...outcome }) + '\n');
  lines.resume();
});
