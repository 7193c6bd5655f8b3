/**
 * `modelship finetune`: a new package from a base package and labelled data. The base is verified
 * (model sha256 and golden samples) before anything trains; its ONNX becomes a trainable view
 * (trainable-view.ts), optionally with a new classifier head on its penultimate features; the top or
 * all of it trains; the result goes back to ONNX and is packaged crash-safely with golden samples
 * from the eval set, its lineage in the manifest and its report in training.json. The base is only read.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConversionError } from '../convert/errors';
import { createPackage } from '../package/create';
import type { SampleRequest } from '../package/golden';
import { readLabels } from '../package/labels';
import type { Manifest } from '../package/manifest';
import { requireVerified } from '../package/verify';
import { stringifyJson } from '../protocol/json';
import { withTempSibling } from '../util/atomic-dir';
import { systemClock, type Clock } from '../util/clock';
import { withNewHead } from './graph-surgery';
import type { OnnxNodeLayer } from './onnx-node-layer';
import { reinitialize } from './reinitialize';
import { readDataset, type DataSignature, type Dataset, type TaskKind } from './training-data';
import { evaluate, train, type TrainingListener, type TrainingResult } from './training-loop';
import { buildTrainableView, type TrainableView } from './trainable-view';

export interface FinetuneOptions {
  /** The base package directory (pulled already when it came from a registry). */
  readonly base: string;
  readonly data: string;
  readonly eval: string;
  readonly name: string;
  readonly version: string;
  readonly out: string;
  /** Train only the last K weighted layers. */
  readonly trainLast?: number;
  /** Freeze every weighted layer up to and including this one (a node name, or the Keras layer name it starts with). */
  readonly freezeUntil?: string;
  /** Transfer: replace the classifier head with a new Dense + softmax of this many classes. */
  readonly newHead?: number;
  /** Class names for the new head. */
  readonly labels?: readonly string[];
  /** @default 10 */
  readonly epochs?: number;
  /** @default 32 */
  readonly batchSize?: number;
  /** @default 1e-4 when every layer trains, 1e-3 when some are frozen or the head is new */
  readonly learningRate?: number;
  /** @default 42 */
  readonly seed?: number;
  /** Stop when the eval loss has not fallen for this many epochs, keeping the best epoch's weights. */
  readonly earlyStopPatience?: number;
  /** Baseline: the same architecture with fresh seeded weights (Glorot uniform), every layer trained. */
  readonly fromScratch?: boolean;
  /** The CSV label column. @default 'label' */
  readonly labelColumn?: string;
  readonly force?: boolean;
  readonly listener?: TrainingListener;
  /** Times the run for training.json only. @default the wall clock */
  readonly clock?: Clock;
}

export interface FinetuneReport {
  readonly base: { readonly name: string; readonly version: string; readonly modelSha256: string };
  readonly task: 'classification' | 'regression';
  readonly transfer: boolean;
  readonly trainedLayers: readonly string[];
  readonly frozenLayers: readonly string[];
  readonly examples: number;
  readonly evalExamples: number;
  readonly epochs: number;
  readonly epochsRun: number;
  readonly bestEpoch: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number;
  readonly metric: { readonly name: 'accuracy' | 'loss'; readonly base?: number; readonly value: number };
  readonly history: TrainingResult['history'];
  readonly durationMs: number;
  readonly manifest: Manifest;
}

export const TRAINING_REPORT = 'training.json';

/** The layer whose matrix makes the model's output: walking back from the output, the first weighted node. */
function headLayer(view: TrainableView): OnnxNodeLayer {
  const producers = new Map(view.onnx.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const weighted = new Map(view.weightedLayers.map((l) => [l.node, l]));
  const queue = [view.onnx.outputs[0].name];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const node = producers.get(queue.shift()!);
    if (!node || seen.has(node.name)) continue;
    seen.add(node.name);
    const layer = weighted.get(node);
    if (layer) return layer;
    queue.push(...node.inputs.filter((i) => i !== '' && !view.onnx.initializers.has(i)));
  }
  throw new ConversionError('the model has no weighted layer (Gemm, MatMul, Conv...) before its output, so it has no head to replace');
}

