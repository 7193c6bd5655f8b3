// The CDK constructs alone: importing them never loads onnxruntime-node, so a CDK app that only deploys
// models can import from here. lib/index.ts re-exports all of this along with the engine.
export { ApiAuth, ApiAuthKind, type ApiKeyAuthProps, type CognitoAuthProps, type JwtAuthProps, type UsagePlanTier } from './api-auth';
export { LambdaModel, LIVE_ALIAS, type LambdaModelProps, type LogLevel, MODEL_DIR_IN_ASSET } from './lambda-model';
export { type AddModelOptions, BINARY_MEDIA_TYPES, ModelApi, type ModelApiProps } from './model-api';
export { ModelPackage } from './model-package';
export { ModelshipStack, type ModelshipStackProps } from './modelship-stack';
export { OnnxRuntimeLayer, type OnnxRuntimeLayerProps } from './onnx-runtime-layer';
export { LAMBDA_UNZIPPED_LIMIT_BYTES } from './private/sizing';
