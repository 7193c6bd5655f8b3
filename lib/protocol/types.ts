/**
 * Open Inference Protocol v2 shapes: the JSON bodies on the wire, and the decoded tensors the engine runs.
 */
import type { Datatype, TensorData } from './datatypes';

/** A request input as it arrives in JSON. Everything is `unknown` until validated. */
export interface WireInput {
  readonly name: unknown;
  readonly shape: unknown;
  readonly datatype: unknown;
  readonly data?: unknown;
  readonly parameters?: unknown;
}

/** A tensor that has been checked against the manifest. */
export interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** An output the caller asked for, and whether it wants it as binary data. */
export interface RequestedOutput {
  readonly name: string;
  readonly binary: boolean;
}

/** A decoded, validated inference request. */
export interface InferRequest {
  readonly id?: string;
  readonly inputs: readonly Tensor[];
  /** The outputs to return, in order; every output of the model when the request named none. */
  readonly outputs: readonly RequestedOutput[];
  /** True when the request came as SageMaker's Triton binary content type, so the answer goes back the same way. */
  readonly sagemaker: boolean;
}

export interface InferResult {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly id?: string;
  readonly outputs: readonly Tensor[];
}

export interface TensorMetadata {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
}

/** GET /v2/models/{name}: the model metadata response. */
export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: 'onnxruntime_onnx';
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

/** GET /v2: the server metadata response. */
export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

/** A transport-neutral HTTP exchange, so that the Lambda and local fronts share every route. */
export interface HttpRequest {
  readonly method: string;
  /** The path without query string, starting at /v2. */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Uint8Array;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** A string for JSON bodies; bytes for binary tensor data. */
  readonly body: string | Uint8Array;
}
