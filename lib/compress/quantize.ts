/** `modelship quantize`: the three modes on the base's ONNX, each a rewrite of its graph. */
import { decodePlainModel } from '../onnx/plain-model';
import type { CompressContext, Compressed } from './compress-package';
import { CompressionError } from './errors';
import { float16Weights } from './float16-weights';
import { quantizeDynamic } from './quantize-dynamic';
import { quantizeWeights, type QuantizeOptions } from './quantize-weights';

export type QuantizeMode = 'int8-weights' | 'int8-dynamic' | 'fp16';
export const QUANTIZE_MODES: readonly QuantizeMode[] = ['int8-weights', 'int8-dynamic', 'fp16'];

export function quantizeModel(context: CompressContext, mode: QuantizeMode, opts: QuantizeOptions = {}): Promise<Compressed> {
  const model = decodePlainModel(context.bytes);
  const parameters = { perChannel: !opts.perTensor, exclude: [...(opts.exclude ?? [])] };
  switch (mode) {
    case 'int8-weights':
    case 'int8-dynamic': {
      const r = mode === 'int8-weights' ? quantizeWeights(model, opts) : quantizeDynamic(model, opts);
      return Promise.resolve({ bytes: r.bytes, parameters, quantized: r.quantized, forms: r.forms, leftInFloat: r.leftInFloat });
    }
    case 'fp16': {
      if (opts.perTensor) throw new CompressionError('--per-tensor is for the int8 modes; fp16 has no scales');
      const r = float16Weights(model, opts.exclude);
      return Promise.resolve({
        bytes: r.bytes,
        parameters: { exclude: parameters.exclude },
        quantized: r.converted,
        leftInFloat: r.leftInFloat,
      });
    }
    default:
      throw new CompressionError(`--mode ${String(mode)}: choose one of ${QUANTIZE_MODES.join(', ')}`);
  }
}
