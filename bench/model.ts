/**
 * Which model the bench measures, and the request bodies it sends.
 *
 * The bench measures models/mnist-mlp. When that package is missing (it is trained, not generated), the bench
 * falls back to a package it builds in a temp dir: an MLP of the same signature (input FP32 [-1,784],
 * 784-100-10, ReLU, softmax) with seeded random weights, so that the figures stay comparable. The fallback
 * is reported in the table and in results.json.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeOnnxModel } from '../lib/convert/onnx-builder';
import { createPackage } from '../lib/package/create';
import { MANIFEST_FILE, readManifest } from '../lib/package/manifest';
import { seededRandom } from '../lib/package/seeded-random';
import { encodeInferRequest } from '../lib/protocol/client-codec';

export const MNIST_DIR = 'models/mnist-mlp';

export interface BenchModel {
  /** Absolute package directory. */
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly inputName: string;
  /** Elements per row: the input's fixed dimension (784 for mnist-mlp). */
  readonly features: number;
  readonly outputNames: readonly string[];
  readonly modelBytes: number;
  /** True when models/mnist-mlp was missing and a synthetic package of the same signature is measured. */
  readonly fallback: boolean;
}

/**
 * An MLP with mnist-mlp's signature: input [batch,784] -> Dense(h, relu) for each h of `hidden` -> Dense(10)
 * -> softmax, with seeded Glorot weights. [100] is mnist-mlp's own shape.
 */
export function syntheticMlpOnnx(hidden: readonly number[] = [100], seed = 42): Uint8Array {
  const random = seededRandom(seed);
  const glorot = (fanIn: number, fanOut: number) => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const w = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = (random() * 2 - 1) * limit;
    return w;
  };
  const widths = [784, ...hidden, 10];
  const initializers = [];
  const nodes = [];
  let x = 'input';
  for (let l = 0; l < widths.length - 1; l++) {
    const [fanIn, fanOut] = [widths[l], widths[l + 1]];
    initializers.push({ name: `W${l}`, dims: [fanIn, fanOut], data: glorot(fanIn, fanOut) });
    initializers.push({ name: `b${l}`, dims: [fanOut], data: new Float32Array(fanOut) });
    nodes.push({ opType: 'MatMul', inputs: [x, `W${l}`], outputs: [`m${l}`] });
    const last = l === widths.length - 2;
    nodes.push({ opType: 'Add', inputs: [`m${l}`, `b${l}`], outputs: [last ? 'logits' : `a${l}`] });
    if (!last) nodes.push({ opType: 'Relu', inputs: [`a${l}`], outputs: [`h${l}`] });
    x = `h${l}`;
  }
  nodes.push({ opType: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attributes: { axis: -1 } });
  return encodeOnnxModel({
    name: 'mlp-synthetic',
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['batch', 784] }],
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: ['batch', 10] }],
    initializers,
    nodes,
  });
}

/** models/mnist-mlp when it exists, otherwise a synthetic package of the same signature in a temp dir. */
export async function resolveBenchModel(root = process.cwd()): Promise<BenchModel> {
  let dir = resolve(root, MNIST_DIR);
  let fallback = false;
  if (!existsSync(join(dir, MANIFEST_FILE))) {
    fallback = true;
    const parent = mkdtempSync(join(tmpdir(), 'modelship-bench-'));
    const modelPath = join(parent, 'mnist-mlp-synthetic.onnx');
    writeFileSync(modelPath, syntheticMlpOnnx());
    dir = join(parent, 'mnist-mlp-synthetic');
    await createPackage({
      modelPath,
      name: 'mnist-mlp-synthetic',
      version: '0.0.0',
      outDir: dir,
      description: 'bench fallback: mnist-mlp signature, random weights',
    });
  }
  return benchModelAt(dir, fallback);
}

/** The bench's view of a package with one FP32 input of shape [-1, N]. */
export function benchModelAt(dir: string, fallback = false): BenchModel {
  const manifest = readManifest(dir);
  const input = manifest.inputs[0];
  if (
    manifest.inputs.length !== 1 ||
    input.datatype !== 'FP32' ||
    input.shape.length !== 2 ||
    input.shape[0] !== -1 ||
    input.shape[1] < 1
  ) {
    throw new Error(`${dir}: the bench expects one FP32 input of shape [-1, N], like mnist-mlp; got ${JSON.stringify(manifest.inputs)}`);
  }
  return {
    dir,
    name: manifest.name,
    version: manifest.version,
    inputName: input.name,
    features: input.shape[1],
    outputNames: manifest.outputs.map((o) => o.name),
    modelBytes: manifest.model.bytes,
    fallback,
  };
}

