/** Packages for the Triton tests: identity models whose tensor shapes each test chooses. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeOnnxModel, type NodeSpec, type ValueSpec } from '../../lib/convert/onnx-builder';
import { createPackage } from '../../lib/package/create';
import { tempDir } from '../helpers/fixtures';

/** A package of `name` whose graph is `nodes` (Identity from each input to its output by default). */
export async function makePackage(
  name: string,
  inputs: ValueSpec[],
  outputs: ValueSpec[],
  nodes: NodeSpec[] = inputs.map((input, i) => ({ opType: 'Identity', inputs: [input.name], outputs: [outputs[i].name] })),
): Promise<string> {
  const parent = tempDir('modelship-triton-');
  const modelPath = join(parent, `${name}.onnx`);
  writeFileSync(modelPath, encodeOnnxModel({ name, inputs, outputs, nodes }));
  const dir = join(parent, name);
  await createPackage({ modelPath, name, version: '1.0.0', outDir: dir });
  return dir;
}
