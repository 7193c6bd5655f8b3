#!/usr/bin/env node
/**
 * The modelship CLI. Each command loads its implementation only when it runs, so `modelship serve`
 * starts without paying for the converter, tfjs or the CDK (cold start is target P3 in README.md, "Benchmarks").
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { VERSION } from '../lib/version';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a non-negative integer`);
  return n;
}

const debug = process.argv.includes('--debug');

/**
 * Turns an expected failure (any ModelshipError: a bad package, config, model file, registry or call)
 * into one line and exit code 1, or 2 for a command line that cannot work. Anything else is a bug and
 * keeps its stack; `--debug` shows the stack for every error.
 */
async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    const { ModelshipError, UsageError } = await import('../lib/errors');
    const expected = err instanceof ModelshipError;
    const text = err instanceof Error ? (expected && !debug ? err.message : (err.stack ?? err.message)) : String(err);
    process.stderr.write(`modelship: ${text}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}

/**
 * `run` for the commands that write a package or an artifact (package, convert, pull, triton). Their
 * writes are atomic (lib/util/atomic-dir.ts); on Ctrl-C or SIGTERM the write in flight is undone before
 * the process exits, so nothing half-written is left and a package being replaced is still there.
 */
async function runWriting(action: () => Promise<void>): Promise<void> {
  const { abandonPendingWrites } = await import('../lib/util/atomic-dir');
  const onSignal = (signal: NodeJS.Signals) => {
    // A write cut before its rename leaves the old output; one already renamed in is complete and stays.
    const undone = abandonPendingWrites();
    process.stderr.write(`modelship: interrupted by ${signal}${undone > 0 ? '; no partial output was left' : ''}\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await run(action);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * Loads tfjs for a conversion, in production mode: its pure-JS backend otherwise prints a banner that
 * recommends tfjs-node (a native build modelship does not ship) on every run.
 */
async function loadQuietTfjs(): Promise<void> {
  try {
    require.resolve('@tensorflow/tfjs');
  } catch {
    const { ConversionError } = await import('../lib/convert/errors');
    throw new ConversionError('converting a model needs @tensorflow/tfjs, an optional peer dependency: npm i @tensorflow/tfjs@4');
  }
  (await import('@tensorflow/tfjs')).env().set('PROD', true);
}

const program = new Command()
  .name('modelship')
  .description('Package, check, serve and deploy ONNX models behind the Open Inference Protocol v2.')
  .version(VERSION)
  // `package --version 1.0.0` must reach the subcommand, not print the CLI's own version.
  .enablePositionalOptions()
  .option('--debug', 'print the stack of every error, not just of unexpected ones', false)
  // commander's own usage errors carry the same prefix as ours.
  .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'modelship: ')) })
  // commander's own usage errors (unknown option, missing argument) exit 2, as ours do.
  .exitOverride((err) =>
    process.exit(err.exitCode === 0 ? 0 : err.code.startsWith('commander.help') || err.code === 'commander.version' ? 0 : 2),
  );

