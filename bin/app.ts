/**
 * The CDK app: deploys every package in models/ (or the directory in context `modelship:modelsDir`) as
 * one stack, `Modelship`, behind one API. cpu packages run on Lambda; gpu packages run on SageMaker
 * (Triton) by default, or on ECS GPU instances when the manifest's `gpu.platform` is `ecs`. Context
 * `gpuPlatform=sagemaker|ecs` (`cdk deploy -c gpuPlatform=ecs`) overrides every manifest.
 * Env-agnostic, so `cdk synth` needs no AWS credentials; cdk-nag's AwsSolutions checks run at every synth.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Annotations, App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EcsGpuModel } from '../lib/constructs/ecs-gpu-model';
import { ModelPackage } from '../lib/constructs/model-package';
import { ModelshipStack } from '../lib/constructs/modelship-stack';
import { SageMakerModel } from '../lib/constructs/sagemaker-model';
import { MANIFEST_FILE } from '../lib/package/manifest';

type GpuPlatform = 'sagemaker' | 'ecs';
const GPU_PLATFORMS: readonly GpuPlatform[] = ['sagemaker', 'ecs'];

const app = new App();
const modelsDir = resolve(String(app.node.tryGetContext('modelship:modelsDir') ?? 'models'));
const packages = existsSync(modelsDir)
  ? readdirSync(modelsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(modelsDir, d.name, MANIFEST_FILE)))
      .map((d) => ModelPackage.fromDirectory(join(modelsDir, d.name)))
  : [];
const cpu = packages.filter((p) => p.manifest.target === 'cpu');
const gpu = packages.filter((p) => p.manifest.target === 'gpu');

const platformContext = app.node.tryGetContext('gpuPlatform') as unknown;
if (platformContext !== undefined && !GPU_PLATFORMS.includes(platformContext as GpuPlatform)) {
  throw new Error(`context gpuPlatform must be ${GPU_PLATFORMS.join(' or ')}; got ${JSON.stringify(platformContext)}`);
}
const platformOf = (p: ModelPackage): GpuPlatform =>
  (platformContext as GpuPlatform | undefined) ?? p.manifest.gpu?.platform ?? 'sagemaker';
const names = new Map<string, ModelPackage>();
for (const p of packages) {
  const other = names.get(p.name);
  if (other)
    throw new Error(`two packages are named ${p.name} (${other.directory}, ${p.directory}); a stack serves one version of each model`);
  names.set(p.name, p);
}

// `cdk synth -c hardened=true`: the profile AWS Control Tower's proactive controls pass (lib/constructs/hardening.ts).
const hardenedContext = app.node.tryGetContext('hardened') as unknown;
if (hardenedContext !== undefined && !['true', 'false', true, false].includes(hardenedContext as string | boolean)) {
  throw new Error(`context hardened must be true or false; got ${JSON.stringify(hardenedContext)}`);
}
const hardened = hardenedContext === true || hardenedContext === 'true';

const where = [
  ...cpu.map((p) => `${p.name} ${p.version} on Lambda`),
  ...gpu.map((p) => `${p.name} ${p.version} on ${platformOf(p) === 'ecs' ? 'ECS' : 'SageMaker'}`),
];
const stack = new ModelshipStack(app, 'Modelship', {
  packages: cpu,
  hardened,
  description: `modelship: ${where.join(', ') || 'no models'} behind API Gateway`,
});
for (const pkg of gpu) {
  if (platformOf(pkg) === 'ecs') stack.api.addModel(new EcsGpuModel(stack, pkg.name, { modelPackage: pkg, hardened }));
  else stack.api.addModel(new SageMakerModel(stack, pkg.name, { modelPackage: pkg, hardened }));
}
if (packages.length === 0) {
  Annotations.of(stack).addWarningV2('modelship:no-models', `no packages in ${modelsDir}: the API has only its health routes`);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
