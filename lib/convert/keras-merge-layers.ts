/**
 * Converters for Keras merge layers, which take several tensors of one shape (Concatenate: one shape
 * but the axis) and give one. Tensors stay channels-last between layers, so Keras's axes are ONNX's.
 */
import { numberOr, type LayerConverter } from './keras-layer-context';
import { ConversionError } from './errors';

/** ONNX's binary op folded over every input: Add(Add(a, b), c). */
const fold =
  (op: 'Add' | 'Mul'): LayerConverter =>
  (ctx) =>
    ctx.inputs.slice(1).reduce((acc, x) => ctx.g.node(op, [acc, x], ctx.base), ctx.inputs[0]);

/** ONNX's variadic ops take every input at once. */
const variadic =
  (op: 'Mean' | 'Max' | 'Min'): LayerConverter =>
  (ctx) =>
    ctx.g.node(op, [...ctx.inputs], ctx.base);

const subtract: LayerConverter = (ctx) => {
  if (ctx.inputs.length !== 2) throw new ConversionError(`${ctx.where}: Subtract takes exactly 2 inputs, got ${ctx.inputs.length}`);
  return ctx.g.node('Sub', [ctx.inputs[0], ctx.inputs[1]], ctx.base);
};

const concatenate: LayerConverter = (ctx) => {
  const axis = numberOr(ctx, 'axis', -1);
  const rank = ctx.inShape.length;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank || axis === 0 || axis === -rank) {
    throw new ConversionError(
      `${ctx.where}: cannot concatenate along axis ${axis} of rank-${rank} tensors (the batch axis, or out of range)`,
    );
  }
  return ctx.g.node('Concat', [...ctx.inputs], ctx.base, { axis });
};

export const MERGE_LAYERS: Readonly<Record<string, LayerConverter>> = {
  Add: fold('Add'),
  Multiply: fold('Mul'),
  Subtract: subtract,
  Average: variadic('Mean'),
  Maximum: variadic('Max'),
  Minimum: variadic('Min'),
  Concatenate: concatenate,
};
