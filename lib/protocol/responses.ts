/**
 * The one source of every protocol answer that is not an inference result: server metadata, health,
 * model metadata and readiness, and the error body. The router serves them, and the CDK constructs
 * write the same functions' output into API Gateway mock integrations for GPU models, so every
 * backend answers these routes with the same bytes.
 */
import { VERSION } from '../version';
import type { ModelSignature } from './types';
import type { ModelMetadata, ModelParameters, Preprocess, RepositoryEntry, ServerMetadata } from './wire';

/** Protocol extensions this server implements, reported by GET /v2. */
export const EXTENSIONS = ['binary_tensor_data', 'sagemaker_triton_binary'] as const;

/** The platform every modelship model reports: the package's model is ONNX, run by onnxruntime. */
export const PLATFORM = 'onnxruntime_onnx';

/** What a model's metadata is built from: a manifest has all of it. */
export type NamedModelSignature = ModelSignature & {
  readonly name: string;
  readonly description?: string;
  readonly preprocess?: Preprocess;
  readonly derivedFrom?: ModelParameters['derivedFrom'];
};

/** GET /v2 */
export function serverMetadata(): ServerMetadata {
  return { name: 'modelship', version: VERSION, extensions: [...EXTENSIONS] };
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

/** The metadata's `parameters`: only what the package has, and nothing at all for a bare one. */
function modelParameters(model: NamedModelSignature, labels: readonly string[] | undefined): ModelParameters | undefined {
  const p: ModelParameters = {};
  if (model.description) p.description = model.description;
  if (labels) p.labels = [...labels];
  if (model.preprocess) p.preprocess = model.preprocess;
  if (model.derivedFrom) p.derivedFrom = { ...model.derivedFrom };
  return Object.keys(p).length > 0 ? p : undefined;
}

/**
 * GET /v2/models/{name}[/versions/{v}]: `versions` lists every version served, highest first; `labels`
 * are the package's labels.json, which the manifest only names.
 */
export function modelMetadata(model: NamedModelSignature, versions: readonly string[], labels?: readonly string[]): ModelMetadata {
  const parameters = modelParameters(model, labels);
  return {
    name: model.name,
    versions: [...versions],
    platform: PLATFORM,
    inputs: [...model.inputs],
    outputs: [...model.outputs],
    ...(parameters ? { parameters } : {}),
  };
}

export function modelMetadataBody(model: NamedModelSignature, versions: readonly string[], labels?: readonly string[]): string {
  return JSON.stringify(modelMetadata(model, versions, labels));
}

/** GET /v2/models/{name}[/versions/{v}]/ready */
export function modelReadyBody(name: string, version: string): string {
  return JSON.stringify({ name, version, ready: true });
}

/** POST /v2/repository/index: every model, served (READY) or refused (UNAVAILABLE, with the reason). */
export function repositoryIndexBody(entries: readonly RepositoryEntry[]): string {
  return JSON.stringify(entries);
}

/** Every error answer: `{"error": message}`. */
export function errorBody(message: string): string {
  return JSON.stringify({ error: message });
}

/** The 404 for a version the model does not have. */
export function unknownVersionMessage(name: string, version: string, versions: readonly string[]): string {
  return `model '${name}' has no version '${version}'; it has: ${versions.join(', ')}`;
}
