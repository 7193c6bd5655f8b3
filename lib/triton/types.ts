/**
 * Types for the Triton model repository that modelship writes from a package: the options a user
 * sets, and the model configuration they produce (rendered to config.pbtxt by `renderModelConfig`).
 */

/** Triton's tensor element types (model_config.proto, enum DataType) that v2 datatypes map onto. */
export type TritonDataType =
  | 'TYPE_BOOL'
  | 'TYPE_UINT8'
  | 'TYPE_UINT16'
  | 'TYPE_UINT32'
  | 'TYPE_UINT64'
  | 'TYPE_INT8'
  | 'TYPE_INT16'
  | 'TYPE_INT32'
  | 'TYPE_INT64'
  | 'TYPE_FP16'
  | 'TYPE_FP32'
  | 'TYPE_FP64'
  | 'TYPE_STRING';

/** Where Triton places the model's instances (ModelInstanceGroup.Kind). */
export type TritonInstanceKind = 'KIND_GPU' | 'KIND_CPU';

export interface TritonModelConfigOptions {
  /**
   * The largest batch Triton's dynamic batcher may form. Applies only when every input and output
   * has a dynamic first dimension; 0 turns batching off and keeps the full shapes.
   * @default 64
   */
  readonly maxBatchSize?: number;
  /**
   * Batch sizes the dynamic batcher executes at once when it can form them; each at most maxBatchSize.
   * @default - 8, 16, 32 and 64, without those above maxBatchSize (maxBatchSize itself when none is left)
   */
  readonly preferredBatchSizes?: readonly number[];
  /**
   * How long, in microseconds, a request may wait in the queue for others to batch with.
   * @default 100
   */
  readonly maxQueueDelayMicroseconds?: number;
  /**
   * Instances of the model on each GPU (or in all, for KIND_CPU).
   * @default 1
   */
  readonly instanceCount?: number;
  /**
   * Where the instances run. KIND_CPU is for development and tests on machines without a GPU.
   * @default 'KIND_GPU'
   */
  readonly instanceKind?: TritonInstanceKind;
}

export interface TritonRepositoryOptions extends TritonModelConfigOptions {
  /**
   * Replace `<outDir>/<name>` when it already exists. The new repository is built next to it first,
   * so a package that fails its sha256 check never removes the old one.
   * @default false
   */
  readonly overwrite?: boolean;
}

/** One input or output of the model, as config.pbtxt states it. */
export interface TritonTensorConfig {
  readonly name: string;
  readonly dataType: TritonDataType;
  /** Without the batch dimension when the model batches; -1 marks a dynamic dimension. */
  readonly dims: readonly number[];
  /**
   * The shape the model itself sees, when it differs from `dims`: a tensor that has only the batch
   * dimension (or none) is stated as dims [1] and reshaped to [], as Triton requires.
   */
  readonly reshape?: readonly number[];
}

export interface TritonDynamicBatching {
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueDelayMicroseconds: number;
}

/** One input of a warm-up sample (ModelWarmup.Input), read from a raw file under the model's `warmup/`. */
export interface TritonWarmupInput {
  readonly name: string;
  readonly dataType: TritonDataType;
  /** Without the batch dimension when the model batches. */
  readonly dims: readonly number[];
  /** The file under `warmup/` that holds the input's row-major bytes. */
  readonly inputDataFile: string;
}

/** A warm-up request (ModelWarmup) Triton runs on every instance before it serves. */
export interface TritonWarmupSample {
  readonly name: string;
  readonly batchSize: number;
  readonly inputs: readonly TritonWarmupInput[];
}

/** The model configuration modelship writes; field for field what config.pbtxt holds. */
export interface TritonModelConfig {
  readonly name: string;
  readonly platform: 'onnxruntime_onnx';
  /** 0 when the model does not batch. */
  readonly maxBatchSize: number;
  readonly inputs: readonly TritonTensorConfig[];
  readonly outputs: readonly TritonTensorConfig[];
  /** Present only when maxBatchSize > 0. */
  readonly dynamicBatching?: TritonDynamicBatching;
  readonly instanceGroup: { readonly count: number; readonly kind: TritonInstanceKind };
  /** From the package's first golden sample; absent for a package without samples. */
  readonly modelWarmup?: readonly TritonWarmupSample[];
  /** Where it came from, written as a comment at the top of config.pbtxt. */
  readonly source: { readonly version: string; readonly sha256: string };
}

/** What `writeTritonRepository` wrote. */
export interface TritonRepository {
  /** `<outDir>/<name>`: the directory Triton loads the model from. */
  readonly modelDir: string;
  readonly configPath: string;
  readonly modelPath: string;
  readonly config: TritonModelConfig;
  /** The exact text of config.pbtxt. */
  readonly configText: string;
  /** The warm-up input files written under `<modelDir>/warmup/`. */
  readonly warmupFiles: readonly string[];
}

/** What `buildSageMakerArtifact` wrote. */
export interface SageMakerArtifact {
  readonly file: string;
  /** sha256 of the model.tar.gz, as lower-case hex. */
  readonly sha256: string;
  readonly bytes: number;
  /** The tar entries, in the order written. */
  readonly entries: readonly string[];
}
