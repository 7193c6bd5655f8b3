// Reads and converts each mutated file it is sent (one path per stdin line) with the built converter and
// answers one JSON line per file: how it ended, and at which stage. It runs in its own process so that
// the test can put a time limit on every file, which a test in the same thread could not do for a
// synchronous hang.
const { readFileSync } = require('node:fs');
const { createInterface } = require('node:readline');
const { join } = require('node:path');
const dist = join(__dirname, '..', '..', '..', 'dist', 'lib', 'convert');
const { readKerasModelBytes } = require(join(dist, 'keras', 'read-keras-model.js'));
const { buildTfjsModel } = require(join(dist, 'keras', 'to-tfjs.js'));
const { convertLayersGraph } = require(join(dist, 'layers-model-to-onnx.js'));
const { checkGraphConversion } = require(join(dist, 'check-graph-conversion.js'));
const { ConversionError } = require(join(dist, 'errors.js'));

/** The same tolerance `modelship convert` checks with. */
const TOLERANCE = { atol: 1e-4, rtol: 1e-3 };

async function convert(path) {
  let stage = 'read';
  let model;
  try {
    const file = await readKerasModelBytes(readFileSync(path), 'mutant', {});
    stage = 'twin';
    model = await buildTfjsModel(file, 'mutant');
    stage = 'convert';
    const converted = convertLayersGraph(model);
    stage = 'check';
    const { maxAbsDiff } = await checkGraphConversion(model, converted, { samples: 4, ...TOLERANCE });
    return { kind: 'converted', maxAbsDiff };
  } catch (err) {
    if (err instanceof ConversionError) return { kind: 'refused', stage, message: err.message };
    return { kind: 'crash', stage, message: String((err && err.stack) || err) };
  } finally {
    if (model) model.dispose();
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', async (path) => {
  lines.pause();
  process.stdout.write(JSON.stringify({ path, ...(await convert(path)) }) + '\n');
  lines.resume();
});
