/**
 * API Gateway mapping templates (VTL) generated from lib/protocol/responses.ts, never written by hand:
 * the health and server metadata answers of every ModelApi, and a GPU model's metadata, readiness and
 * unknown-version 404, which API Gateway answers itself from the package's manifest. The router answers
 * the same routes with the same functions, so the bytes agree (test/constructs/protocol-templates.test.ts).
 */
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import {
  errorBody,
  liveBody,
  modelMetadataBody,
  modelReadyBody,
  readyBody,
  serverMetadataBody,
  unknownVersionMessage,
} from '../../protocol/responses';
import type { ModelPackage } from '../model-package';

/**
 * `$`, `#` and `\` are VTL syntax: a reference, a directive or comment, and an escape of either. In
 * static text each is written as a formal reference that renders exactly that character, so a tensor
 * name holding any of them is still sent byte for byte.
 */
const VTL_SPECIAL = /[$#\\]/g;
const VTL_CHARACTER: Readonly<Record<string, string>> = {
  $: "${util.urlDecode('%24')}",
  '#': "${util.urlDecode('%23')}",
  '\\': "${util.urlDecode('%5C')}",
};

/** Text that a mapping template renders as exactly itself. */
export function vtlText(text: string): string {
  return text.replace(VTL_SPECIAL, (c) => VTL_CHARACTER[c]);
}

/**
 * The `{version}` path parameter as the inside of a JSON string. API Gateway's only escaper is
 * escapeJavaScript, which also writes `'` as `\'`, not valid JSON; its own documentation says to turn
 * that back. Every other escape it writes is valid JSON.
 */
export const VERSION_PARAMETER_JSON = `$util.escapeJavaScript($input.params().path.get('version')).replaceAll("\\\\'","'")`;

/** Letters only: JSON.stringify writes it unchanged, so it can be found in a body and replaced. */
const PLACEHOLDER = 'MODELSHIPVERSIONPLACEHOLDER';

/**
 * A body built by a lib/protocol function with one value left to API Gateway: the static parts become
 * VTL text, the placeholder the VTL expression.
 * @throws Error unless the body holds the placeholder exactly once
 */
function templateWith(body: string, expression: string): string {
  const parts = body.split(PLACEHOLDER);
  if (parts.length !== 2) throw new Error(`a generated template needs the placeholder once; ${body} has it ${parts.length - 1} times`);
  return `${vtlText(parts[0])}${expression}${vtlText(parts[1])}`;
}

/** The v2 model metadata the router answers for a package, as JSON. */
export function modelMetadataJson(pkg: ModelPackage): string {
  return modelMetadataBody(pkg.manifest, [pkg.manifest.version], pkg.labels);
}

/** The v2 model readiness the router answers for a package, as JSON. */
export function modelReadyJson(pkg: ModelPackage): string {
  return modelReadyBody(pkg.name, pkg.version);
}

/** The 404 template of a versioned path naming a version the package is not. */
export function unknownVersionTemplate(pkg: ModelPackage): string {
  return templateWith(errorBody(unknownVersionMessage(pkg.name, PLACEHOLDER, [pkg.version])), VERSION_PARAMETER_JSON);
}

/** A version as the manifest allows it (semver), which a VTL string literal holds as it is. */
const VTL_SAFE_VERSION = /^[0-9A-Za-z.+-]+$/;

/** The request template choosing 200 for no version or the package's, 404 for any other. */
export function versionCheckTemplate(version: string): string {
  if (!VTL_SAFE_VERSION.test(version)) throw new RangeError(`version "${version}" cannot be written into an API Gateway template`);
  return [
    "#set($v = $input.params().path.get('version'))",
    `#if("$!v" == "" || "$v" == "${version}"){"statusCode": 200}#else{"statusCode": 404}#end`,
  ].join('\n');
}

/** Method options of a route answered by manifestMocks: the statuses they give. */
export const MANIFEST_MOCK_METHOD: apigw.MethodOptions = { methodResponses: [{ statusCode: '200' }, { statusCode: '404' }] };

/**
 * Mock integrations answering a package's metadata and readiness from its manifest. A versioned path
 * naming another version gets the router's 404.
 */
export function manifestMocks(pkg: ModelPackage): { readonly metadata: apigw.MockIntegration; readonly ready: apigw.MockIntegration } {
  const request = { 'application/json': versionCheckTemplate(pkg.version) };
  const notFound = { statusCode: '404', selectionPattern: '404', responseTemplates: { 'application/json': unknownVersionTemplate(pkg) } };
  const mock = (body: string) =>
    new apigw.MockIntegration({
      passthroughBehavior: apigw.PassthroughBehavior.NEVER,
      requestTemplates: request,
      integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': vtlText(body) } }, notFound],
    });
  return { metadata: mock(modelMetadataJson(pkg)), ready: mock(modelReadyJson(pkg)) };
}

/** A mock integration that always answers 200 with `body`. */
function staticMock(body: string): apigw.MockIntegration {
  return new apigw.MockIntegration({
    requestTemplates: { 'application/json': '{"statusCode": 200}' },
    integrationResponses: [{ statusCode: '200', responseTemplates: { 'application/json': vtlText(body) } }],
  });
}

/** `/v2`, `/v2/health/live` and `/v2/health/ready`, answered by API Gateway itself. */
export function addServerRoutes(v2: apigw.IResource, methodOptions: apigw.MethodOptions): void {
  // API Gateway refuses an integration response whose status has no method response.
  const options = { ...methodOptions, methodResponses: [{ statusCode: '200' }] };
  v2.addMethod('GET', staticMock(serverMetadataBody()), options);
  const health = v2.addResource('health');
  health.addResource('live').addMethod('GET', staticMock(liveBody()), options);
  // Each model's backend loads its model before it answers; the API itself is ready once deployed.
  health.addResource('ready').addMethod('GET', staticMock(readyBody()), options);
}
