/**
 * `modelship package`: turns an ONNX file into a package directory. The manifest's inputs and
 * outputs come from onnxruntime itself, and the golden samples are answered by the same engine
 * that will serve the package, so a package is checked by the code that runs it.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { InferenceEngine } from '../engine/engine';
import { OutputExistsError } from '../errors';
import { isEmptyOrMissing, recoverInterruptedWrite, writeDirAtomically } from '../util/atomic-dir';
import { PackageError } from './errors';
import { parseJson, stringifyJson } from '../protocol/json';
import { VERSION } from '../version';
import { answerSample } from './answer-sample';
import { DEFAULT_TOLERANCE, type SampleRequest, syntheticRequest } from './golden';
import { sha256 } from './hash';
import { MANIFEST_FILE, MANIFEST_FORMAT, type Manifest, parseManifest } from './manifest';
import { readOpset, readSignature } from './onnx-signature';
import { verifyPackage } from './verify';

export const MODEL_FILE = 'model.onnx';
export const SAMPLES_DIR = 'samples';
export const LABELS_FILE = 'labels.json';

export interface CreatePackageOptions {
  /** The ONNX model to package. */
  readonly modelPath: string;
  /** DNS-safe model name. */
  readonly name: string;
  /** Semantic version. */
  readonly version: string;
  /** Directory to write the package to. */
  readonly outDir: string;
  /** @default 'cpu' */
  readonly target?: 'cpu' | 'gpu';
  /** For gpu targets: where bin/app.ts deploys it. @default - SageMaker */
  readonly gpuPlatform?: 'sagemaker' | 'ecs';
  /** @default '' */
  readonly description?: string;
  /** v2 request bodies to record as golden samples. @default - two synthetic requests of the declared shapes */
  readonly samples?: readonly SampleRequest[];
  /** Class labels, written to labels.json. @default - none */
  readonly labels?: readonly string[];
  /** Replace an existing package in outDir. @default false */
  readonly force?: boolean;
  /** What the ONNX model was converted from, recorded in the manifest. @default - nothing: the model was ONNX to begin with */
  readonly source?: Manifest['source'];
  /** Lineage of a derived package (fine-tuned, extracted, compressed), recorded in the manifest. */
  readonly derivedFrom?: Manifest['derivedFrom'];
  readonly training?: Manifest['training'];
  readonly extraction?: Manifest['extraction'];
  readonly compression?: Manifest['compression'];
  /** Report files written into the package and listed in the manifest: file name -> contents. */
  readonly reports?: Readonly<Record<string, string>>;
  /** How a picture becomes the first input, for image models; checked against that input. @default - none */
  readonly preprocess?: Manifest['preprocess'];
}

/** Reads golden sample requests from a JSON file holding one v2 request body or an array of them. */
export async function readSampleRequests(path: string): Promise<SampleRequest[]> {
  const value = parseJson(await readFile(path, 'utf8'), path);
  const list = Array.isArray(value) ? value : [value];
  list.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || !Array.isArray((r as { inputs?: unknown }).inputs)) {
      throw new PackageError(`${path}: sample ${i} is not a v2 request body with an inputs array`);
    }
  });
  return list as SampleRequest[];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Writes the package crash-safely (see lib/util/atomic-dir.ts): everything goes into a staging directory
 * beside `outDir`, which must verify (model sha256 and every golden sample re-run by a fresh engine)
 * before it is renamed into place. With `force`, the old package stays whole until then; on any error,
 * `outDir` is as it was and nothing new is left.
 */
