/**
 * ONNX's LSTM, GRU and RNN ops on tfjs, step by step over time, following the equations of the
 * operator specs: gates i, o, f, c for LSTM and z, r, h for GRU, W [directions, gates * hidden, in],
 * R [directions, gates * hidden, hidden], B [directions, 2 * gates * hidden] (input bias, then
 * recurrent bias), directions forward, reverse or both. Outputs Y [time, directions, batch, hidden]
 * and Y_h [directions, batch, hidden]. The loop is plain tfjs, so gradients flow through time.
 */
import * as tf from '@tensorflow/tfjs';
import type { OpContext, OpImplementation } from './onnx-op-context';

type Activation = (x: tf.Tensor) => tf.Tensor;

const ACTIVATIONS: Readonly<Record<string, Activation>> = { Sigmoid: tf.sigmoid, Tanh: tf.tanh, Relu: tf.relu };

interface Recurrence {
  readonly gates: number;
  readonly defaults: readonly string[];
  /** One time step: the gate pre-activations from the input and the state, and the state before. */
  step(
    x: tf.Tensor,
    h: tf.Tensor,
    c: tf.Tensor | undefined,
    w: DirectionWeights,
    f: Activation[],
    linearBeforeReset: boolean,
  ): [tf.Tensor, tf.Tensor?];
}

interface DirectionWeights {
  /** [in, gates * hidden] and [hidden, gates * hidden]: transposed once, so each step is x W + h R. */
  readonly w: tf.Tensor2D;
  readonly r: tf.Tensor2D;
  readonly wb: tf.Tensor;
  readonly rb: tf.Tensor;
  readonly hidden: number;
}

const split = (t: tf.Tensor, n: number) => tf.split(t, n, -1);

const LSTM: Recurrence = {
  gates: 4,
  defaults: ['Sigmoid', 'Tanh', 'Tanh'],
  step(x, h, c, w, [f, g, hAct]) {
    const z = tf.add(tf.add(tf.matMul(x as tf.Tensor2D, w.w), tf.matMul(h as tf.Tensor2D, w.r)), tf.add(w.wb, w.rb));
    const [zi, zo, zf, zc] = split(z, 4);
    const cNext = tf.add(tf.mul(f(zf), c!), tf.mul(f(zi), g(zc)));
    return [tf.mul(f(zo), hAct(cNext)), cNext];
  },
};

const GRU: Recurrence = {
  gates: 3,
  defaults: ['Sigmoid', 'Tanh'],
  step(x, h, _c, w, [f, g], linearBeforeReset) {
    const [xz, xr, xh] = split(tf.add(tf.matMul(x as tf.Tensor2D, w.w), w.wb), 3);
    const [rz, rr, rh] = split(w.r, 3) as tf.Tensor2D[];
    const [bz, br, bh] = split(w.rb, 3);
    const zt = f(tf.add(xz, tf.add(tf.matMul(h as tf.Tensor2D, rz), bz)));
    const rt = f(tf.add(xr, tf.add(tf.matMul(h as tf.Tensor2D, rr), br)));
    const recurrent = linearBeforeReset
      ? tf.mul(rt, tf.add(tf.matMul(h as tf.Tensor2D, rh), bh))
      : tf.add(tf.matMul(tf.mul<tf.Tensor2D>(rt, h), rh), bh);
    const ht = g(tf.add(xh, recurrent));
    return [tf.add(tf.mul(tf.sub(1, zt), ht), tf.mul(zt, h))];
  },
};

const RNN: Recurrence = {
  gates: 1,
  defaults: ['Tanh'],
  step(x, h, _c, w, [f]) {
    return [f(tf.add(tf.add(tf.matMul(x as tf.Tensor2D, w.w), tf.matMul(h as tf.Tensor2D, w.r)), tf.add(w.wb, w.rb)))];
  },
};

function directionWeights(ctx: OpContext, d: number, gates: number, hidden: number): DirectionWeights {
  const pick = (t: tf.Tensor) => tf.squeeze(tf.slice(t, [d], [1]), [0]);
  const b = ctx.has(3) ? pick(ctx.input(3)) : tf.zeros([2 * gates * hidden]);
  const [wb, rb] = tf.split(b, 2);
  return { w: tf.transpose(pick(ctx.input(1))) as tf.Tensor2D, r: tf.transpose(pick(ctx.input(2))) as tf.Tensor2D, wb, rb, hidden };
}

const recurrent =
  (cell: Recurrence): OpImplementation =>
  (ctx) => {
    for (const [i, what] of [
      [4, 'sequence_lens'],
      [5, 'initial_h'],
      [6, 'initial_c'],
      [7, 'peepholes'],
    ] as const) {
      if (ctx.has(i)) throw ctx.fail(`the ${what} input`);
    }
    if (ctx.int('layout', 0) !== 0) throw ctx.fail('layout=1 (batch-major)');
    if (ctx.node.attributes.has('clip')) throw ctx.fail('clip');
    if (ctx.node.opType === 'LSTM' && ctx.int('input_forget', 0) !== 0) throw ctx.fail('input_forget=1');
    const hidden = ctx.int('hidden_size', 0);
    const direction = ctx.string('direction', 'forward');
    const order: Array<'forward' | 'reverse'> =
      direction === 'bidirectional' ? ['forward', 'reverse'] : direction === 'reverse' ? ['reverse'] : ['forward'];
    if (!['forward', 'reverse', 'bidirectional'].includes(direction)) throw ctx.fail(`direction '${direction}'`);
    const names = ctx.stringList(
      'activations',
      order.flatMap(() => [...cell.defaults]),
    );
    if (names.length !== cell.defaults.length * order.length)
      throw ctx.fail(`${names.length} activations for ${order.length} direction(s)`);
    const acts = names.map((n) => {
      const a = ACTIVATIONS[n];
      if (!a) throw ctx.fail(`activation '${n}' (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
      return a;
    });
    const linearBeforeReset = ctx.int('linear_before_reset', 0) === 1;
    const steps = tf.unstack(ctx.input(0)); // time-major: [batch, in] per step
    const batch = steps[0].shape[0];
    const ys: tf.Tensor[][] = [];
    const last: tf.Tensor[] = [];
    order.forEach((dir, d) => {
      const w = directionWeights(ctx, d, cell.gates, hidden);
      const f = acts.slice(d * cell.defaults.length, (d + 1) * cell.defaults.length);
      let h: tf.Tensor = tf.zeros([batch, hidden]);
      let c: tf.Tensor | undefined = cell === LSTM ? tf.zeros([batch, hidden]) : undefined;
      const out = new Array<tf.Tensor>(steps.length);
      const times = [...steps.keys()];
      for (const t of dir === 'forward' ? times : times.reverse()) {
        [h, c] = cell.step(steps[t], h, c, w, f, linearBeforeReset);
        out[t] = h; // a reverse pass's output stays at the time step it read, as the spec lines it up
      }
      ys.push(out);
      last.push(h);
    });
    // Y [time, directions, batch, hidden]; Y_h [directions, batch, hidden]
    const y = tf.stack(steps.map((_, t) => tf.stack(ys.map((perDirection) => perDirection[t]))));
    return [y, tf.stack(last)];
  };

export const RECURRENT_OPS: Readonly<Record<string, OpImplementation>> = {
  LSTM: recurrent(LSTM),
  GRU: recurrent(GRU),
  RNN: recurrent(RNN),
};
