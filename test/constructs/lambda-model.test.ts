/**
 * LambdaModel: every prop and every default, as fine-grained template assertions. One app for the file:
 * each stack bundles once, and stacks with the same package share the bundle.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LambdaModel } from '../../lib/constructs/lambda-model';
import { ModelPackage } from '../../lib/constructs/model-package';
import { makeTinyMlpPackage, tempDir } from '../helpers/fixtures';
import { projectContext, testApp, type TestApp } from './synth-helpers';

let t: TestApp;
let pkg: ModelPackage;
let defaults: { stack: Stack; model: LambdaModel; template: Template; caller: iam.Role };
let custom: { stack: Stack; model: LambdaModel; template: Template };
let ownRole: { model: LambdaModel; role: iam.Role; template: Template };
let shared: { a: LambdaModel; b: LambdaModel; template: Template };

/** The logical id of the only resource of `type` whose logical id contains (or matches) `part`. */
function logicalId(template: Template, type: string, part: string | RegExp = ''): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => (typeof part === 'string' ? id.includes(part) : part.test(id)));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** A stack in an app of its own, for props that must fail before anything is built. */
function throwawayStack(): Stack {
  return new Stack(new App({ context: projectContext() }), 'Throwaway');
}

beforeAll(async () => {
  // Every stack is built before the first synth: the app's tree cannot change after it.
  t = testApp();
  pkg = ModelPackage.fromDirectory((await makeTinyMlpPackage()).dir);

  const defaultsStack = t.stack('Defaults');
  const defaultsModel = new LambdaModel(defaultsStack, 'Model', { modelPackage: pkg });
  const caller = new iam.Role(defaultsStack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
  defaultsModel.grantInvoke(caller);

  const customStack = t.stack('Custom');
  const customModel = new LambdaModel(customStack, 'Model', {
    modelPackage: pkg,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 2048,
    timeout: Duration.seconds(20),
    reservedConcurrentExecutions: 10,
    provisionedConcurrentExecutions: 2,
    logRetention: logs.RetentionDays.ONE_WEEK,
    tracing: lambda.Tracing.ACTIVE,
    logLevel: 'DEBUG',
    serviceName: 'digits',
    metricsNamespace: 'acme/models',
    deploymentConfig: codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
    errorsAlarmThreshold: 3,
    latencyAlarmThreshold: Duration.seconds(2),
  });

  // A role and a 5%-then-15-minutes canary of one's own.
  const ownStack = t.stack('OwnRole');
  const role = new iam.Role(ownStack, 'MyRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const config = new codedeploy.LambdaDeploymentConfig(ownStack, 'FivePercent', {
    trafficRouting: codedeploy.TrafficRouting.timeBasedCanary({ interval: Duration.minutes(15), percentage: 5 }),
  });
  const ownModel = new LambdaModel(ownStack, 'Model', { modelPackage: pkg, role, deploymentConfig: config });

  const sharedStack = t.stack('Shared');
  const a = new LambdaModel(sharedStack, 'A', { modelPackage: pkg });
  const b = new LambdaModel(sharedStack, 'B', { modelPackage: pkg });

  defaults = { stack: defaultsStack, model: defaultsModel, template: Template.fromStack(defaultsStack), caller };
  custom = { stack: customStack, model: customModel, template: Template.fromStack(customStack) };
  ownRole = { model: ownModel, role, template: Template.fromStack(ownStack) };
  shared = { a, b, template: Template.fromStack(sharedStack) };
});

afterAll(() => t.cleanup());

