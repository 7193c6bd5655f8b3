/**
 * `modelship extract`: component reuse. A new package whose output is an intermediate tensor of the
 * base (the penultimate features of a classifier, a convolutional block's maps), named by tensor or by
 * the Keras layer that produced it. The base's golden requests stay valid (its inputs are unchanged),
 * and the new package records them answered by the cut graph.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConversionError } from '../convert/errors';
import { createPackage, readSampleRequests } from '../package/create';
import type { Manifest } from '../package/manifest';
import { requireVerified } from '../package/verify';
import { withTempSibling } from '../util/atomic-dir';
import { cutAtTensor } from './graph-surgery';
import type { OnnxModel } from './onnx-model';
import { buildTrainableView } from './trainable-view';

export interface ExtractOptions {
  readonly base: string;
  /** A tensor of the base graph, or a layer name: the last tensor of the nodes named `<layer>/...`. */
  readonly output: string;
  readonly name: string;
  readonly version: string;
  readonly out: string;
  readonly force?: boolean;
}

/** The tensor `output` names, and the name the new package gives it. */
export function resolveOutput(onnx: OnnxModel, output: string): { tensor: string; outputName: string } {
  if (onnx.nodes.some((n) => n.outputs.includes(output))) return { tensor: output, outputName: output };
  const last = onnx.nodes
    .filter((n) => n.name.startsWith(`${output}/`))
    .at(-1)
    ?.outputs.find((o) => o !== '');
  if (last !== undefined) return { tensor: last, outputName: output };
  const layers = [...new Set(onnx.nodes.map((n) => n.name.split('/')[0]))];
  throw new ConversionError(`'${output}' is neither a tensor nor a layer of the model; its layers are ${layers.join(', ')}`);
}

export async function extractPackage(opts: ExtractOptions): Promise<Manifest> {
  const base = await requireVerified(opts.base, `the base package ${opts.base}`, 'nothing was extracted');
  const bytes = await readFile(join(opts.base, base.model.file));
  const view = buildTrainableView(bytes, base.name);
  let tensor: string, outputName: string, dims: ReadonlyArray<number | null>;
  try {
    ({ tensor, outputName } = resolveOutput(view.onnx, opts.output));
    dims = view.tensorShapes.get(tensor)!;
  } finally {
    view.dispose();
  }
  const cut = cutAtTensor(bytes, { tensor, outputName, dims });
  // Beside the output, so that Ctrl-C or the next writer after a SIGKILL removes it (lib/util/atomic-dir.ts).
  return withTempSibling(opts.out, async (work) => {
    const modelPath = join(work, 'model.onnx');
    await writeFile(modelPath, cut);
    const samples = (await Promise.all(base.samples.map((s) => readSampleRequests(join(opts.base, s.request))))).flat();
    return await createPackage({
      modelPath,
      name: opts.name,
      version: opts.version,
      outDir: opts.out,
      target: base.target,
      gpuPlatform: base.gpu?.platform,
      description: `The '${outputName}' tensor of ${base.name}@${base.version}, extracted by modelship.`,
      samples: samples.map((s) => ({ ...s, outputs: undefined })),
      preprocess: base.preprocess,
      force: opts.force,
      derivedFrom: { name: base.name, version: base.version, modelSha256: base.model.sha256 },
      extraction: { tensor },
    });
  });
}
