/**
 * cdk-nag's AwsSolutions pack over the example stack and over every auth mode: zero findings that are
 * not acknowledged, and every acknowledgement with a written reason.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { ApiAuth } from '../../lib/constructs/api-auth';
import { LambdaModel } from '../../lib/constructs/lambda-model';
import { ModelApi } from '../../lib/constructs/model-api';
import { ModelPackage } from '../../lib/constructs/model-package';
import { ModelshipStack } from '../../lib/constructs/modelship-stack';
import { makeAllTypesPackage, makeTinyMlpPackage } from '../helpers/fixtures';
import { projectContext, testApp, type TestApp } from './synth-helpers';

let t: TestApp;
const stacks: Record<string, Stack> = {};

function findings(stack: Stack): string[] {
  const report = new AwsSolutionsChecks(t.app, { verbose: true }).validateScope(stack);
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}: ${v.description}`));
}

function acknowledgements(scope: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return scope.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))),
    );
}

beforeAll(async () => {
  t = testApp();
  const packages = [
    ModelPackage.fromDirectory((await makeTinyMlpPackage()).dir),
    ModelPackage.fromDirectory((await makeAllTypesPackage()).dir),
  ];

  // The stack `cdk deploy` creates, with two models.
  stacks.example = new ModelshipStack(t.app, 'Example', { packages });
  stacks.iam = new ModelshipStack(t.app, 'Iam', { packages: packages.slice(0, 1), auth: ApiAuth.iam() });
  stacks.jwt = new ModelshipStack(t.app, 'Jwt', {
    packages: packages.slice(0, 1),
    auth: ApiAuth.jwt({ issuer: 'https://login.example.com', audience: ['modelship'] }),
    architecture: lambda.Architecture.ARM_64,
  });

  // Cognito: the pool is the app's own, configured to pass the pool rules; the API adds nothing to acknowledge.
  const cognitoStack = t.stack('Cognito');
  const pool = new cognito.UserPool(cognitoStack, 'Pool', {
    passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireSymbols: true, requireUppercase: true },
    mfa: cognito.Mfa.REQUIRED,
    mfaSecondFactor: { otp: true, sms: false },
    featurePlan: cognito.FeaturePlan.PLUS,
    standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
  });
  const cognitoApi = new ModelApi(cognitoStack, 'Api', { auth: ApiAuth.cognito({ userPools: [pool] }) });
  cognitoApi.addModel(new LambdaModel(cognitoStack, 'Model', { modelPackage: packages[0] }));
  stacks.cognito = cognitoStack;

  // Everything optional switched on: tracing, provisioned concurrency, arm64, CORS, per-model throttling.
  const full = t.stack('AllOptions');
  const fullApi = new ModelApi(full, 'Api', { tracing: true, cors: { allowOrigins: ['https://app.example.com'] } });
  fullApi.addModel(
    new LambdaModel(full, 'Model', {
      modelPackage: packages[0],
      tracing: lambda.Tracing.ACTIVE,
      architecture: lambda.Architecture.ARM_64,
      reservedConcurrentExecutions: 5,
      provisionedConcurrentExecutions: 1,
      timeout: Duration.seconds(20),
    }),
    { throttle: { rateLimit: 5, burstLimit: 10 } },
  );
  stacks.full = full;

  // A finding nobody acknowledged, to show the checks do report.
  const bad = t.stack('Unacknowledged');
  new iam.Role(bad, 'Wide', { assumedBy: new iam.AccountRootPrincipal() }).addToPolicy(
    new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }),
  );
  stacks.bad = bad;
});

afterAll(() => t.cleanup());

describe('the example stack (what bin/app.ts deploys)', () => {
  test('each package on its own function behind one API, with the URL as output ApiUrl', () => {
    const template = Template.fromStack(stacks.example);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::Lambda::Alias', 2);
    template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 2);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    for (const name of ['tiny-mlp', 'all-types']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: name, MODEL_DIR: '/var/task/model' }) },
      });
    }
    template.hasOutput('ApiUrl', { Value: { 'Fn::Join': ['', Match.arrayWith(['https://'])] } });
    template.hasResourceProperties('AWS::ApiGateway::UsagePlan', { UsagePlanName: 'default' });
  });

  test('auth and architecture are passed on', () => {
    const iamTemplate = Template.fromStack(stacks.iam);
    iamTemplate.allResourcesProperties('AWS::ApiGateway::Method', { AuthorizationType: 'AWS_IAM' });
    const jwtTemplate = Template.fromStack(stacks.jwt);
    jwtTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ MODEL_DIR: '/var/task/model' }) },
    });
    jwtTemplate.hasResourceProperties('AWS::Lambda::LayerVersion', { CompatibleArchitectures: ['arm64'] });
  });

  test('two packages with one name are refused: a stack serves one version of a model', () => {
    const pkg = (stacks.example as ModelshipStack).models[0].modelPackage;
    expect(() => new ModelshipStack(new App({ context: projectContext() }), 'Twice', { packages: [pkg, pkg] })).toThrow(
      /two packages are named tiny-mlp/,
    );
  });
});

test.each(['example', 'iam', 'jwt', 'cognito', 'full'])('AwsSolutions: no unacknowledged finding in the %s stack', (name) => {
  expect(findings(stacks[name])).toEqual([]);
});

test('the checks do report: an unacknowledged wildcard policy is found', () => {
  expect(findings(stacks.bad)).toEqual([
    expect.stringMatching(/^AwsSolutions-IAM5\[Action::s3:\*\] at Unacknowledged\/Wide\/DefaultPolicy\/Resource/),
    expect.stringMatching(/^AwsSolutions-IAM5\[Resource::\*\] at Unacknowledged\/Wide\/DefaultPolicy\/Resource/),
  ]);
});

test('every acknowledgement names one rule or finding and gives a reason', () => {
  const all = ['example', 'iam', 'jwt', 'cognito', 'full'].flatMap((name) => acknowledgements(stacks[name]));
  expect(all.length).toBeGreaterThan(0);
  for (const a of all) {
    expect(a.id).toMatch(/^Annotation::AwsSolutions-(APIG3|APIG4|COG4|IAM4\[Policy::[^\]]+\]|IAM5\[Resource::[^\]]+\])$/);
    expect(a.reason.length).toBeGreaterThan(40);
  }
  // The acknowledged findings, by rule: nothing broader than these.
  expect([...new Set(all.map((a) => a.id.replace(/^Annotation::/, '').replace(/<[A-Za-z0-9]+\.Arn>/, '<LogicalId.Arn>')))].sort()).toEqual([
    'AwsSolutions-APIG3',
    'AwsSolutions-APIG4',
    'AwsSolutions-COG4',
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    'AwsSolutions-IAM5[Resource::*]',
    'AwsSolutions-IAM5[Resource::<LogicalId.Arn>:*]',
  ]);
});
