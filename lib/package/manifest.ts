/**
 * The model package manifest (modelship.json): its schema, its types, and reading it from disk.
 * The schema is the contract; nothing else in the project checks a manifest by hand.
 */
import { join } from 'node:path';
import type { z } from 'zod';
import { schemaProblems } from '../util/schema-problems';
import { DATATYPES } from '../protocol/datatypes';
import { PackageError } from './errors';
import { SHA256_HEX } from './hash';
import { MODEL_NAME } from './model-name';
import { preprocessProblem, preprocessSchema } from './preprocess';
import { zod } from '../util/lazy-zod';
import { readJsonFile } from '../util/read-json-file';

export const MANIFEST_FILE = 'modelship.json';
export const MANIFEST_FORMAT = 'modelship/v1';

/** Semantic Versioning 2.0.0, as given by semver.org. */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
/** Package-relative path: no absolute paths, no parent segments, so a manifest cannot point outside its package. */
const RELATIVE_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[A-Za-z0-9._\-/]+$/;

/**
 * The schemas, built on first use: zod and its schemas take a few milliseconds to load and build, which
 * a Lambda INIT of a package synth already checked does not pay (readCheckedManifest).
 */
function buildSchemas() {
  const z = zod();
  const tensorSpecSchema = z.strictObject({
    name: z.string().min(1).max(256),
    datatype: z.enum(DATATYPES),
    /** -1 marks a dynamic dimension. */
    shape: z.array(z.number().int().min(-1)).max(32),
  });

  const toleranceSchema = z.strictObject({
    /** Absolute tolerance: |actual - expected| <= atol + rtol * |expected|. */
    atol: z.number().min(0),
    rtol: z.number().min(0),
  });

  const toleranceByDatatypeSchema = z.strictObject({
    FP16: toleranceSchema.optional(),
    FP32: toleranceSchema.optional(),
    FP64: toleranceSchema.optional(),
  });

  const manifestSchema = z.strictObject({
    format: z.literal(MANIFEST_FORMAT),
    name: z.string().regex(MODEL_NAME, 'must be DNS-safe: lower-case letters, digits and hyphens, at most 63 characters'),
    version: z.string().regex(SEMVER, 'must be a semantic version such as 1.0.0'),
    description: z.string().max(1024).default(''),
    framework: z.strictObject({
      name: z.literal('onnx'),
      opset: z.number().int().min(1),
    }),
    target: z.enum(['cpu', 'gpu']),
    /** How the package asks to be deployed on a GPU; ignored for cpu targets. */
    gpu: z.strictObject({ platform: z.enum(['sagemaker', 'ecs']) }).optional(),
    inputs: z.array(tensorSpecSchema).min(1),
    outputs: z.array(tensorSpecSchema).min(1),
    model: z.strictObject({
      file: z.string().regex(RELATIVE_PATH),
      bytes: z.number().int().positive(),
      sha256: z.string().regex(SHA256_HEX, 'must be 64 lower-case hex digits'),
    }),
    samples: z.array(
      z.strictObject({
        /** A v2 infer request body, usable as it is: curl --data @<package>/<request>. */
        request: z.string().regex(RELATIVE_PATH),
        /** The outputs the model gave for it at packaging: {"outputs": [...]}. */
        response: z.string().regex(RELATIVE_PATH),
        /** Per floating-point datatype; integers, BOOL and BYTES must match exactly. */
        tolerance: toleranceByDatatypeSchema,
      }),
    ),
    labels: z.string().regex(RELATIVE_PATH).optional(),
    /** What a converted model came from: the Keras file that `modelship package MODEL.keras` converted. */
    source: z
      .strictObject({
        format: z.literal('keras'),
        /** Which Keras file: a .keras zip, a full .h5, or a .weights.h5 with its config. */
        container: z.enum(['keras', 'h5', 'weights-h5']),
        /** The Keras version that wrote it, when the file records one. */
        kerasVersion: z.string().optional(),
        /** The sha256 of the file as it was read. */
        sha256: z.string().regex(SHA256_HEX, 'must be 64 lower-case hex digits'),
      })
      .optional(),
    /** The package this one was made from (fine-tuned, transferred, extracted or compressed): its identity and model. */
    derivedFrom: z
      .strictObject({
        name: z.string().regex(MODEL_NAME),
        version: z.string().regex(SEMVER),
        modelSha256: z.string().regex(SHA256_HEX, 'must be 64 lower-case hex digits'),
      })
      .optional(),
    /** How a fine-tuned package was trained; timings are kept out, in the report, so that a rerun gives the same manifest. */
    training: z
      .strictObject({
        dataSha256: z.string().regex(SHA256_HEX, 'must be 64 lower-case hex digits'),
        examples: z.number().int().positive(),
        epochs: z.number().int().positive(),
        seed: z.number().int(),
        /** The eval metric, for the base where the task allows, and for this model. */
        metric: z.strictObject({ name: z.enum(['accuracy', 'loss']), base: z.number().optional(), value: z.number() }),
      })
      .optional(),
    /** For a compressed package: how (optimize, int8-weights, int8-dynamic, fp16, prune, distill) and with what settings. */
    compression: z
      .strictObject({
        method: z.enum(['optimize', 'int8-weights', 'int8-dynamic', 'fp16', 'prune', 'distill']),
        parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])),
      })
      .optional(),
    /** For a package cut out of its base: the tensor of the base that is this package's output. */
    extraction: z.strictObject({ tensor: z.string().min(1) }).optional(),
    /** Reports the package carries (training.json, compression.json): kept by publish and pull like every listed file. */
    reports: z.array(z.string().regex(RELATIVE_PATH)).optional(),
    /** How a picture becomes the first input, for image models: what the browser page does to a drawing. */
    preprocess: preprocessSchema().optional(),
    created: z.strictObject({
      tool: z.literal('modelship'),
      version: z.string(),
    }),
  });
  return { tensorSpecSchema, toleranceSchema, toleranceByDatatypeSchema, manifestSchema };
}

