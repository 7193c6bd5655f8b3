/**
 * The CLI fronts of `finetune` and `extract`: they resolve a base given as a directory or as
 * NAME@VERSION in a registry (pulled, verified, into a temporary directory first), draw the training
 * progress, and print the report. The work itself is in finetune.ts and extract.ts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors';
import { parseLabels } from '../package/labels';
import { parseJson } from '../protocol/json';
import { withBase, type RegistryOptions } from '../registry/base-package';
import { extractPackage } from './extract';
import { finetune, type FinetuneOptions } from './finetune';
import { trainingProgress } from './training-progress';

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
  const bar = trainingProgress();
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
