/**
 * onnxruntime's threads on Lambda: the vCPUs a function's memory buys (1 per 1,769 MB, at most 6), set by
 * LambdaModel in MODEL_ORT_THREADS and read by the handler's session options.
 */
import { ortThreadsForMemory } from '../../lib/constructs/private/sizing';
import { ORT_THREADS_ENV, threadOptionsFromEnv } from '../../lib/engine/session-options';

test.each([
  [128, 1],
  [1024, 1],
  [1769, 1],
  [2653, 1],
  [2654, 2],
  [3538, 2],
  [5307, 3],
  [8845, 5],
  [10240, 6],
])('%i MB gives %i thread(s)', (memory, threads) => {
  expect(ortThreadsForMemory(memory)).toBe(threads);
});

test('the handler runs that many intra-op threads and one inter-op thread; unset leaves onnxruntime its defaults', () => {
  expect(threadOptionsFromEnv({ [ORT_THREADS_ENV]: '3' })).toEqual({ intraOpNumThreads: 3, interOpNumThreads: 1 });
  expect(threadOptionsFromEnv({})).toEqual({});
  expect(threadOptionsFromEnv({ [ORT_THREADS_ENV]: '' })).toEqual({});
});

test.each(['0', '1.5', 'two', '-2'])('MODEL_ORT_THREADS=%s is refused, naming the variable', (value) => {
  expect(() => threadOptionsFromEnv({ [ORT_THREADS_ENV]: value })).toThrow(
    `MODEL_ORT_THREADS must be a whole number of threads, at least 1; got '${value}'`,
  );
});
