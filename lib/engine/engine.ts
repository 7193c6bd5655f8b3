/**
 * InferenceEngine: one loaded model package. It checks the model's sha256 before onnxruntime sees a
 * byte of it, owns the InferenceSession, and runs decoded requests: InferRequest in, InferResult out.
 * It knows models, not HTTP: bodies, headers and statuses are the router's (lib/router), and every
 * front (local server, Lambda, tests, benchmarks) reaches it the same way.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readCheckedManifest, readManifest, type Manifest } from '../package/manifest';
import { checkModelBytes } from '../package/integrity';
import { readLabels } from '../package/labels';
import { DATATYPE_INFO, datatypeFromOrt } from '../protocol/datatypes';
import { BadRequestError } from '../protocol/errors';
import { PackageError } from '../package/errors';
import { modelMetadata } from '../protocol/responses';
import type { InferRequest, InferResult, ModelMetadata, Tensor } from '../protocol/types';
import { checkSessionMatchesManifest } from './session-check';
import { sessionOptionsFor } from './session-options';

export interface EngineOptions {
  /** Options passed to onnxruntime's InferenceSession.create. @default - CPU execution provider, all graph optimizations (session-options.ts) */
  readonly sessionOptions?: ort.InferenceSession.SessionOptions;
  /**
   * The manifest and labels were checked when the package was built into this deployment (LambdaModel's
   * asset, at synth), so they are parsed and not checked again, and zod is never loaded. The model's bytes
   * are still checked against the manifest's sha256. @default false
   */
  readonly checkedAtSynth?: boolean;
}

/** Where a load's time went (ms): reading the model file, checking its sha256, creating the session. */
export interface LoadTimings {
  readonly readMs: number;
  readonly hashMs: number;
  readonly sessionMs: number;
}

export class InferenceEngine {
  /**
   * Loads a package directory: reads the manifest, reads the model once, checks its size and sha256
   * against the manifest, and only then creates the session from those same bytes, so that the file
   * cannot change between the check and the load.
   */
  static async load(dir: string, options: EngineOptions = {}): Promise<InferenceEngine> {
    const manifest = options.checkedAtSynth ? readCheckedManifest(dir) : readManifest(dir);
    const labels = readLabels(dir, manifest, options.checkedAtSynth);
    const modelPath = join(dir, manifest.model.file);
    const started = performance.now();
    let bytes: Buffer;
    try {
      bytes = await readFile(modelPath);
    } catch (err) {
      throw new PackageError(`${modelPath} cannot be read: ${(err as Error).message}`);
    }
    const read = performance.now();
    checkModelBytes(bytes, manifest.model, modelPath);
    const hashed = performance.now();
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, { ...sessionOptionsFor(manifest), ...options.sessionOptions });
    } catch (err) {
      throw new PackageError(`${modelPath} is not a model onnxruntime can load: ${(err as Error).message}`);
    }
    checkSessionMatchesManifest(session, manifest, modelPath);
    const timings = { readMs: read - started, hashMs: hashed - read, sessionMs: performance.now() - hashed };
    return new InferenceEngine(dir, manifest, session, timings, labels);
  }

  readonly name: string;
  readonly version: string;
  private readonly metadataValue: ModelMetadata;

  private constructor(
    readonly dir: string,
    /** What requests are decoded and checked against before they reach infer. */
    readonly manifest: Manifest,
    private readonly session: ort.InferenceSession,
    /** Where the load's time went; the Lambda front logs it at INIT. */
    readonly loadTimings: LoadTimings,
    /** The class labels of the package's labels.json, when it has one. */
    readonly labels?: readonly string[],
  ) {
    this.name = manifest.name;
    this.version = manifest.version;
    this.metadataValue = modelMetadata(manifest, [manifest.version], labels);
  }

  /** The v2 model metadata of this one version, derived from the manifest. */
  metadata(): ModelMetadata {
    return this.metadataValue;
  }

  /**
   * Runs a request that has been checked against this model's manifest (lib/protocol/decode.ts does that)
   * and returns only the outputs it asked for, in the order asked.
   */
  async infer(request: InferRequest): Promise<InferResult> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of request.inputs) {
      feeds[t.name] = new ort.Tensor(DATATYPE_INFO[t.datatype].ort, t.data, t.shape);
    }
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(
        feeds,
        request.outputs.map((o) => o.name),
      );
    } catch (err) {
      // The request already matched the manifest, so what onnxruntime still refuses is an input the
      // graph cannot take (a dynamic dimension it constrains, say): the caller's to fix, not a 500.
      throw new BadRequestError(`model '${this.name}' rejected the request: ${(err as Error).message}`);
    }
    const outputs: Tensor[] = request.outputs.map(({ name }) => {
      const r = results[name];
      return { name, datatype: datatypeFromOrt(r.type)!, shape: r.dims, data: r.data };
    });
    return { modelName: this.name, modelVersion: this.version, id: request.id, outputs };
  }

  /** Releases the native session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
