// The CDK constructs alone: importing them never loads onnxruntime-node, so a CDK app that only deploys
// models can import from here. lib/index.ts re-exports all of this along with the engine.
export { ApiAuth, ApiAuthKind, type ApiKeyAuthProps, type CognitoAuthProps, type JwtAuthProps, type UsagePlanTier } from './api-auth';
export { LambdaModel, LIVE_ALIAS, type LambdaModelProps, type LogLevel, MODEL_DIR_IN_ASSET } from './lambda-model';
export { type IModelBackend, type ModelBackendBinding, type ModelBackendBindOptions, type ModelIntegrations } from './model-backend';
export {
  type AddModelOptions,
  BINARY_MEDIA_TYPES,
  ModelApi,
  type ModelApiProps,
  modelMetadataJson,
  modelReadyJson,
  type ServedModel,
} from './model-api';
export { ModelPackage, type RegistryPackageOptions, type RegistryPackageSource } from './model-package';
export {
  type IModelRegistry,
  ModelRegistry,
  type ModelRegistryAttributes,
  type ModelRegistryProps,
  RegistryEncryption,
} from './model-registry';
export { ModelshipStack, type ModelshipStackProps } from './modelship-stack';
export { OnnxRuntimeLayer, type OnnxRuntimeLayerProps } from './onnx-runtime-layer';
export { PackageTrust, type PackageTrustBinding } from './package-trust';
export { Hardening, HARDENED_MIN_LOG_RETENTION, type HardeningProps } from './hardening';
export { type ProfileProps } from './private/profile';
export { LAMBDA_UNZIPPED_LIMIT_BYTES } from './private/sizing';
export { ECS_PRODUCTION_PORT, ECS_TEST_PORT, EcsGpuModel, type EcsGpuModelProps, TRITON_HTTP_PORT } from './ecs-gpu-model';
export { type EcsRollout } from './private/ecs-rollout';
export { SAGEMAKER_VARIANT_NAME, type SageMakerDataCaptureProps, SageMakerModel, type SageMakerModelProps } from './sagemaker-model';
export { SageMakerCapacity, SageMakerTrafficRouting, type SageMakerTrafficStepProps } from './sagemaker-traffic-routing';
export { DEFAULT_ECS_TRITON_IMAGE, DEFAULT_SAGEMAKER_TRITON_TAG, SAGEMAKER_TRITON_ACCOUNTS } from './private/triton-images';
