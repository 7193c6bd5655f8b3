/**
 * A distillation student from a small architecture description: `dense:32`, `dense:64,32`,
 * `conv:8,16;dense:32` or `pool:2;dense:48`. `pool:K` first averages the image over KxK blocks (the
 * cheap way to a small student of an image model: 28x28 becomes 14x14, a quarter of the inputs to the
 * first dense layer). Each conv width is a 3x3 convolution (same padding) with ReLU and a 2x2 max
 * pool; each dense width a fully connected layer with ReLU. The student takes the teacher's input and
 * gives the teacher's output (name, datatype, shape), so clients cannot tell them apart. Its classifier
 * divides the logits by `temperature` before the softmax while it trains; the packaged student has 1.
 */
import { encodeOnnxModel, type InitializerSpec, type NodeSpec } from '../convert/onnx-builder';
import { imageGeometry } from '../package/image-geometry';
import type { Manifest } from '../package/manifest';
import { SeededRandom } from '../package/seeded-random';
import { CompressionError } from './errors';

export interface StudentSpec {
  /** Average-pool the image over KxK blocks first; 1 for none. */
  readonly pool: number;
  readonly conv: readonly number[];
  readonly dense: readonly number[];
}

/** The temperature initializer: frozen while the student trains (the view trains only matrix weights). */
export const TEMPERATURE = 'student/temperature';

export function parseStudentSpec(text: string): StudentSpec {
  const spec = { pool: 1, conv: [] as number[], dense: [] as number[] };
  const bad = (why: string) =>
    new CompressionError(`--student '${text}': ${why}; write it as dense:32, dense:64,32, conv:8,16;dense:32 or pool:2;dense:48`);
  const parts = text.split(';').map((p) => p.trim());
  for (const [i, part] of parts.entries()) {
    const pool = /^pool:(\d+)$/.exec(part);
    if (pool) {
      if (i !== 0) throw bad('pool comes first');
      spec.pool = Number(pool[1]);
      if (spec.pool < 2 || spec.pool > 16) throw bad('pool takes a block size of 2 to 16');
      continue;
    }
    const m = /^(conv|dense):(\d+(?:,\d+)*)$/.exec(part);
    if (!m) throw bad(`'${part}' is not pool:K or KIND:WIDTH[,WIDTH...] with KIND conv or dense`);
    const kind = m[1] as 'conv' | 'dense';
    if (kind === 'conv' && spec.dense.length > 0) throw bad('conv layers come before dense ones');
    if (spec[kind].length > 0) throw bad(`${kind} is given twice`);
    const widths = m[2].split(',').map(Number);
    if (widths.some((w) => w < 1 || w > 4096)) throw bad('each width is between 1 and 4096');
    spec[kind].push(...widths);
  }
  return spec;
}

