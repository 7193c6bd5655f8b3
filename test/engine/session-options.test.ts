/** Which packages get onnxruntime's QDQ transformers turned off, so that int8 weights are dequantized once at load. */
import { sessionOptionsFor } from '../../lib/engine/session-options';

test.each([
  [undefined, undefined],
  ['int8-weights', { session: { disable_quant_qdq: '1' } }],
  ['int8-dynamic', { session: { disable_quant_qdq: '1' } }],
  ['fp16', undefined],
  ['optimize', undefined],
] as const)('a package compressed by %s: extra session config %j', (method, extra) => {
  const options = sessionOptionsFor(method ? { compression: { method, parameters: {} } } : {});
  expect(options.extra).toEqual(extra);
  expect(options.graphOptimizationLevel).toBe('all');
  expect(options.executionProviders).toEqual(['cpu']);
});