describe('defaults', () => {
  test('the function: Node.js 24 on x86_64, the inference handler, the package at /var/task/model, Powertools settings', () => {
    defaults.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Architectures: ['x86_64'],
      Description: Match.stringLikeRegexp(`^tiny-mlp 1\\.0\\.0 \\(model sha256 ${pkg.manifest.model.sha256.slice(0, 12)}\\)`),
      Environment: {
        Variables: {
          MODEL_DIR: '/var/task/model',
          MODEL_ORT_THREADS: '1',
          POWERTOOLS_SERVICE_NAME: 'tiny-mlp',
          POWERTOOLS_METRICS_NAMESPACE: 'modelship',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      },
      Layers: [{ Ref: logicalId(defaults.template, 'AWS::Lambda::LayerVersion') }],
      LoggingConfig: { LogGroup: { Ref: logicalId(defaults.template, 'AWS::Logs::LogGroup', 'ModelLogGroup') } },
      TracingConfig: Match.absent(),
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  test('memory and timeout derived from the model size: 1024 MiB and 11 s for a tiny model', () => {
    expect(defaults.model.memorySize).toBe(1024);
    expect(defaults.model.timeout.toSeconds()).toBe(11);
    defaults.template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      MemorySize: 1024,
      Timeout: 11,
      Architectures: ['x86_64'],
    });
  });

  test('the onnxruntime layer: x86_64 binaries, for the Node.js runtimes, MIT', () => {
    defaults.template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    defaults.template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['x86_64'],
      CompatibleRuntimes: ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'],
      Description: Match.stringLikeRegexp('^onnxruntime-node \\d+\\.\\d+\\.\\d+ for linux/x64'),
      LicenseInfo: 'MIT',
    });
  });

  test('one version, retained for rollback, behind alias live with no provisioned concurrency', () => {
    defaults.template.resourceCountIs('AWS::Lambda::Version', 1);
    defaults.template.hasResource('AWS::Lambda::Version', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    defaults.template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionVersion: { 'Fn::GetAtt': [logicalId(defaults.template, 'AWS::Lambda::Version'), 'Version'] },
      ProvisionedConcurrencyConfig: Match.absent(),
    });
  });

  test('the alias is shifted by CodeDeploy with the pre-traffic hook, updated only after the hook', () => {
    const hook = logicalId(defaults.template, 'AWS::Lambda::Function', 'PreTrafficHook');
    defaults.template.hasResource('AWS::Lambda::Alias', {
      UpdatePolicy: {
        CodeDeployLambdaAliasUpdate: {
          ApplicationName: { Ref: logicalId(defaults.template, 'AWS::CodeDeploy::Application') },
          DeploymentGroupName: { Ref: logicalId(defaults.template, 'AWS::CodeDeploy::DeploymentGroup') },
          BeforeAllowTrafficHook: { Ref: hook },
        },
      },
      DependsOn: Match.arrayWith([hook]),
    });
  });

  test('the canary: CANARY_10PERCENT_5MINUTES, rolled back on failure, stop and either alarm', () => {
    defaults.template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
      },
      AlarmConfiguration: {
        Enabled: true,
        Alarms: [
          { Name: { Ref: logicalId(defaults.template, 'AWS::CloudWatch::Alarm', 'ErrorsAlarm') } },
          { Name: { Ref: logicalId(defaults.template, 'AWS::CloudWatch::Alarm', 'LatencyAlarm') } },
        ],
      },
    });
  });

  test('the alarms watch the live alias: any error in a minute, p99 duration over 80% of the timeout in 2 of 3 minutes', () => {
    const fn = logicalId(defaults.template, 'AWS::Lambda::Function', /^Model[0-9A-F]{8}$/);
    const dimensions = [
      { Name: 'FunctionName', Value: { Ref: fn } },
      { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: fn }, ':live']] } },
    ];
    defaults.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: dimensions,
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    defaults.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: dimensions,
      ExtendedStatistic: 'p99',
      Period: 60,
      Threshold: 8800,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('the pre-traffic hook: arm64, the version under test and its timeouts in the environment', () => {
    defaults.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      // (2 samples + readiness) x (11 s + 10 s init + 5 s) + 30 s to report
      Timeout: 108,
      Environment: {
        Variables: {
          TARGET_FUNCTION_ARN: { Ref: logicalId(defaults.template, 'AWS::Lambda::Version') },
          GOLDEN_DIR: '/var/task/golden',
          INVOKE_TIMEOUT_MS: '26000',
          POWERTOOLS_SERVICE_NAME: 'tiny-mlp-pre-traffic',
        },
      },
    });
  });

  test('least privilege: the hook may invoke only the new version and report only to its deployment group', () => {
    defaults.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(defaults.template, 'AWS::IAM::Role', 'PreTrafficHook') }],
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [logicalId(defaults.template, 'AWS::Logs::LogGroup', 'PreTrafficHook'), 'Arn'] },
          },
          { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { Ref: logicalId(defaults.template, 'AWS::Lambda::Version') } },
          {
            Action: 'codedeploy:PutLifecycleEventHookExecutionStatus',
            Effect: 'Allow',
            Resource: {
              'Fn::Join': [
                '',
                Match.arrayWith([':deploymentgroup:', { Ref: logicalId(defaults.template, 'AWS::CodeDeploy::DeploymentGroup') }]),
              ],
            },
          },
        ],
      },
    });
  });

  test("least privilege: the function's new role may only write its own log group, with no managed policy", () => {
    const role = logicalId(defaults.template, 'AWS::IAM::Role', 'ModelServiceRole');
    defaults.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      },
      ManagedPolicyArns: Match.absent(),
    });
    defaults.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: role }],
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [logicalId(defaults.template, 'AWS::Logs::LogGroup', 'ModelLogGroup'), 'Arn'] },
          },
        ],
      },
    });
  });

  test('logs are kept a month, for the function and its hook', () => {
    const groups = defaults.template.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 } });
    expect(Object.keys(groups)).toHaveLength(2);
  });

  test('the unzipped function and layer are measured at synth', () => {
    expect(defaults.model.unzippedBytes).toBeGreaterThan(defaults.model.layer.unzippedBytes);
    expect(defaults.model.unzippedBytes).toBeLessThan(60 * 1024 * 1024);
  });

  test("metrics are the live alias's, and grantInvoke grants the alias only", () => {
    const resolve = (x: unknown): unknown => defaults.stack.resolve(x);
    const fn = logicalId(defaults.template, 'AWS::Lambda::Function', /^Model[0-9A-F]{8}$/);
    const dims = { FunctionName: { Ref: fn }, Resource: { 'Fn::Join': ['', [{ Ref: fn }, ':live']] } };
    expect(resolve(defaults.model.metricLatency().dimensions)).toEqual(dims);
    expect(defaults.model.metricLatency().metricName).toBe('Duration');
    expect(defaults.model.metricErrors().metricName).toBe('Errors');
    expect(defaults.model.metricThrottles().metricName).toBe('Throttles');
    expect(defaults.model.metricInvocations().metricName).toBe('Invocations');
    expect(resolve(defaults.model.metricThrottles({ statistic: 'Sum' }).dimensions)).toEqual(dims);

    defaults.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(defaults.template, 'AWS::IAM::Role', 'Caller') }],
      PolicyDocument: {
        Statement: [
          { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { Ref: logicalId(defaults.template, 'AWS::Lambda::Alias') } },
        ],
      },
    });
  });
});

