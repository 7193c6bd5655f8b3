/**
 * A stack of the consumer's own that deploys one published model version from a registry that another
 * stack (or account) owns. Everything comes from 'modelship/constructs', as in any app that installs
 * modelship from npm.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { LambdaModel, ModelApi, ModelPackage, ModelRegistry } from 'modelship/constructs';

export interface ConsumerStackProps extends StackProps {
  /** The registry's bucket, as its owner created it. */
  readonly registryBucket: string;
  /** The registry's key prefix. */
  readonly registryPrefix?: string;
  readonly modelName: string;
  readonly modelVersion: string;
  /** The tarball's sha256, as `modelship publish` printed it (or `modelship list` shows it). */
  readonly tarballSha256: string;
  /** The model file's size, to size memory, timeout and /tmp; 0 or absent for the defaults. */
  readonly modelBytes?: number;
}

export class ConsumerStack extends Stack {
  readonly model: LambdaModel;
  readonly api: ModelApi;

  constructor(scope: Construct, id: string, props: ConsumerStackProps) {
    super(scope, id, props);
    const registry = ModelRegistry.fromBucketName(this, 'Registry', props.registryBucket, { prefix: props.registryPrefix });
    const modelPackage = ModelPackage.fromRegistry(registry, props.modelName, props.modelVersion, {
      tarballSha256: props.tarballSha256,
      modelBytes: props.modelBytes ? props.modelBytes : undefined,
    });
    this.model = new LambdaModel(this, 'Model', { modelPackage });
    this.api = new ModelApi(this, 'Api');
    this.api.addModel(this.model);
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: `Base URL: POST v2/models/${props.modelName}/infer with an x-api-key`,
    });
  }
}
