/**
 * The CDK app: deploys every cpu-target package in models/ (or the directory in context
 * `modelship:modelsDir`) as one stack, `Modelship`. Env-agnostic, so `cdk synth` needs no AWS
 * credentials; cdk-nag's AwsSolutions checks run at every synth.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Annotations, App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ModelPackage } from '../lib/constructs/model-package';
import { ModelshipStack } from '../lib/constructs/modelship-stack';
import { MANIFEST_FILE } from '../lib/package/manifest';

const app = new App();
const modelsDir = resolve(String(app.node.tryGetContext('modelship:modelsDir') ?? 'models'));
const packages = existsSync(modelsDir)
  ? readdirSync(modelsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(modelsDir, d.name, MANIFEST_FILE)))
    .map((d) => ModelPackage.fromDirectory(join(modelsDir, d.name)))
  : [];
const cpu = packages.filter((p) => p.manifest.target === 'cpu');

const stack = new ModelshipStack(app, 'Modelship', {
  packages: cpu,
  description: `modelship: ${cpu.map((p) => `${p.name} ${p.version}`).join(', ') || 'no models'} on Lambda behind API Gateway`,
});
if (cpu.length === 0) {
  Annotations.of(stack).addWarningV2('modelship:no-models', `no cpu packages in ${modelsDir}: the API has only its health routes`);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