export async function createPackage(options: CreatePackageOptions): Promise<Manifest> {
  const { outDir } = options;
  await recoverInterruptedWrite(outDir);
  const replacing = await exists(join(outDir, MANIFEST_FILE));
  const holdsPackage = `${outDir} already holds a package; packages are immutable, so choose a new directory or replace it with force (--force)`;
  if (replacing && !options.force) throw new OutputExistsError(holdsPackage);
  // force replaces a package, never a directory of other files that happens to be named as the output.
  if (!replacing && !(await isEmptyOrMissing(outDir))) {
    throw new OutputExistsError(`${outDir} holds files but no package; choose a new or empty directory`);
  }
  const model = await readFile(options.modelPath).catch((err: Error) => {
    throw new PackageError(`${options.modelPath} cannot be read: ${err.message}`);
  });
  const session = await ort.InferenceSession.create(model).catch((err: Error) => {
    throw new PackageError(`${options.modelPath} is not a model onnxruntime can load: ${err.message}`);
  });
  const signature = readSignature(session);
  await session.release();

  const sampleRequests = options.samples ?? [syntheticRequest(signature.inputs, 1), syntheticRequest(signature.inputs, 2)];
  // Only the float datatypes the model outputs need a tolerance; everything else must match exactly.
  const tolerance = Object.fromEntries(Object.entries(DEFAULT_TOLERANCE).filter(([d]) => signature.outputs.some((o) => o.datatype === d)));
  const manifest = parseManifest(
    {
      format: MANIFEST_FORMAT,
      name: options.name,
      version: options.version,
      description: options.description ?? '',
      framework: { name: 'onnx', opset: readOpset(model) },
      target: options.target ?? 'cpu',
      ...(options.gpuPlatform ? { gpu: { platform: options.gpuPlatform } } : {}),
      inputs: signature.inputs,
      outputs: signature.outputs,
      model: { file: MODEL_FILE, bytes: model.length, sha256: sha256(model) },
      samples: sampleRequests.map((_, i) => ({
        request: `${SAMPLES_DIR}/${i}.request.json`,
        response: `${SAMPLES_DIR}/${i}.response.json`,
        tolerance,
      })),
      ...(options.labels ? { labels: LABELS_FILE } : {}),
      ...(options.source ? { source: options.source } : {}),
      ...(options.derivedFrom ? { derivedFrom: options.derivedFrom } : {}),
      ...(options.training ? { training: options.training } : {}),
      ...(options.extraction ? { extraction: options.extraction } : {}),
      ...(options.compression ? { compression: options.compression } : {}),
      ...(options.reports ? { reports: Object.keys(options.reports).sort() } : {}),
      ...(options.preprocess ? { preprocess: options.preprocess } : {}),
      created: { tool: 'modelship', version: VERSION },
    },
    `package ${options.name}`,
  );

  return writeDirAtomically(
    outDir,
    async (dir) => {
      await mkdir(join(dir, SAMPLES_DIR), { recursive: true });
      // The bytes that were hashed, not a second read of a file that may have changed since.
      await writeFile(join(dir, MODEL_FILE), model);
      if (options.labels) await writeFile(join(dir, LABELS_FILE), `${JSON.stringify(options.labels, null, 2)}\n`);
      for (const [file, contents] of Object.entries(options.reports ?? {})) await writeFile(join(dir, file), contents);
      await writeFile(join(dir, MANIFEST_FILE), `${stringifyJson(manifest, 2)}\n`);

      const engine = await InferenceEngine.load(dir);
      try {
        for (const [i, request] of sampleRequests.entries()) {
          const golden = await answerSample(engine, Buffer.from(stringifyJson(request))).catch((err: Error) => {
            throw new PackageError(`sample ${i} was refused by the model: ${err.message}; pass samples that fit it`);
          });
          await writeFile(join(dir, manifest.samples[i].request), `${stringifyJson(request, 2)}\n`);
          await writeFile(join(dir, manifest.samples[i].response), `${stringifyJson(golden, 2)}\n`);
        }
      } finally {
        await engine.release();
      }
      return manifest;
    },
    {
      replace: replacing,
      occupied: holdsPackage,
      check: async (staged) => {
        const report = await verifyPackage(staged);
        if (!report.ok) {
          const problems = report.problems.map((p) => p.split(staged).join(outDir));
          throw new PackageError(`the new package for ${outDir} does not verify, so it was not written:\n  - ${problems.join('\n  - ')}`);
        }
      },
    },
  );
}
