/**
 * Keras activation functions as ONNX nodes. Names are matched after dropping case and underscores,
 * because tfjs serializes camelCase ('hardSigmoid') and Keras files snake_case ('hard_sigmoid').
 */
import type { OnnxGraphEmitter } from './onnx-graph-emitter';
import { ConversionError } from './errors';
import { LeakyReluActivation } from './keras/reference/activations';

type Emit = (g: OnnxGraphEmitter, x: string, base: string) => string;

// tfjs-core's selu constants (selu_util.ts) as doubles; ONNX's defaults are the same values rounded to float32.
const SELU_SCALE = 1.0507009873554805;
const SELU_ALPHA = 1.7580993408473768 / SELU_SCALE;

const unary =
  (op: string): Emit =>
  (g, x, base) =>
    g.node(op, [x], base);

function geluErf(g: OnnxGraphEmitter, x: string, base: string): string {
  // 0.5 * x * (1 + erf(x / sqrt(2)))
  const erf = g.node('Erf', [g.node('Div', [x, g.scalar(Math.SQRT2)], base)], base);
  const half = g.node('Mul', [g.node('Add', [erf, g.scalar(1)], base), g.scalar(0.5)], base);
  return g.node('Mul', [x, half], base);
}

function geluTanh(g: OnnxGraphEmitter, x: string, base: string): string {
  // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), as tfjs' gelu_new computes it
  const cube = g.node('Mul', [g.node('Pow', [x, g.scalar(3)], base), g.scalar(0.044715)], base);
  const inner = g.node('Mul', [g.node('Add', [x, cube], base), g.scalar(Math.sqrt(2 / Math.PI))], base);
  const onePlus = g.node('Add', [g.node('Tanh', [inner], base), g.scalar(1)], base);
  return g.node('Mul', [g.node('Mul', [x, onePlus], base), g.scalar(0.5)], base);
}

function silu(g: OnnxGraphEmitter, x: string, base: string): string {
  return g.node('Mul', [x, g.node('Sigmoid', [x], base)], base);
}

const ACTIVATIONS: Readonly<Record<string, Emit>> = {
  linear: (_g, x) => x,
  relu: unary('Relu'),
  relu6: (g, x, base) => g.node('Clip', [x, g.scalar(0), g.scalar(6)], base),
  sigmoid: unary('Sigmoid'),
  // Keras 2's (and tfjs's) hard_sigmoid, 0.2x + 0.5; Keras 3 redefined the name (reference/activations.ts).
  hardsigmoid: (g, x, base) => g.node('HardSigmoid', [x], base, { alpha: { float: 0.2 }, beta: { float: 0.5 } }),
  // Keras 3's relu6(x + 3) / 6
  keras3hardsigmoid: (g, x, base) => g.node('HardSigmoid', [x], base, { alpha: { float: 1 / 6 }, beta: { float: 0.5 } }),
  leakyrelu: (g, x, base) => g.node('LeakyRelu', [x], base, { alpha: { float: LeakyReluActivation.negativeSlope } }),
  tanh: unary('Tanh'),
  softmax: (g, x, base) => g.node('Softmax', [x], base, { axis: -1 }),
  logsoftmax: (g, x, base) => g.node('LogSoftmax', [x], base, { axis: -1 }),
  elu: (g, x, base) => g.node('Elu', [x], base, { alpha: { float: 1 } }),
  selu: (g, x, base) => g.node('Selu', [x], base, { alpha: { float: SELU_ALPHA }, gamma: { float: SELU_SCALE } }),
  softplus: unary('Softplus'),
  softsign: unary('Softsign'),
  swish: silu,
  silu,
  mish: (g, x, base) => g.node('Mul', [x, g.node('Tanh', [g.node('Softplus', [x], base)], base)], base),
  gelu: geluErf,
  gelunew: geluTanh,
};

function key(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

/** The activation names this converter handles, as tfjs spells them in a layer's config. */
export const SUPPORTED_ACTIVATIONS: readonly string[] = [
  'linear',
  'relu',
  'relu6',
  'sigmoid',
  'hardSigmoid',
  'keras3HardSigmoid',
  'leakyRelu',
  'tanh',
  'softmax',
  'logSoftmax',
  'elu',
  'selu',
  'softplus',
  'softsign',
  'swish',
  'silu',
  'mish',
  'gelu',
  'gelu_new',
];

/** True when the activation acts on each element alone, so it commutes with any transpose. */
export function isElementwise(activation: string): boolean {
  return !['softmax', 'logsoftmax'].includes(key(activation));
}

/** Appends the activation's nodes after `x` and returns the name of the activated tensor. */
export function emitActivation(g: OnnxGraphEmitter, activation: string | null | undefined, x: string, base: string, where: string): string {
  if (activation === null || activation === undefined) return x;
  const emit = ACTIVATIONS[key(activation)];
  if (!emit) {
    throw new ConversionError(`${where}: activation '${activation}' is not supported (supported: ${SUPPORTED_ACTIVATIONS.join(', ')})`);
  }
  return emit(g, x, base);
}