describe('every prop', () => {
  test('architecture, memory, timeout, reserved concurrency, tracing and Powertools settings reach the function', () => {
    custom.template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Architectures: ['arm64'],
      MemorySize: 2048,
      Timeout: 20,
      ReservedConcurrentExecutions: 10,
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: {
          MODEL_DIR: '/var/task/model',
          // 2048 MB buys 1.16 vCPUs.
          MODEL_ORT_THREADS: '1',
          POWERTOOLS_SERVICE_NAME: 'digits',
          POWERTOOLS_METRICS_NAMESPACE: 'acme/models',
          POWERTOOLS_LOG_LEVEL: 'DEBUG',
        },
      },
    });
  });

  test('ARM_64 gets the arm64 layer', () => {
    custom.template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleArchitectures: ['arm64'],
      Description: Match.stringLikeRegexp('for linux/arm64'),
    });
    expect(custom.model.layer.unzippedBytes).toBeLessThan(defaults.model.layer.unzippedBytes);
  });

  test('provisioned concurrency goes on alias live', () => {
    custom.template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
    });
  });

  test('log retention applies to the function and the hook', () => {
    expect(Object.keys(custom.template.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 7 } }))).toHaveLength(2);
  });

  test('deployment config and alarm thresholds', () => {
    custom.template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute',
    });
    custom.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Threshold: 3 });
    custom.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', Threshold: 2000 });
  });

  test('the hook waits for the longer timeout', () => {
    custom.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ INVOKE_TIMEOUT_MS: '35000' }) },
      Timeout: 135,
    });
  });

  test('X-Ray needs a wildcard the role is acknowledged for, and it gets the write actions', () => {
    custom.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{ Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' }]),
      },
    });
  });

  test('a role of your own and a custom deployment config', () => {
    // GIVEN a model given its own role and a 5%-then-15-minutes canary
    const template = ownRole.template;
    // THEN the function runs as that role, no role is created for it, and the config is the one given
    expect(ownRole.model.role).toBe(ownRole.role);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Role: { 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', 'MyRole'), 'Arn'] },
    });
    expect(Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith('ModelServiceRole'))).toEqual([]);
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: { Ref: logicalId(template, 'AWS::CodeDeploy::DeploymentConfig') },
    });
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryInterval: 15, CanaryPercentage: 5 } },
    });
  });

  test('two models of one architecture share one layer', () => {
    expect(shared.a.layer).toBe(shared.b.layer);
    shared.template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    shared.template.resourceCountIs('AWS::Lambda::Alias', 2);
  });
});