program
  .command('package')
  .description(
    'package a model: manifest (I/O read from onnxruntime, sha256), model and golden samples; a Keras file is converted to ONNX first',
  )
  .argument('<model>', 'the .onnx file, or a Keras .keras / .h5 (or .weights.h5 with --config) to convert first')
  .requiredOption('--name <name>', 'DNS-safe model name')
  .requiredOption('--version <version>', 'semantic version, such as 1.0.0')
  .requiredOption('--out <dir>', 'directory to write the package to')
  .addOption(new Option('--target <target>', 'where it runs').choices(['cpu', 'gpu']).default('cpu'))
  .addOption(new Option('--gpu-platform <platform>', 'for gpu targets: how bin/app.ts deploys it').choices(['sagemaker', 'ecs']))
  .option('--samples <file>', 'JSON file with a v2 request body, or an array of them, to record as golden samples')
  .option('--labels <file>', 'JSON array of class labels')
  .option('--config <file>', 'for a Keras .weights.h5: the model config JSON')
  .option('--description <text>', 'what the model does', '')
  .option('--preprocess <json>', 'for image models: {"layout":"flat|NHWC|NCHW","range":[min,max],"channels":"gray|rgb"}')
  .option('--force', 'replace a package already in --out, once the new one is complete and verifies', false)
  .action((model: string, o: Record<string, string | boolean | undefined>) =>
    runWriting(async () => {
      const { createPackage, readSampleRequests } = await import('../lib/package/create');
      const { readFile } = await import('node:fs/promises');
      const pack = async (modelPath: string, source?: Parameters<typeof createPackage>[0]['source']) =>
        createPackage({
          modelPath,
          name: o.name as string,
          version: o.version as string,
          outDir: o.out as string,
          target: o.target as 'cpu' | 'gpu',
          gpuPlatform: o.gpuPlatform as 'sagemaker' | 'ecs' | undefined,
          description: o.description as string,
          samples: o.samples ? await readSampleRequests(o.samples as string) : undefined,
          labels: o.labels ? (JSON.parse(await readFile(o.labels as string, 'utf8')) as string[]) : undefined,
          preprocess:
            o.preprocess === undefined
              ? undefined
              : (await import('../lib/package/preprocess')).parsePreprocessOption(o.preprocess as string),
          force: o.force === true,
          source,
        });
      // Only a Keras file pays for loading tfjs and the converter.
      const { isKerasFile } = await import('../lib/convert/keras/model-format');
      const keras = await isKerasFile(model);
      if (keras) await loadQuietTfjs();
      const manifest = keras
        ? await (
            await import('../lib/convert/keras-for-packaging')
          ).withConvertedKeras(model, { configPath: o.config as string | undefined }, async (onnxPath, source, report) => {
            console.log(
              `converted ${model} (Keras ${source.kerasVersion ?? 'version not recorded'}) to ONNX: ${report.layers.length} layers, max |diff| against tfjs ${report.maxAbsDiff.toExponential(2)}`,
            );
            return pack(onnxPath, source);
          })
        : await pack(model);
      const io = (list: typeof manifest.inputs) => list.map((t) => `${t.name} ${t.datatype}[${t.shape.join(',')}]`).join(', ');
      console.log(`packaged ${manifest.name}@${manifest.version} into ${o.out as string}`);
      console.log(`  inputs:  ${io(manifest.inputs)}`);
      console.log(`  outputs: ${io(manifest.outputs)}`);
      console.log(`  model:   ${manifest.model.bytes} bytes, sha256 ${manifest.model.sha256}`);
      console.log(`  samples: ${manifest.samples.length} golden sample(s) recorded`);
    }),
  );

/** --trust / --trust-kms: the keys a package must be signed by (lib/trust). */
function trustOptions(command: Command, what: string): Command {
  return command
    .option('--trust <public.pem...>', `${what} only packages signed by one of these public keys (modelship keygen, sign)`)
    .option('--trust-kms <key-arn...>', `${what} only packages signed by one of these AWS KMS keys (kms:Verify on each)`)
    .option('--kms-endpoint-url <url>', 'a KMS-compatible endpoint instead of AWS KMS');
}

interface TrustFlags {
  trust?: string[];
  trustKms?: string[];
  kmsEndpointUrl?: string;
  region?: string;
  profile?: string;
}

async function trustFrom(o: TrustFlags) {
  const { trustFromCli } = await import('../lib/trust/cli');
  return trustFromCli(o);
}

trustOptions(
  program
    .command('verify')
    .description(
      'check packages: manifest schema, model sha256, every golden sample re-run within tolerance, and with --trust the signature',
    )
    .argument('<dir...>', 'package directories'),
  'accept',
).action((dirs: string[], o: TrustFlags) =>
  run(async () => {
    const { verifyPackage } = await import('../lib/package/verify');
    const policy = await trustFrom(o);
    const { verifyPackageSignature } = await import('../lib/trust/verify-signature');
    for (const dir of dirs) {
      // The signature first: a package the policy refuses is not run at all.
      const signed = policy === undefined ? undefined : await verifyPackageSignature(dir, policy).catch((err: Error) => err);
      const report = signed instanceof Error ? undefined : await verifyPackage(dir);
      if (report?.ok) {
        const by = signed === undefined || signed instanceof Error ? '' : `, signed by ${signed.keySource} (${signed.files} files)`;
        console.log(
          `ok   ${dir}: ${report.manifest!.name}@${report.manifest!.version}, sha256 matches, ${report.samplesChecked} golden sample(s) reproduce${by}`,
        );
      } else {
        process.exitCode = 1;
        console.error(`FAIL ${dir}:`);
        for (const p of report?.problems ?? [(signed as Error).message]) console.error(`  - ${p}`);
      }
    }
  }),
);

