/**
 * A synthesized LambdaModel laid out as Lambda lays it out: the function asset at <root>/var/task, the
 * onnxruntime layer under <root>/opt, in a temp dir from which no project node_modules can be reached,
 * run by a clean `node` with NODE_PATH as Lambda sets it. The artifact test (test/artifact) checks the
 * layout; the bench (p3l-lambda-cold.ts, cold-start-sizes.ts) times it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { LambdaModel, type LambdaModelProps } from '../lib/constructs/lambda-model';
import { ModelPackage } from '../lib/constructs/model-package';

export interface LambdaLayout {
  /** Temp root standing in for Lambda's filesystem: <root>/var/task, <root>/opt. */
  readonly root: string;
  readonly task: string;
  /** The function's environment as the template sets it, /var/task moved under the root. */
  readonly environment: Record<string, string>;
  readonly memorySize: number;
  remove(): void;
}

interface CfnFunction {
  readonly Properties: { readonly Code: { readonly S3Key: string }; readonly Environment?: { Variables: Record<string, string> } };
}

/** Where `cdk.out` holds the unzipped asset that `code` names. */
export function assetDir(outdir: string, code: { S3Key: string }): string {
  return join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
}

/** Lambda's NODE_PATH for Node.js 24, under `root`. */
export function lambdaNodePath(root: string): string {
  return ['/opt/nodejs/node24/node_modules', '/opt/nodejs/node_modules', '/var/runtime/node_modules', '/var/runtime', '/var/task']
    .map((p) => join(root, p))
    .join(':');
}

/** A template's function variables, with /var/task moved to `task`. */
export function environmentUnder(variables: Readonly<Record<string, string>>, task: string): Record<string, string> {
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, v.replace(/^\/var\/task/, task)]));
}

/** Lays out the assets of a synthesized function and its one layer under a fresh temp root. */
export function layOut(outdir: string, template: { Resources: Record<string, { Type: string }> }): LambdaLayout {
  const resources = Object.values(template.Resources);
  const fn = resources.find(
    (r) => r.Type === 'AWS::Lambda::Function' && (r as unknown as CfnFunction).Properties.Environment?.Variables.MODEL_DIR,
  ) as unknown as CfnFunction & { Properties: { MemorySize: number } };
  const layer = resources.find((r) => r.Type === 'AWS::Lambda::LayerVersion') as unknown as { Properties: { Content: { S3Key: string } } };
  const root = mkdtempSync(join(tmpdir(), 'modelship-lambda-'));
  const task = join(root, 'var', 'task');
  // Lambda unpacks the function zip into /var/task and each layer zip into /opt.
  cpSync(assetDir(outdir, fn.Properties.Code), task, { recursive: true });
  cpSync(assetDir(outdir, layer.Properties.Content), join(root, 'opt'), { recursive: true });
  return {
    root,
    task,
    environment: environmentUnder(fn.Properties.Environment?.Variables ?? {}, task),
    memorySize: fn.Properties.MemorySize,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The environment Lambda gives a function process, for `layout`. */
export function lambdaProcessEnv(
  layout: Pick<LambdaLayout, 'root' | 'task' | 'environment'>,
  functionName: string,
): Record<string, string> {
  return {
    PATH: join(process.execPath, '..'),
    HOME: layout.root,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    NODE_PATH: lambdaNodePath(layout.root),
    LAMBDA_TASK_ROOT: layout.task,
    LAMBDA_RUNTIME_DIR: join(layout.root, 'var', 'runtime'),
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_REGION: 'eu-west-1',
    ...layout.environment,
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
}

/** Synthesizes one LambdaModel for `packageDir` and lays it out; `outdir` is the cdk.out to write. */
export function synthLambdaLayout(packageDir: string, outdir: string, props: Partial<LambdaModelProps> = {}): LambdaLayout {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({ outdir, context: cdkJson.context ?? {} });
  const stack = new Stack(app, 'BenchLambda');
  new LambdaModel(stack, 'Model', { modelPackage: ModelPackage.fromDirectory(packageDir), ...props });
  const assembly = app.synth();
  return layOut(outdir, assembly.getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string }> });
}
