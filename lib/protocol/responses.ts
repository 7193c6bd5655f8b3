/**
 * The one source of every protocol answer that is not an inference result: server metadata, health,
 * model metadata and readiness, and the error body. The router serves them, and the CDK constructs
 * write the same functions' output into API Gateway mock integrations for GPU models, so every
 * backend answers these routes with the same bytes.
 */
import { VERSION } from '../version';
import type { ModelMetadata, ModelSignature, ServerMetadata } from './types';

/** Protocol extensions this server implements, reported by GET /v2. */
export const EXTENSIONS = ['binary_tensor_data', 'sagemaker_triton_binary'] as const;

/** The platform every modelship model reports: the package's model is ONNX, run by onnxruntime. */
export const PLATFORM = 'onnxruntime_onnx';

/** What a model's metadata is built from: a manifest has all of it. */
export type NamedModelSignature = ModelSignature & { readonly name: string };

/** GET /v2 */
export function serverMetadata(): ServerMetadata {
  return { name: 'modelship', version: VERSION, extensions: EXTENSIONS };
}

/** GET /v2/health/live */
export function liveBody(): string {
  return JSON.stringify({ live: true });
}

/** GET /v2/health/ready, when every model is ready. */
export function readyBody(): string {
  return JSON.stringify({ ready: true });
}

export function serverMetadataBody(): string {
  return JSON.stringify(serverMetadata());
}

/** GET /v2/models/{name}[/versions/{v}]: `versions` lists every version served, highest first. */
export function modelMetadata(model: NamedModelSignature, versions: readonly string[]): ModelMetadata {
  return { name: model.name, versions, platform: PLATFORM, inputs: model.inputs, outputs: model.outputs };
}

export function modelMetadataBody(model: NamedModelSignature, versions: readonly string[]): string {
  return JSON.stringify(modelMetadata(model, versions));
}

/** GET /v2/models/{name}[/versions/{v}]/ready */
export function modelReadyBody(name: string, version: string): string {
  return JSON.stringify({ name, version, ready: true });
}

/** Every error answer: `{"error": message}`. */
export function errorBody(message: string): string {
  return JSON.stringify({ error: message });
}

/** The 404 for a version the model does not have. */
export function unknownVersionMessage(name: string, version: string, versions: readonly string[]): string {
  return `model '${name}' has no version '${version}'; it has: ${versions.join(', ')}`;
}