program
  .command('keygen')
  .description('make a local key pair for signing packages: OUT.pem (private, mode 0600) and OUT.pub.pem (public)')
  .requiredOption('--out <prefix>', 'path prefix of the two files')
  .addOption(new Option('--type <type>', 'key type').choices(['ecdsa-p256', 'ed25519']).default('ecdsa-p256'))
  .option('--force', 'replace an existing key pair', false)
  .action((o: { out: string; type: string; force: boolean }) =>
    runWriting(async () => {
      const { runKeygen } = await import('../lib/trust/cli');
      await runKeygen(o);
    }),
  );

program
  .command('sign')
  .description('sign a package that verifies: writes signature.json, a DSSE envelope over the sha256 of every file')
  .argument('<dir>', 'package directory')
  .option('--key <private.pem>', 'an ECDSA P-256 or Ed25519 private key (modelship keygen)')
  .option('--kms-key-id <arn>', 'an AWS KMS ECC_NIST_P256 SIGN_VERIFY key (kms:Sign), by ARN, id or alias')
  .option('--kms-endpoint-url <url>', 'a KMS-compatible endpoint instead of AWS KMS')
  .option('--region <region>', 'AWS region of the KMS key (default: the standard chain)')
  .option('--profile <name>', 'a named profile from the shared AWS config files')
  .action((dir: string, o: { key?: string; kmsKeyId?: string; kmsEndpointUrl?: string; region?: string; profile?: string }) =>
    runWriting(async () => {
      const { runSign } = await import('../lib/trust/cli');
      await runSign(dir, o);
    }),
  );

program
  .command('convert')
  .description(
    'convert a Keras model (.keras, .h5, or .weights.h5 with --config) or a tfjs model.json to ONNX, checked against a tfjs twin of the model',
  )
  .argument('<model>', 'the model file; its format is read from its bytes, not its extension')
  .requiredOption('--out <file>', 'the .onnx file to write')
  .option('--config <file>', 'for a .weights.h5: the model config JSON (model.to_json(), or config.json from a .keras file)')
  .option('--check-samples <n>', 'random inputs compared between tfjs and onnxruntime', integer, 32)
  .action((model: string, o: { out: string; config?: string; checkSamples: number }) =>
    runWriting(async () => {
      await loadQuietTfjs();
      const { convertModelFile } = await import('../lib/convert/convert-model-file');
      const result = await convertModelFile(model, o.out, { configPath: o.config, checkSamples: o.checkSamples });
      const from =
        result.source.format === 'keras'
          ? `Keras ${result.source.kerasVersion ?? '(version not recorded)'} ${result.source.container === 'keras' ? '.keras' : result.source.container === 'h5' ? '.h5' : '.weights.h5'}`
          : 'tfjs model.json';
      console.log(`converted ${result.layers.length} layers (${[...new Set(result.layers)].join(', ')}) from ${from} to ${o.out}`);
      const io = (list: typeof result.inputs) =>
        (list ?? []).map((t) => `${t.name} ${t.datatype}[${t.shape.map((d) => d ?? -1).join(',')}]`).join(', ');
      if (result.inputs) console.log(`  inputs:  ${io(result.inputs)}\n  outputs: ${io(result.outputs)}`);
      console.log(`  checked ${result.samples} inputs against tfjs: max |diff| ${result.maxAbsDiff.toExponential(2)}`);
    }),
  );

