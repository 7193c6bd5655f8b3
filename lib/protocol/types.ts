/**
 * Open Inference Protocol v2 shapes: the decoded tensors the engine runs, and the metadata bodies.
 * HTTP requests and responses are the router's (lib/router/http.ts), not the protocol's.
 */
import type { Datatype, TensorData } from './datatypes';
import type { TensorMetadata } from './wire';

/** The metadata bodies' types are inferred from their schemas in wire.ts, the one definition of each. */
export type { ModelMetadata, ServerMetadata, TensorMetadata } from './wire';

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

/** A model's inputs and outputs as its manifest declares them: what a request is decoded and checked against. */
export interface ModelSignature {
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}