function taskOf(view: TrainableView, manifest: Manifest, newHead: number | undefined): TaskKind {
  if (newHead !== undefined) return 'classification';
  const output = view.onnx.outputs[0].name;
  const producer = view.onnx.nodes.find((n) => n.outputs.includes(output));
  return producer?.opType === 'Softmax' && manifest.outputs[0].shape.length === 2 ? 'classification' : 'regression';
}

function chooseTrainable(view: TrainableView, opts: FinetuneOptions): void {
  const layers = view.weightedLayers;
  if (opts.trainLast !== undefined && opts.freezeUntil !== undefined)
    throw new ConversionError('give --train-last or --freeze-until, not both');
  let frozen = 0;
  if (opts.trainLast !== undefined) {
    if (!Number.isInteger(opts.trainLast) || opts.trainLast < 1 || opts.trainLast > layers.length) {
      throw new ConversionError(
        `--train-last ${opts.trainLast}: the model has ${layers.length} weighted layer(s): ${layers.map((l) => l.node.name).join(', ')}`,
      );
    }
    frozen = layers.length - opts.trainLast;
  } else if (opts.freezeUntil !== undefined) {
    const at = layers.findIndex((l) => l.node.name === opts.freezeUntil || l.node.name.startsWith(`${opts.freezeUntil}/`));
    if (at < 0)
      throw new ConversionError(
        `--freeze-until '${opts.freezeUntil}' names no weighted layer; they are: ${layers.map((l) => l.node.name).join(', ')}`,
      );
    if (at === layers.length - 1)
      throw new ConversionError(`--freeze-until '${opts.freezeUntil}' would freeze every weighted layer; nothing would train`);
    frozen = at + 1;
  }
  layers.forEach((l, i) => (l.trainable = i >= frozen));
}

/** Golden samples: one request of the first three eval examples. */
function goldenRequest(manifest: Manifest, data: Dataset): SampleRequest {
  const rows = Math.min(3, data.count);
  return {
    id: 'finetune-eval-0',
    inputs: manifest.inputs.map((spec) => {
      const all = data.inputs.get(spec.name)!;
      const size = all.length / data.count;
      return {
        name: spec.name,
        datatype: spec.datatype,
        shape: [rows, ...spec.shape.slice(1)],
        data: Array.from(all.subarray(0, rows * size)),
      };
    }),
  };
}