trustOptions(
  program
    .command('serve')
    .description('serve packages locally over the Open Inference Protocol v2, with API-key, JWT or SigV4 auth and usage-plan limits')
    .argument('<dir...>', 'package directories')
    .option('--port <port>', 'port to listen on', integer, 8080)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--config <file>', 'server config: usage plans, API keys, JWT, SigV4 access keys (default: a generated dev key)')
    .option('--quiet', 'no access log', false),
  'serve',
).action((dirs: string[], o: TrustFlags & { port: number; host: string; config?: string; quiet: boolean }) =>
  run(async () => {
    const { startServer } = await import('../lib/local/serve');
    const { printBanner } = await import('../lib/local/banner');
    // Only with --trust: the trust module stays out of a plain serve's start.
    const trust = o.trust !== undefined || o.trustKms !== undefined ? await trustFrom(o) : undefined;
    const running = await startServer({
      trust,
      dirs,
      port: o.port,
      host: o.host,
      configPath: o.config,
      onRequest: o.quiet
        ? undefined
        : (l) => console.log(`${l.method} ${l.path} ${l.status} ${l.durationMs.toFixed(1)}ms ${l.principal ?? '-'}`),
    });
    printBanner(running, dirs);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`${signal}: finishing in-flight requests, then stopping`);
      void running.close().then(() => process.exit(0));
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  }),
);

program
  .command('triton')
  .description(
    'write a Triton model repository (config.pbtxt + model) from a package, and optionally a deterministic SageMaker model.tar.gz',
  )
  .argument('<dir>', 'package directory')
  .requiredOption('--out <dir>', 'model repository to write <name>/config.pbtxt and <name>/1/model.onnx into')
  .option('--max-batch-size <n>', 'largest dynamic batch, when every tensor has a dynamic first dimension (0: no batching)', integer, 64)
  .option(
    '--preferred-batch-sizes <list>',
    'comma-separated batch sizes the batcher prefers (default: 8,16,32,64 up to --max-batch-size)',
    (v: string) => v.split(',').map((s) => integer(s.trim())),
  )
  .option('--queue-delay-us <n>', 'longest wait in the batching queue, in microseconds', integer, 100)
  .option('--instances <n>', 'model instances per GPU (or in all, with --kind cpu)', integer, 1)
  .addOption(new Option('--kind <kind>', 'where instances run').choices(['gpu', 'cpu']).default('gpu'))
  .option('--tar <file>', 'also write the SageMaker model.tar.gz here')
  .option('--force', 'replace <out>/<name> when it exists', false)
  .action(
    (
      dir: string,
      o: {
        out: string;
        maxBatchSize: number;
        preferredBatchSizes?: number[];
        queueDelayUs: number;
        instances: number;
        kind: 'gpu' | 'cpu';
        tar?: string;
        force: boolean;
      },
    ) =>
      runWriting(async () => {
        const { buildSageMakerArtifact, writeTritonRepository } = await import('../lib/triton');
        const options = {
          maxBatchSize: o.maxBatchSize,
          preferredBatchSizes: o.preferredBatchSizes,
          maxQueueDelayMicroseconds: o.queueDelayUs,
          instanceCount: o.instances,
          instanceKind: o.kind === 'cpu' ? ('KIND_CPU' as const) : ('KIND_GPU' as const),
        };
        try {
          const repo = await writeTritonRepository(dir, o.out, { ...options, overwrite: o.force });
          const c = repo.config;
          const batching = c.dynamicBatching
            ? `max_batch_size ${c.maxBatchSize}, preferred [${c.dynamicBatching.preferredBatchSizes.join(',')}], queue delay ${c.dynamicBatching.maxQueueDelayMicroseconds}us`
            : 'no batching (max_batch_size 0)';
          console.log(`wrote Triton repository ${repo.modelDir}: ${batching}, ${c.instanceGroup.count} x ${c.instanceGroup.kind}`);
          console.log(`  ${repo.configPath}`);
          console.log(`  ${repo.modelPath}`);
          for (const f of repo.warmupFiles) console.log(`  ${f}`);
          if (o.tar) {
            const artifact = await buildSageMakerArtifact(dir, o.tar, options);
            console.log(`wrote ${artifact.file}: ${artifact.bytes} bytes, sha256 ${artifact.sha256}`);
          }
        } catch (err) {
          // Bad option values and an existing output are the user's to fix: one line, not a stack.
          const e = err as NodeJS.ErrnoException;
          const { OutputExistsError, UsageError } = await import('../lib/errors');
          if (e instanceof OutputExistsError) throw new OutputExistsError(`${e.message} (--force replaces it)`);
          if (e instanceof RangeError || e instanceof TypeError || e.code === 'EINVAL') throw new UsageError(e.message);
          throw err;
        }
      }),
  );