/** Where real digits come from when present: the held-out eval set (pixels as base64 bytes, 784 per digit). */
export const EVAL_SET = 'test/fixtures/mnist-eval.json';

/** Which inputs the bench sent: real held-out digits, or synthetic rows of the same statistics. */
export type InputSource = 'mnist-eval' | 'synthetic';

/**
 * Deterministic MNIST-like rows, as a client would send them: about 80% zeros, the rest k/255 for k in 1..255
 * (pixel bytes normalized to [0,1] by the client, so most non-zero values print with 16-17 digits in JSON).
 */
export function syntheticRows(batch: number, features: number, seed = 1234): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: batch * features }, () => (random() < 0.8 ? 0 : Math.ceil(random() * 255) / 255));
}

let evalPixels: Buffer | null | undefined;

function readEvalPixels(root: string, features: number): Buffer | null {
  if (evalPixels !== undefined) return evalPixels;
  evalPixels = null;
  try {
    const set = JSON.parse(readFileSync(resolve(root, EVAL_SET), 'utf8')) as { count?: unknown; pixels?: unknown };
    if (typeof set.count === 'number' && typeof set.pixels === 'string') {
      const bytes = Buffer.from(set.pixels, 'base64');
      if (set.count > 0 && bytes.length === set.count * features) evalPixels = bytes;
    }
  } catch {
    // No eval set (or another format): synthetic rows of the same statistics stand in.
  }
  return evalPixels;
}

/**
 * `batch` input rows as a client sends them: held-out digits from the eval set, spread evenly over it (so
 * every class appears), normalized as uint8 / 255 the way the model was trained; or synthetic rows when the
 * eval set is not there or does not have this width.
 */
export function pixelRows(batch: number, features: number, root = process.cwd()): { rows: number[]; source: InputSource } {
  const pixels = readEvalPixels(root, features);
  if (!pixels) return { rows: syntheticRows(batch, features), source: 'synthetic' };
  const count = pixels.length / features;
  const rows: number[] = [];
  for (let r = 0; r < batch; r++) {
    const start = Math.floor((r * count) / batch) * features;
    for (let i = 0; i < features; i++) rows.push(pixels[start + i] / 255);
  }
  return { rows, source: 'mnist-eval' };
}

export interface RequestBodies {
  readonly batch: number;
  readonly source: InputSource;
  /** The values the bodies carry, as float32: the raw session.run feeds these. */
  readonly values: Float32Array;
  /** A plain v2 JSON request body. */
  readonly json: Buffer;
  readonly jsonHeaders: Record<string, string>;
  /** The same request with the input as Triton binary data, asking for binary outputs, as modelship's client sends it (its JSON header padded so that the tensor starts aligned). */
  readonly binary: Uint8Array;
  readonly binaryHeaders: Record<string, string>;
  /** The same, with the header as JSON.stringify writes it: the tensor starts wherever the header ends, as from most clients. */
  readonly binaryUnaligned: Buffer;
  readonly binaryUnalignedHeaders: Record<string, string>;
}

export function requestBodies(model: BenchModel, batch: number): RequestBodies {
  const { rows, source } = pixelRows(batch, model.features);
  const values = Float32Array.from(rows);
  const shape = [batch, model.features];
  const json = Buffer.from(JSON.stringify({ inputs: [{ name: model.inputName, shape, datatype: 'FP32', data: rows }] }), 'utf8');
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: model.inputName, shape, datatype: 'FP32', parameters: { binary_data_size: values.byteLength } }],
      parameters: { binary_data_output: true },
    }),
    'utf8',
  );
  const binaryUnaligned = Buffer.concat([header, Buffer.from(values.buffer, values.byteOffset, values.byteLength)]);
  const binary = encodeInferRequest([{ name: model.inputName, datatype: 'FP32', shape, data: values }], {
    binaryInputs: true,
    binaryOutputs: true,
  });
  return {
    batch,
    source,
    values,
    json,
    jsonHeaders: { 'content-type': 'application/json' },
    binary: binary.body,
    binaryHeaders: binary.headers,
    binaryUnaligned,
    binaryUnalignedHeaders: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.byteLength) },
  };
}