export async function finetune(opts: FinetuneOptions): Promise<FinetuneReport> {
  const clock = opts.clock ?? systemClock;
  const started = clock.now();
  const manifest = await requireVerified(opts.base, `the base package ${opts.base}`, 'nothing was trained');
  if (manifest.outputs.length !== 1)
    throw new ConversionError(`finetune takes a model with one output; ${manifest.name} has ${manifest.outputs.length}`);
  const baseBytes = await readFile(join(opts.base, manifest.model.file));

  let view = buildTrainableView(baseBytes, manifest.name);
  let views: TrainableView[] = [view];
  try {
    const task = taskOf(view, manifest, opts.newHead);
    const baseLabels = readLabels(opts.base, manifest);
    const outputSize = manifest.outputs[0].shape.slice(1).reduce((a, b) => a * b, 1);
    const classes = opts.newHead ?? outputSize;
    if (opts.newHead !== undefined && (!Number.isInteger(opts.newHead) || opts.newHead < 2))
      throw new ConversionError(`--new-head ${opts.newHead}: a classifier needs at least 2 classes`);
    if (opts.labels && opts.labels.length !== classes)
      throw new ConversionError(`--labels names ${opts.labels.length} classes; the head has ${classes}`);
    const labels = opts.newHead !== undefined ? opts.labels : baseLabels;
    const signature: DataSignature = { inputs: manifest.inputs, task, classes, labels, targetSize: outputSize };
    const data = await readDataset(opts.data, signature, { labelColumn: opts.labelColumn });
    const evalData = await readDataset(opts.eval, signature, { labelColumn: opts.labelColumn });

    const baseMetric = opts.newHead === undefined && !opts.fromScratch ? evaluate(view, evalData, { task, classes }) : undefined;
    if (opts.newHead !== undefined) {
      const head = headLayer(view);
      const features = head.node.inputs[0];
      const featureShape = (head.input as { shape: Array<number | null> }).shape;
      if (featureShape.length !== 2 || featureShape[1] === null) {
        throw new ConversionError(
          `the base's penultimate features '${features}' have shape [${featureShape.join(', ')}]; a new head needs [batch, features]`,
        );
      }
      const bytes = withNewHead(baseBytes, {
        features,
        featureSize: featureShape[1],
        classes: opts.newHead,
        outputName: manifest.outputs[0].name,
        seed: opts.seed ?? 42,
      });
      view = buildTrainableView(bytes, `${manifest.name} with a new head`);
      views = [...views, view];
    }
    if (opts.fromScratch) {
      if (opts.trainLast !== undefined || opts.freezeUntil !== undefined)
        throw new ConversionError('--from-scratch trains every layer; drop --train-last and --freeze-until');
      reinitialize(view, opts.seed ?? 42);
    }
    chooseTrainable(view, opts);
    const partial = opts.newHead !== undefined || view.weightedLayers.some((l) => !l.trainable);
    const settings = {
      epochs: opts.epochs ?? 10,
      batchSize: opts.batchSize ?? 32,
      learningRate: opts.learningRate ?? (partial ? 1e-3 : 1e-4),
      seed: opts.seed ?? 42,
    };
    const result = await train(view, data, evalData, {
      task,
      classes,
      ...settings,
      patience: opts.earlyStopPatience,
      listener: opts.listener,
    });
    // The view holds the weights of the best epoch (the last, without early stopping), evaluated already.
    const final = result.history[result.bestEpoch - 1];
    const metricName = task === 'classification' ? 'accuracy' : 'loss';
    const metric = {
      name: metricName,
      ...(baseMetric ? { base: metricName === 'accuracy' ? baseMetric.accuracy! : baseMetric.loss } : {}),
      value: metricName === 'accuracy' ? final.evalAccuracy! : final.evalLoss,
    } as const;

    // Beside the output, so that Ctrl-C or the next writer after a SIGKILL removes it (lib/util/atomic-dir.ts).
    return await withTempSibling(opts.out, async (work) => {
      const modelPath = join(work, 'model.onnx');
      await writeFile(modelPath, view.toOnnx());
      const training = { dataSha256: data.sha256, examples: data.count, epochs: result.epochsRun, seed: settings.seed, metric };
      const partialReport = {
        base: { name: manifest.name, version: manifest.version, modelSha256: manifest.model.sha256 },
        task,
        transfer: opts.newHead !== undefined,
        trainedLayers: view.weightedLayers.filter((l) => l.trainable).map((l) => l.node.name),
        frozenLayers: view.weightedLayers.filter((l) => !l.trainable).map((l) => l.node.name),
        examples: data.count,
        evalExamples: evalData.count,
        ...settings,
        epochsRun: result.epochsRun,
        bestEpoch: result.bestEpoch,
        metric,
        history: result.history,
        evalSha256: evalData.sha256,
        durationMs: clock.now() - started,
      };
      const described = `${manifest.description ? `${manifest.description} ` : ''}Fine-tuned by modelship from ${manifest.name}@${manifest.version} on ${data.count} examples.`;
      const written = await createPackage({
        modelPath,
        name: opts.name,
        version: opts.version,
        outDir: opts.out,
        target: manifest.target,
        gpuPlatform: manifest.gpu?.platform,
        description: described.slice(0, 1024),
        samples: [goldenRequest(manifest, evalData)],
        labels,
        preprocess: manifest.preprocess,
        force: opts.force,
        derivedFrom: partialReport.base,
        training,
        reports: { [TRAINING_REPORT]: `${stringifyJson(partialReport, 2)}\n` },
      });
      return { ...partialReport, manifest: written };
    });
  } finally {
    for (const v of views) v.dispose();
  }
}
