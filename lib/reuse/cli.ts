/**
 * The CLI fronts of `finetune` and `extract`: they resolve a base given as a directory or as
 * NAME@VERSION in a registry (pulled, verified, into a temporary directory first), draw the training
 * progress, and print the report. The work itself is in finetune.ts and extract.ts.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { UsageError } from '../errors';
import { parseLabels } from '../package/labels';
import { parseJson } from '../protocol/json';
import type { RegistryCommandOptions } from '../registry/cli';
import { parseRegistryUri } from '../registry/location';
import { parsePackageRef, pullPackage } from '../registry/pull';
import { createRegistryClient } from '../registry/s3';
import { extractPackage } from './extract';
import { finetune, type FinetuneOptions } from './finetune';
import type { TrainingListener } from './training-loop';

type RegistryOptions = Partial<RegistryCommandOptions>;

/** The base as a local directory: a path as it is, or NAME@VERSION pulled from --registry. */
async function withBase<T>(base: string, o: RegistryOptions, use: (dir: string) => Promise<T>): Promise<T> {
  if (!o.registry) return use(base);
  const ref = parsePackageRef(base);
  const work = await mkdtemp(join(tmpdir(), 'modelship-base-'));
  try {
    const dir = join(work, 'base');
    const pulled = await pullPackage({
      client: createRegistryClient(o),
      registry: parseRegistryUri(o.registry),
      name: ref.name,
      version: ref.version,
      outDir: dir,
      runSamples: true,
    });
    console.log(`pulled the base ${pulled.name}@${pulled.version} from ${pulled.uri}`);
    return await use(dir);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** One bar per epoch on a terminal; on a pipe, one line per epoch so logs stay short. */
function progress(): TrainingListener & { stop(): void } {
  const tty = process.stderr.isTTY;
  const bars = tty
    ? new MultiBar(
        { format: 'epoch {epoch} |{bar}| {value}/{total} batches | loss {loss} | {evaluation}', stream: process.stderr, hideCursor: true },
        Presets.shades_classic,
      )
    : undefined;
  let bar: SingleBar | undefined;
  let label = '';
  return {
    epochStart(epoch, epochs, batches) {
      label = `${String(epoch).padStart(String(epochs).length)}/${epochs}`;
      bar = bars?.create(batches, 0, { epoch: label, loss: '-', evaluation: '' });
    },
    batchEnd(batch, loss) {
      bar?.update(batch, { loss: loss.toFixed(4) });
    },
    epochEnd(_epoch, r) {
      const evaluation = `eval loss ${r.evalLoss.toFixed(4)}${r.evalAccuracy !== undefined ? `, accuracy ${r.evalAccuracy.toFixed(4)}` : ''}`;
      if (bar) bar.update({ evaluation });
      else process.stderr.write(`epoch ${label}: loss ${r.trainLoss.toFixed(4)} | ${evaluation}\n`);
    },
    stop: () => bars?.stop(),
  };
}

/** The command line's options: finetune's own, with the label file, early stopping and the registry as flags. */
export interface FinetuneCommandOptions
  extends RegistryOptions, Omit<FinetuneOptions, 'base' | 'labels' | 'earlyStopPatience' | 'listener' | 'clock'> {
  /** A JSON array of the new head's class names. */
  readonly labels?: string;
  readonly earlyStop?: boolean;
  readonly patience?: number;
}

export async function runFinetune(base: string, o: FinetuneCommandOptions): Promise<void> {
  if (o.labels && o.newHead === undefined) throw new UsageError('--labels names the classes of a new head; give --new-head too');
  const labels = o.labels ? parseLabels(parseJson(await readFile(o.labels, 'utf8'), o.labels), o.labels) : undefined;
  const bar = progress();
  const report = await withBase(base, o, async (dir) => {
    const { labels: _labelsFile, earlyStop, patience, registry: _registry, ...rest } = o;
    const options: FinetuneOptions = {
      ...rest,
      base: dir,
      labels,
      earlyStopPatience: earlyStop ? (patience ?? 3) : undefined,
      listener: bar,
    };
    try {
      return await finetune(options);
    } finally {
      bar.stop();
    }
  });
  const m = report.metric;
  const figure = (v: number) => (m.name === 'accuracy' ? v.toFixed(4) : v.toExponential(3));
  console.log(`fine-tuned ${report.base.name}@${report.base.version} into ${report.manifest.name}@${report.manifest.version} in ${o.out}`);
  console.log(
    `  ${report.transfer ? 'transfer: a new head, ' : ''}trained ${report.trainedLayers.join(', ')}${report.frozenLayers.length ? `; frozen ${report.frozenLayers.join(', ')}` : ''}`,
  );
  console.log(
    `  ${report.examples} examples, ${report.epochsRun} of ${report.epochs} epochs (best ${report.bestEpoch}), batch ${report.batchSize}, learning rate ${report.learningRate}, seed ${report.seed}, ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  console.log(
    `  eval ${m.name} (${report.evalExamples} examples): ${m.base !== undefined ? `base ${figure(m.base)} -> ` : ''}${figure(m.value)}`,
  );
  console.log(`  report: ${join(o.out, 'training.json')}`);
}

export interface ExtractCommandOptions extends RegistryOptions {
  readonly output: string;
  readonly name: string;
  readonly version: string;
  readonly out: string;
  readonly force?: boolean;
}

export async function runExtract(base: string, o: ExtractCommandOptions): Promise<void> {
  const manifest = await withBase(base, o, (dir) =>
    extractPackage({ base: dir, output: o.output, name: o.name, version: o.version, out: o.out, force: o.force }),
  );
  const out = manifest.outputs[0];
  console.log(
    `extracted ${manifest.extraction?.tensor ?? out.name} of ${manifest.derivedFrom?.name}@${manifest.derivedFrom?.version} into ${manifest.name}@${manifest.version} in ${o.out}`,
  );
  console.log(`  output: ${out.name} ${out.datatype}[${out.shape.join(',')}]; ${manifest.samples.length} golden sample(s) recorded`);
}
