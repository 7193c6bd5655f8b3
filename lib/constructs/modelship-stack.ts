/**
 * The example stack `cdk deploy` creates: every cpu package given, each on its own LambdaModel, behind
 * one ModelApi.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { ApiAuth } from './api-auth';
import { LambdaModel } from './lambda-model';
import { ModelApi } from './model-api';
import type { ModelPackage } from './model-package';

/** Properties of a {@link ModelshipStack}. */
export interface ModelshipStackProps extends StackProps {
  /** The cpu packages to serve, one version per model name. */
  readonly packages: readonly ModelPackage[];
  /**
   * How callers authenticate.
   * @default ApiAuth.apiKey()
   */
  readonly auth?: ApiAuth;
  /**
   * Architecture of every model's function.
   * @default lambda.Architecture.X86_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * The hardened profile on the API and every model (see Hardening): what AWS Control Tower's proactive
   * controls require. `cdk synth -c hardened=true` turns it on for bin/app.ts.
   * @default false
   */
  readonly hardened?: boolean;
  /**
   * A topic every model's alarms notify.
   * @default - none; with `hardened`, the profile's encrypted topic
   */
  readonly alarmTopic?: sns.ITopic;
}

/** Serves packages on Lambda behind one authenticated, throttled API; its URL is the output `ApiUrl`. */
export class ModelshipStack extends Stack {
  readonly api: ModelApi;
  readonly models: readonly LambdaModel[];

  constructor(scope: Construct, id: string, props: ModelshipStackProps) {
    super(scope, id, props);
    const seen = new Map<string, ModelPackage>();
    for (const pkg of props.packages) {
      const other = seen.get(pkg.name);
      if (other) {
        throw new Error(
          `two packages are named ${pkg.name} (${other.location} ${other.version}, ${pkg.location} ${pkg.version}); ` +
            'a stack serves one version of each model: replace the package to roll out a new version as a canary',
        );
      }
      seen.set(pkg.name, pkg);
    }
    this.api = new ModelApi(this, 'Api', { auth: props.auth, hardened: props.hardened });
    this.models = props.packages.map((pkg) => {
      const model = new LambdaModel(this, pkg.name, {
        modelPackage: pkg,
        architecture: props.architecture,
        hardened: props.hardened,
        alarmTopic: props.alarmTopic,
      });
      this.api.addModel(model);
      return model;
    });
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL: append v2/models/<name>/infer' });
  }
}