/** Options every registry command takes: where the registry is and how to reach S3. */
function registryOptions(command: Command): Command {
  return s3Options(command.requiredOption('--registry <uri>', 'the registry: s3://bucket or s3://bucket/prefix'));
}

/** How to reach S3, for every command that talks to a registry. */
function s3Options(command: Command): Command {
  return command
    .option('--endpoint-url <url>', 'an S3-compatible endpoint instead of AWS S3 (path-style addressing)')
    .option('--region <region>', 'AWS region (default: the standard chain, AWS_REGION or the profile)')
    .option('--profile <name>', 'a named profile from the shared AWS config files');
}

registryOptions(
  program
    .command('publish')
    .description('verify a package and publish it to an S3 registry as a deterministic tarball with its sha256 (versions are immutable)')
    .argument('<dir>', 'package directory')
    .option('--part-size-mib <n>', 'multipart part size in MiB (at least 5)', integer)
    .option('--multipart-threshold-mib <n>', 'tarballs this large or larger go up as multipart uploads', integer),
).action(
  (
    dir: string,
    o: { registry: string; endpointUrl?: string; region?: string; profile?: string; partSizeMib?: number; multipartThresholdMib?: number },
  ) =>
    run(async () => {
      const { runPublish } = await import('../lib/registry/cli');
      await runPublish(dir, o);
    }),
);

registryOptions(
  trustOptions(
    program
      .command('pull')
      .description('download NAME@VERSION (or NAME@latest) from an S3 registry; its sha256 is checked before anything is written')
      .argument('<ref>', 'NAME@VERSION, NAME@latest, or NAME (latest)')
      .requiredOption('--out <dir>', 'directory to put the package in (must be missing or empty); written atomically')
      .option('--sha256 <hex>', 'the tarball sha256 to insist on (default: the one the registry index records)')
      .option('--no-samples', 'skip re-running the golden samples (the model sha256 is still checked)'),
    'install',
  ),
).action(
  (
    ref: string,
    o: TrustFlags & {
      registry: string;
      endpointUrl?: string;
      region?: string;
      profile?: string;
      out: string;
      sha256?: string;
      samples: boolean;
    },
  ) =>
    runWriting(async () => {
      const { runPull } = await import('../lib/registry/cli');
      await runPull(ref, { ...o, trust: await trustFrom(o) });
    }),
);

