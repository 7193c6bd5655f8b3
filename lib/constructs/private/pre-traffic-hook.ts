/**
 * The canary's pre-traffic hook: a function that sends the package's golden samples to the new version
 * and tells CodeDeploy whether its answers match. Its code is lambda/pre-traffic.ts; the golden samples
 * ship inside its own asset, so that the version under test never vouches for itself. A registry package
 * has no samples at synth: the hook fetches the package itself at init, checked against the same sha256
 * with its own grant on that one object, and reads the samples from there.
 */
import { Duration, type Size } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ModelPackage } from '../model-package';
import type { PackageTrust } from '../package-trust';
import { addEnvironment, handlerFunction } from './handler-function';
import type { Profile } from './profile';
import { registryPackageEnvironment } from './registry-package';

/** Where the golden samples sit in the hook's asset. */
export const GOLDEN_DIR = 'golden';
/** Lambda's limit on the init phase of an on-demand function: the first invoke of a new version may include it. */
const INIT_ALLOWANCE = Duration.seconds(10);
const MARGIN = Duration.seconds(5);
const MAX_HOOK_TIMEOUT_SECONDS = 900;

export interface PreTrafficHookProps {
  readonly modelPackage: ModelPackage;
  /** The version under test. */
  readonly target: lambda.IVersion;
  /** The target's own timeout. */
  readonly targetTimeout: Duration;
  readonly logRetention: logs.RetentionDays;
  /** /tmp of the hook when it fetches a registry package. */
  readonly ephemeralStorageSize?: Size;
  /** The keys the golden samples must be signed by. */
  readonly trust?: PackageTrust;
  readonly profile?: Profile;
}

export class PreTrafficHook extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.IRole;
  /** How long one invoke of the target may take before the hook reports Failed. */
  readonly invokeTimeout: Duration;

  constructor(scope: Construct, id: string, props: PreTrafficHookProps) {
    super(scope, id);
    const pkg = props.modelPackage;
    const registry = pkg.registrySource;
    this.invokeTimeout = Duration.seconds(props.targetTimeout.toSeconds() + INIT_ALLOWANCE.toSeconds() + MARGIN.toSeconds());
    // One invoke for readiness plus one per sample, each within invokeTimeout, and time to report. With
    // the sample count unknown at synth, Lambda's maximum: the hook reports before its time runs out.
    const samples = pkg.tryGetManifest()?.samples.length;
    const needed = samples === undefined ? MAX_HOOK_TIMEOUT_SECONDS : (samples + 1) * this.invokeTimeout.toSeconds() + 30;
    const made = handlerFunction(this, {
      handler: 'pre-traffic',
      ids: { logGroup: 'LogGroup', role: 'ServiceRole', function: 'Resource' },
      roleDescription: `Pre-traffic hook of ${pkg.name}: invokes the new version, reports to CodeDeploy, writes its own log group`,
      logRetention: props.logRetention,
      profile: props.profile,
      // No native code: arm64 is the cheaper architecture, whatever the model's.
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(Math.min(MAX_HOOK_TIMEOUT_SECONDS, needed)),
      description: `CodeDeploy pre-traffic hook: golden samples of ${pkg.name} ${pkg.version} against the new version`,
      // The package is downloaded to /tmp: as much room as the function under test has.
      ephemeralStorageSize: registry === undefined ? undefined : props.ephemeralStorageSize,
      environment: {
        TARGET_FUNCTION_ARN: props.target.functionArn,
        ...(registry === undefined ? { GOLDEN_DIR: `/var/task/${GOLDEN_DIR}` } : registryPackageEnvironment(pkg, registry)),
        INVOKE_TIMEOUT_MS: String(this.invokeTimeout.toMilliseconds()),
        POWERTOOLS_SERVICE_NAME: `${pkg.name}-pre-traffic`,
      },
      bundling: {
        // The AWS SDK is bundled, so the hook runs against the client version it was tested with.
        externalModules: [],
        copy: registry === undefined ? { sourceDir: pkg.directory, files: pkg.goldenFiles, into: GOLDEN_DIR } : undefined,
      },
    });
    this.function = made.function;
    this.role = made.role;
    if (props.trust !== undefined) addEnvironment(this.function, props.trust.bind(this.role).environment);
    // The hook's own grant on the one tarball object it fetches, and the registry key's decrypt when SSE-KMS.
    if (registry !== undefined) registry.registry.grantRead(this.role, pkg.name, pkg.version);
    props.target.grantInvoke(this.function);
  }
}