describe('bad props are refused before anything is bundled', () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ["memory below Lambda's range", { memorySize: 64 }, /memorySize must be an integer from 128 to 10240; got 64/],
    ['memory above it', { memorySize: 20000 }, /memorySize must be an integer from 128 to 10240; got 20000/],
    ['a fractional reserved concurrency', { reservedConcurrentExecutions: 1.5 }, /reservedConcurrentExecutions must be an integer/],
    ['zero provisioned concurrency', { provisionedConcurrentExecutions: 0 }, /provisionedConcurrentExecutions must be an integer from 1/],
    [
      'more provisioned than reserved',
      { reservedConcurrentExecutions: 2, provisionedConcurrentExecutions: 3 },
      /provisionedConcurrentExecutions \(3\) cannot exceed reservedConcurrentExecutions \(2\)/,
    ],
    ['an unknown log level', { logLevel: 'TRACE' }, /logLevel must be one of DEBUG, INFO, WARN, ERROR; got TRACE/],
    ['a negative errors threshold', { errorsAlarmThreshold: -1 }, /errorsAlarmThreshold must be a positive number; got -1/],
    [
      'an architecture onnxruntime has no binaries for',
      { architecture: lambda.Architecture.custom('riscv64') },
      /x86_64 and arm64 only, not riscv64/,
    ],
  ])('%s', (_what, props, error) => {
    expect(() => new LambdaModel(throwawayStack(), 'Model', { modelPackage: pkg, ...props })).toThrow(error);
  });

  test('a gpu package', () => {
    // GIVEN a package that targets gpu
    const dir = join(tempDir(), 'gpu');
    cpSync(pkg.directory, dir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(dir, 'modelship.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'modelship.json'), JSON.stringify({ ...manifest, target: 'gpu' }));
    // THEN LambdaModel refuses it
    expect(() => new LambdaModel(throwawayStack(), 'Model', { modelPackage: ModelPackage.fromDirectory(dir) })).toThrow(
      /LambdaModel serves cpu packages; tiny-mlp 1\.0\.0 .* targets gpu/,
    );
  });
});