registryOptions(
  program
    .command('list')
    .description('list the models and versions an S3 registry holds')
    .argument('[name]', 'only this model')
    .option('--json', 'print JSON instead of a table', false),
).action((name: string | undefined, o: { registry: string; endpointUrl?: string; region?: string; profile?: string; json: boolean }) =>
  run(async () => {
    const { runList } = await import('../lib/registry/cli');
    await runList(name, o);
  }),
);

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive number`);
  return n;
}

/** Registry options for a base given as NAME@VERSION; without --registry the base is a package directory. */
function optionalRegistry(command: Command): Command {
  return s3Options(command.option('--registry <uri>', 'pull the base NAME@VERSION from this registry: s3://bucket or s3://bucket/prefix'));
}

optionalRegistry(
  program
    .command('finetune')
    .description('train a published model further on labelled data, or transfer it to a new task with a new head, and package the result')
    .argument('<base>', 'the base package directory, or NAME@VERSION with --registry')
    .requiredOption('--data <file>', 'training examples: JSON Lines ({"input": [...], "label": 3}) or CSV with a header')
    .requiredOption('--eval <file>', 'held-out examples in the same form, for the metric, early stopping and golden samples')
    .requiredOption('--name <name>', 'DNS-safe name of the new package')
    .requiredOption('--version <version>', 'semantic version of the new package')
    .requiredOption('--out <dir>', 'directory to write the new package to')
    .option('--train-last <k>', 'train only the last K weighted layers', integer)
    .option('--freeze-until <layer>', 'freeze every weighted layer up to and including this one')
    .option('--new-head <classes>', 'transfer: a new Dense + softmax of CLASSES outputs on the penultimate features', integer)
    .option('--labels <file>', 'with --new-head: JSON array of the new class names')
    .option('--epochs <n>', 'training epochs', integer, 10)
    .option('--batch-size <n>', 'examples per step', integer, 32)
    .option('--learning-rate <lr>', 'Adam learning rate (default: 1e-4 when every layer trains, 1e-3 otherwise)', positiveNumber)
    .option('--seed <n>', 'seeds the shuffles and any new weights', integer, 42)
    .option('--early-stop', 'stop when the eval loss has not fallen for --patience epochs, keeping the best epoch', false)
    .option('--patience <n>', 'epochs without improvement before --early-stop stops', integer, 3)
    .option('--from-scratch', 'baseline: the same architecture with fresh weights, every layer trained', false)
    .option('--label-column <name>', 'the CSV column that holds the label', 'label')
    .option('--force', 'replace a package already in --out, once the new one is complete and verifies', false),
).action((base: string, o: Record<string, unknown>) =>
  runWriting(async () => {
    await loadQuietTfjs();
    const { runFinetune } = await import('../lib/reuse/cli');
    await runFinetune(base, o as unknown as Parameters<typeof runFinetune>[1]);
  }),
);

optionalRegistry(
  program
    .command('extract')
    .description("package a model's intermediate tensor (its features) as a model of its own, with golden samples and lineage")
    .argument('<base>', 'the base package directory, or NAME@VERSION with --registry')
    .requiredOption('--output <tensor|layer>', 'the tensor to expose, or the layer whose last tensor it is')
    .requiredOption('--name <name>', 'DNS-safe name of the new package')
    .requiredOption('--version <version>', 'semantic version of the new package')
    .requiredOption('--out <dir>', 'directory to write the new package to')
    .option('--force', 'replace a package already in --out, once the new one is complete and verifies', false),
).action((base: string, o: Record<string, unknown>) =>
  runWriting(async () => {
    await loadQuietTfjs();
    const { runExtract } = await import('../lib/reuse/cli');
    await runExtract(base, o as unknown as Parameters<typeof runExtract>[1]);
  }),
);

/** What every compression command takes: where the new version goes, its identity, and the gates. */
function compressionOptions(command: Command): Command {
  return optionalRegistry(
    command
      .argument('<base>', 'the base package directory, or NAME@VERSION with --registry')
      .requiredOption('--out <dir>', 'directory to write the new package version to')
      .option('--name <name>', "DNS-safe name of the new package (default: the base's)")
      .option('--version <version>', "its semantic version (default: the base's with the method as a prerelease tag, such as 1.0.0-int8)")
      .option('--eval <file>', 'labelled held-out examples (JSON Lines or CSV): accuracy is reported and gated')
      .option(
        '--max-accuracy-drop <points>',
        'refuse a model that loses more accuracy on --eval than this, in percentage points',
        nonNegativeNumber,
        1.0,
      )
      .option(
        '--max-golden-deviation <d>',
        "refuse a model whose answers to the base's golden samples differ by more than this",
        nonNegativeNumber,
      )
      .option('--label-column <name>', 'the CSV column that holds the label', 'label')
      .option('--force', 'replace a package already in --out, once the new one is complete and verifies', false),
  );
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`"${value}" is not a non-negative number`);
  return n;
}

compressionOptions(
  program
    .command('optimize')
    .description("apply onnxruntime's offline graph optimizations and package the result as a new version")
    .addOption(
      new Option('--level <level>', 'basic keeps standard ONNX ops (portable); extended adds onnxruntime fused ops')
        .choices(['basic', 'extended'])
        .default('basic'),
    ),
).action((base: string, o: Record<string, unknown>) =>
  runWriting(async () => {
    const { runOptimize } = await import('../lib/compress/cli');
    await runOptimize(base, o as unknown as Parameters<typeof runOptimize>[1]);
  }),
);

compressionOptions(
  program
    .command('quantize')
    .description('quantize a model (int8 weights, int8 dynamic, or fp16 weights) and package it as a new version')
    .addOption(
      new Option('--mode <mode>', 'int8-weights, int8-dynamic or fp16')
        .choices(['int8-weights', 'int8-dynamic', 'fp16'])
        .makeOptionMandatory(),
    )
    .option('--per-tensor', 'one scale per weight tensor instead of one per output channel', false)
    .option('--exclude <node...>', 'nodes to leave in float'),
).action((base: string, o: Record<string, unknown>) =>
  runWriting(async () => {
    const { runQuantize } = await import('../lib/compress/cli');
    await runQuantize(base, o as unknown as Parameters<typeof runQuantize>[1]);
  }),
);

/** The training options of prune and distill; --data is what they train on. */
function retrainOptions(command: Command, epochs: number, learningRate: number): Command {
  return command
    .requiredOption('--data <file>', 'training examples: JSON Lines or CSV, as for finetune')
    .option('--epochs <n>', 'training epochs', integer, epochs)
    .option('--batch-size <n>', 'examples per step', integer, 32)
    .option('--learning-rate <lr>', 'Adam learning rate', positiveNumber, learningRate)
    .option('--seed <n>', 'seeds the shuffles and any new weights', integer, 42);
}

compressionOptions(
  retrainOptions(
    program
      .command('prune')
      .description('remove the lowest-norm units and filters (structured pruning), fine-tune briefly, and package the result')
      .requiredOption(
        '--sparsity <s>',
        'the fraction of units and filters to remove from each prunable layer, such as 0.5',
        positiveNumber,
      ),
    3,
    1e-3,
  ),
).action((base: string, o: Record<string, unknown>) =>
  runWriting(async () => {
    await loadQuietTfjs();
    const { runPrune } = await import('../lib/compress/cli');
    await runPrune(base, o as unknown as Parameters<typeof runPrune>[1]);
  }),
);

compressionOptions(
  retrainOptions(
    program
      .command('distill')
      .description(
        "train a small student on the teacher's softened outputs (labels not needed) and package it with the teacher's signature",
      )
      .requiredOption('--student <spec>', 'the student: dense:32, dense:64,32, conv:8,16;dense:32 or pool:2;dense:48')
      .option('--temperature <t>', "softens the teacher's and the student's distributions", positiveNumber, 2),
    10,
    3e-3,
  ),
).action((base: string, o: Record<string, unknown>) =>
  runWriting(async () => {
    await loadQuietTfjs();
    const { runDistill } = await import('../lib/compress/cli');
    await runDistill(base, o as unknown as Parameters<typeof runDistill>[1]);
  }),
);

program
  .command('invoke')
  .description('call a model over the Open Inference Protocol v2 (API key, bearer token or SigV4) and print the response JSON')
  .argument('[target]', 'a URL such as http://127.0.0.1:8080/v2/models/mnist-mlp, or a model name with --url')
  .option('--url <url>', 'server base URL, such as http://127.0.0.1:8080 or an API Gateway stage URL (default: MODELSHIP_URL)')
  .option('--model <name>', 'model name')
  .option('--model-version <version>', 'model version (default: the latest the server has)')
  .option('--data <request>', 'v2 infer request: @file.json, - for stdin, or the JSON itself')
  .option('--api-key <key>', 'API key for x-api-key (default: MODELSHIP_API_KEY)')
  .option('--bearer <token>', 'bearer token, a JWT (default: MODELSHIP_BEARER_TOKEN)')
  .option('--sigv4', 'sign with AWS SigV4 for execute-api, credentials from the standard AWS chain', false)
  .option('--region <region>', "for --sigv4: the API's region (default: AWS_REGION)")
  .option('--profile <name>', 'for --sigv4: a named AWS profile')
  .option('--binary', 'send inputs and receive outputs with the binary tensor extension', false)
  .option('--metadata', 'print the model metadata instead of running it', false)
  .option('--timeout-ms <n>', 'per-attempt timeout', integer, 30000)
  .option('--retries <n>', 'retries on 429, 5xx and network errors', integer, 3)
  .action((target: string | undefined, o: Record<string, unknown>) =>
    run(async () => {
      const { runInvoke } = await import('../lib/client/cli');
      await runInvoke({ target, ...o });
    }),
  );

void program.parseAsync(process.argv);
