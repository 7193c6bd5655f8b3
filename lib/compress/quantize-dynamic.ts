/**
 * int8-dynamic: dynamic quantization, as onnxruntime's quantize_dynamic does it. Weights are stored as
 * int8 (symmetric, per output channel by default); each activation is quantized to uint8 at run time
 * by DynamicQuantizeLinear, multiplied in integers by MatMulInteger or ConvInteger, and scaled back:
 *
 *   y = float(MatMulInteger(x_q, w_q, x_zero, w_zero)) * (x_scale * w_scale) [+ bias]
 *
 * Gemm becomes that MatMul form with alpha folded into the weight scale and beta into the bias. Conv
 * keeps float compute on int8 weights (DequantizeLinear, as int8-weights): onnxruntime's CPU ConvInteger
 * takes only one weight zero point and ran the example CNN about 8x slower than float Conv, while
 * MatMulInteger runs its MLP about 3x faster (README.md, "Compression"). The graph's inputs and
 * outputs stay float32.
 */
import {
  encodePlainModel,
  floatAttribute,
  floatValues,
  intAttr,
  intAttribute,
  ONNX_TYPE,
  rawTensor,
  type PlainModel,
  type PlainNode,
  type PlainTensor,
} from '../onnx/plain-model';
import { checkPerChannelOpset, dequantizedWeight, dropUnread, type QuantizeOptions, type Rewritten } from './quantize-weights';
import { quantizeSymmetric } from './symmetric-int8';
import { findWeightedNodes, nothingToQuantize, type WeightedNode } from './weighted-nodes';

/** The forms the integer kernels take; any other is left in float with the reason. */
function dynamicLimits(node: PlainNode, initializers: ReadonlyMap<string, PlainTensor>): string | undefined {
  if (node.opType === 'Gemm') {
    if (intAttribute(node, 'transA', 0) !== 0) return 'transA=1 has no MatMulInteger form';
    const bias = node.input[2];
    if (bias && !initializers.has(bias)) return `its bias '${bias}' is computed, not a constant initializer`;
  }
  return undefined;
}

/** A [K, N] weight: Gemm's transB=1 weight is transposed offline so that every matrix form is x W. */
function matrixWeight(w: WeightedNode): { values: Float32Array; dims: number[] } {
  const [rows, cols] = w.weight.dims;
  if (w.node.opType !== 'Gemm' || intAttribute(w.node, 'transB', 0) === 0) return { values: w.values, dims: [rows, cols] };
  const t = new Float32Array(w.values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w.values[r * cols + c];
  return { values: t, dims: [cols, rows] };
}

export function quantizeDynamic(model: PlainModel, opts: QuantizeOptions = {}): Rewritten {
  checkPerChannelOpset(model, opts.perTensor, 11);
  const { nodes, leftInFloat } = findWeightedNodes(model, new Set(opts.exclude ?? []), dynamicLimits);
  if (nodes.length === 0) throw nothingToQuantize('int8-dynamic', leftInFloat);
  const initializers = new Map(model.graph.initializer.map((t) => [t.name, t]));
  const replacement = new Map<PlainNode, PlainNode[]>();
  // An activation read by several rewritten nodes is quantized once.
  const quantizedInputs = new Map<string, PlainNode>();

  const dequantized = new Map<string, string>();
  const forms: Record<string, string> = {};
  for (const w of nodes) {
    const { node } = w;
    if (node.opType === 'Conv') {
      const dq = dequantizedWeight(model, w, opts.perTensor, dequantized);
      replacement.set(node, dq ? [dq, node] : [node]);
      forms[w.name] = 'int8 weights, float compute (DequantizeLinear)';
      continue;
    }
    forms[w.name] = 'MatMulInteger on uint8 activations';
    const x = node.input[0];
    const base = node.name || w.name;
    const { values, dims } = matrixWeight(w);
    const axis = opts.perTensor ? undefined : 1;
    const q = quantizeSymmetric(values, dims, axis);
    const alpha = node.opType === 'Gemm' ? floatAttribute(node, 'alpha', 1) : 1;
    // Short names: on a small model the graph's text is a visible part of the file.
    const names = {
      weight: `${base}/w_int8`,
      weightZero: `${base}/w_zero`,
      weightScale: `${base}/w_scale`,
      scale: `${base}/scale`,
      integer: `${base}/int32`,
      float: `${base}/float`,
      scaled: `${base}/scaled`,
    };
    const xq = `${x}_uint8`;
    const nodesOut: PlainNode[] = [];
    if (!quantizedInputs.has(x)) {
      const dq: PlainNode = {
        name: `${x}_Quantize`,
        opType: 'DynamicQuantizeLinear',
        input: [x],
        output: [xq, `${x}_scale`, `${x}_zero`],
      };
      quantizedInputs.set(x, dq);
      nodesOut.push(dq);
    }
    model.graph.initializer.push(
      rawTensor(names.weight, dims, ONNX_TYPE.INT8, q.values),
      // Symmetric: every channel's zero point is 0, so one scalar serves them all (the scales carry the channels).
      rawTensor(names.weightZero, [], ONNX_TYPE.INT8, new Int8Array(1)),
      rawTensor(
        names.weightScale,
        axis === undefined ? [] : [dims[1]],
        ONNX_TYPE.FLOAT,
        q.scales.map((s) => s * alpha),
      ),
    );
    const integerOp: PlainNode = {
      name: `${base}/MatMulInteger`,
      opType: 'MatMulInteger',
      input: [xq, names.weight, `${x}_zero`, names.weightZero],
      output: [names.integer],
    };
    const bias = node.opType === 'Gemm' ? node.input[2] : undefined;
    const y = node.output[0];
    nodesOut.push(
      integerOp,
      { name: `${base}/Cast`, opType: 'Cast', input: [names.integer], output: [names.float], attribute: [intAttr('to', ONNX_TYPE.FLOAT)] },
      { name: `${base}/ScaleProduct`, opType: 'Mul', input: [`${x}_scale`, names.weightScale], output: [names.scale] },
      { name: `${base}/Rescale`, opType: 'Mul', input: [names.float, names.scale], output: [bias ? names.scaled : y] },
    );
    if (bias) {
      const beta = node.opType === 'Gemm' ? floatAttribute(node, 'beta', 1) : 1;
      let biasName = bias;
      if (beta !== 1) {
        const b = initializers.get(bias)!;
        biasName = `${base}/bias`;
        model.graph.initializer.push(
          rawTensor(
            biasName,
            b.dims,
            ONNX_TYPE.FLOAT,
            floatValues(b).map((v) => v * beta),
          ),
        );
      }
      nodesOut.push({ name: `${base}/AddBias`, opType: 'Add', input: [names.scaled, biasName], output: [y] });
    }
    replacement.set(node, nodesOut);
  }
  model.graph.node = model.graph.node.flatMap((n) => replacement.get(n) ?? [n]);
  dropUnread(model);
  return { bytes: encodePlainModel(model), quantized: nodes.map((n) => n.name), forms, leftInFloat };
}