type Schemas = ReturnType<typeof buildSchemas>;
let schemas: Schemas | undefined;

export type Manifest = z.infer<Schemas['manifestSchema']>;
export type TensorSpec = z.infer<Schemas['tensorSpecSchema']>;
export type Tolerance = z.infer<Schemas['toleranceSchema']>;
export type ToleranceByDatatype = z.infer<Schemas['toleranceByDatatypeSchema']>;

/** Checks a parsed manifest; throws a PackageError listing every problem with its JSON path. */
export function parseManifest(value: unknown, source = MANIFEST_FILE): Manifest {
  const result = (schemas ??= buildSchemas()).manifestSchema.safeParse(value);
  if (!result.success) {
    throw new PackageError(`${source} is not a valid manifest: ${schemaProblems(result.error)}`);
  }
  const m = result.data;
  for (const list of [m.inputs, m.outputs]) {
    const seen = new Set<string>();
    for (const t of list) {
      if (seen.has(t.name)) throw new PackageError(`${source}: tensor name "${t.name}" appears twice`);
      seen.add(t.name);
    }
  }
  const preprocess = m.preprocess && preprocessProblem(m.preprocess, m.inputs[0]);
  if (preprocess) throw new PackageError(`${source}: ${preprocess}`);
  return m;
}

/**
 * Reads `<dir>/modelship.json` of a package whose manifest was checked when it was built into a deployment
 * (LambdaModel's asset, checked by readManifest at synth): parsed, not checked again.
 */
export function readCheckedManifest(dir: string): Manifest {
  return readJsonFile(join(dir, MANIFEST_FILE), (m) => new PackageError(m)) as Manifest;
}

/** Reads and checks `<dir>/modelship.json`. */
export function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST_FILE);
  return parseManifest(
    readJsonFile(path, (m) => new PackageError(m)),
    path,
  );
}
