// Triton model repositories and SageMaker artifacts from a model package.
export {
  buildModelConfig,
  canBatch,
  DEFAULT_INSTANCE_COUNT,
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_MAX_QUEUE_DELAY_MICROSECONDS,
  DEFAULT_PREFERRED_BATCH_SIZES,
} from './model-config';
export { TRITON_DATA_TYPE } from './datatype-map';
export { quoteTextFormat, renderModelConfig } from './pbtxt';
export { CONFIG_FILE, MODEL_VERSION_DIR, TRITON_MODEL_FILE, writeTritonRepository } from './repository';
export { buildSageMakerArtifact } from './sagemaker-artifact';
export type {
  SageMakerArtifact,
  TritonDataType,
  TritonDynamicBatching,
  TritonInstanceKind,
  TritonModelConfig,
  TritonModelConfigOptions,
  TritonRepository,
  TritonRepositoryOptions,
  TritonTensorConfig,
} from './types';