export function buildStudent(manifest: Manifest, spec: StudentSpec, temperature: number, seed: number): Uint8Array {
  if (manifest.inputs.length !== 1 || manifest.outputs.length !== 1)
    throw new CompressionError(
      `distill takes a teacher of one input and one output; ${manifest.name} has ${manifest.inputs.length} and ${manifest.outputs.length}`,
    );
  const input = manifest.inputs[0];
  const output = manifest.outputs[0];
  if (input.datatype !== 'FP32' || output.datatype !== 'FP32' || output.shape.length !== 2 || output.shape[1] < 2)
    throw new CompressionError(
      `distill takes a classifier of FP32 [batch, features...] to FP32 [batch, classes]; ${manifest.name} is ${input.datatype} to ${output.datatype} [${output.shape.join(', ')}]`,
    );
  const dims = input.shape.slice(1);
  if (dims.some((d) => d < 0)) throw new CompressionError(`the teacher's input '${input.name}' has a dynamic dimension besides the batch`);
  const classes = output.shape[1];
  const random = new SeededRandom(seed);
  const nodes: NodeSpec[] = [];
  const initializers: InitializerSpec[] = [];
  const glorot = (name: string, shape: number[], fanIn: number, fanOut: number) => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    initializers.push({
      name,
      dims: shape,
      data: random.floats(
        shape.reduce((a, b) => a * b, 1),
        -limit,
        limit,
      ),
    });
  };
  let x = input.name;
  let features = dims.reduce((a, b) => a * b, 1);
  if (spec.pool > 1 || spec.conv.length > 0) {
    const image = imageGeometry(input.shape, manifest.preprocess);
    if (!image)
      throw new CompressionError(
        `pool and conv layers need an image input (an NHWC, NCHW or flat 28x28 input, or a manifest preprocess that says which); '${input.name}' is [${input.shape.join(', ')}]`,
      );
    let [h, w, channels] = [image.height, image.width, image.channels === 'rgb' ? 3 : 1];
    if (image.layout === 'flat') {
      initializers.push({ name: 'student/image_shape', dims: [4], data: BigInt64Array.of(-1n, BigInt(h), BigInt(w), BigInt(channels)) });
      nodes.push({ name: 'student/to_image', opType: 'Reshape', inputs: [x, 'student/image_shape'], outputs: ['student/image'] });
      x = 'student/image';
    }
    if (image.layout !== 'NCHW') {
      nodes.push({
        name: 'student/to_nchw',
        opType: 'Transpose',
        inputs: [x],
        outputs: ['student/nchw'],
        attributes: { perm: [0, 3, 1, 2] },
      });
      x = 'student/nchw';
    }
    if (spec.pool > 1) {
      const k = spec.pool;
      nodes.push({
        name: 'student/AveragePool',
        opType: 'AveragePool',
        inputs: [x],
        outputs: ['student/pooled'],
        attributes: { kernel_shape: [k, k], strides: [k, k] },
      });
      x = 'student/pooled';
      h = Math.floor(h / k);
      w = Math.floor(w / k);
      if (h < 1 || w < 1) throw new CompressionError(`--student pool:${k} is larger than the ${image.height}x${image.width} image`);
    }
    for (const [i, width] of spec.conv.entries()) {
      const p = `student/conv${i + 1}`;
      glorot(`${p}/kernel`, [width, channels, 3, 3], channels * 9, width * 9);
      initializers.push({ name: `${p}/bias`, dims: [width], data: new Float32Array(width) });
      nodes.push(
        {
          name: `${p}/Conv`,
          opType: 'Conv',
          inputs: [x, `${p}/kernel`, `${p}/bias`],
          outputs: [`${p}/conv`],
          attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
        },
        { name: `${p}/Relu`, opType: 'Relu', inputs: [`${p}/conv`], outputs: [`${p}/relu`] },
        {
          name: `${p}/MaxPool`,
          opType: 'MaxPool',
          inputs: [`${p}/relu`],
          outputs: [`${p}/pool`],
          attributes: { kernel_shape: [2, 2], strides: [2, 2] },
        },
      );
      x = `${p}/pool`;
      channels = width;
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
      if (h < 1 || w < 1)
        throw new CompressionError(
          `--student has ${spec.conv.length} conv layers; a ${image.height}x${image.width} image is pooled away after ${i + 1}`,
        );
    }
    features = channels * h * w;
  }
  if (spec.pool > 1 || spec.conv.length > 0 || dims.length > 1) {
    nodes.push({ name: 'student/Flatten', opType: 'Flatten', inputs: [x], outputs: ['student/flat'], attributes: { axis: 1 } });
    x = 'student/flat';
  }
  const dense = (name: string, width: number, relu: boolean) => {
    glorot(`${name}/kernel`, [features, width], features, width);
    initializers.push({ name: `${name}/bias`, dims: [width], data: new Float32Array(width) });
    nodes.push({ name: `${name}/Gemm`, opType: 'Gemm', inputs: [x, `${name}/kernel`, `${name}/bias`], outputs: [`${name}/gemm`] });
    x = `${name}/gemm`;
    if (relu) {
      nodes.push({ name: `${name}/Relu`, opType: 'Relu', inputs: [x], outputs: [`${name}/relu`] });
      x = `${name}/relu`;
    }
    features = width;
  };
  spec.dense.forEach((width, i) => dense(`student/dense${i + 1}`, width, true));
  dense('student/classifier', classes, false);
  initializers.push({ name: TEMPERATURE, dims: [], data: Float32Array.of(temperature) });
  nodes.push(
    { name: 'student/soften', opType: 'Div', inputs: [x, TEMPERATURE], outputs: ['student/softened'] },
    { name: 'student/Softmax', opType: 'Softmax', inputs: ['student/softened'], outputs: [output.name], attributes: { axis: -1 } },
  );
  return encodeOnnxModel({
    name: `${manifest.name}-student`,
    inputs: [{ name: input.name, datatype: 'FP32', shape: ['batch', ...dims] }],
    outputs: [{ name: output.name, datatype: 'FP32', shape: ['batch', classes] }],
    nodes,
    initializers,
  });
}
