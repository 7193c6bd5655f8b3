// ModelClient: typed calls to a v2 model server (local, API Gateway, or any Open Inference Protocol server).
export {
  AuthError,
  HttpError,
  ModelClientError,
  NetworkError,
  PayloadTooLargeError,
  RateLimitedError,
  ResponseError,
  TimeoutError,
} from './errors';
export {
  ModelClient,
  type CallOptions,
  type ClientAuth,
  type InferOptions,
  type InferResult,
  type ModelClientOptions,
  type SigV4Auth,
} from './model-client';
export { DEFAULT_RETRY, type RetryOptions } from './retry';
export type { Clock, Sleep } from '../util/clock';
export { parseRequestBody, tensorToJson, type InferInputs, type ParsedRequest, type TensorInput, type TensorValues } from './tensors';
