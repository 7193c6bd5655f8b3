/**
 * The OpenAPI 3.1 document of a modelship API: the v2 routes of each model with request and response
 * schemas narrowed from its metadata, the binary tensor extension, every error status with the protocol's
 * error body, and the security schemes the server takes. One generator for both fronts: `modelship serve`
 * answers it at GET /openapi.json, and a ModelApi writes it into cdk.out at synth.
 */
import { HEADER_LENGTH_HEADER, SAGEMAKER_BINARY_CONTENT_TYPE } from '../protocol/content-type';
import { JSON_CONTENT_TYPE } from '../protocol/encode';
import {
  errorBodySchema,
  liveBodySchema,
  modelMetadataSchema,
  modelReadySchema,
  readyBodySchema,
  repositoryIndexRequestSchema,
  repositoryIndexSchema,
  serverMetadataSchema,
  type ModelMetadata,
} from '../protocol/wire';
import { VERSION } from '../version';
import { jsonSchema, type JsonSchema } from './json-schema';
import { modelInferRequestSchema, modelInferResponseSchema } from './model-schemas';
import { securityOf, type SecurityInput } from './security';

/** A model to document: its v2 metadata, and request bodies that work (the package's golden samples). */
export interface OpenApiModel {
  readonly metadata: ModelMetadata;
  /** @default - none */
  readonly examples?: readonly unknown[];
}

/** Where the API is: a URL, or a template with variables for what is known only once deployed. */
export interface OpenApiServer {
  readonly url: string;
  readonly description?: string;
  readonly variables?: Readonly<Record<string, { readonly default: string }>>;
}

export interface OpenApiOptions {
  readonly server: OpenApiServer;
  readonly models: readonly OpenApiModel[];
  /** The credentials the API takes; at least one. */
  readonly security: readonly SecurityInput[];
  /** The largest body the API takes, for the 413's description. @default - not stated */
  readonly maxBodyBytes?: number;
  /** Document POST /v2/repository/index, which `modelship serve` answers. @default false */
  readonly repositoryIndex?: boolean;
  /** Document GET /openapi.json itself. @default false */
  readonly documentRoute?: boolean;
  /** @default 'modelship' */
  readonly title?: string;
}

export type OpenApiDocument = JsonSchema & { readonly openapi: '3.1.0'; readonly paths: Record<string, JsonSchema> };

const ERRORS: ReadonlyArray<readonly [status: number, name: string, description: string]> = [
  [400, 'BadRequest', 'The request is malformed or does not match the model: the message names the input'],
  [401, 'Unauthorized', 'Credentials are missing or invalid'],
  [
    403,
    'Forbidden',
    'The credentials are known but not allowed (a disabled key; on API Gateway, also a missing API key or a path no route matches)',
  ],
  [404, 'NotFound', 'Unknown model, version or route'],
  [405, 'MethodNotAllowed', 'Wrong method for the route; Allow lists the right ones'],
  [413, 'PayloadTooLarge', 'The body is over the limit'],
  [429, 'TooManyRequests', 'A rate limit or quota is used up; Retry-After says when to come back'],
  [500, 'InternalError', 'A fault of the server; the message names none of its internals'],
  [503, 'NotReady', 'The model is not ready: its package was refused, with the reason'],
];

const binaryBody = (what: string): JsonSchema => ({
  schema: {
    type: 'string',
    contentMediaType: 'application/octet-stream',
    description: `${what}: the JSON header, then each binary tensor's little-endian bytes (BYTES elements 4-byte-length-prefixed)`,
  },
});

function errorResponses(maxBodyBytes?: number): JsonSchema {
  const responses: JsonSchema = {};
  for (const [status, name, description] of ERRORS) {
    const headers: JsonSchema = {};
    if (status === 429) headers['Retry-After'] = { description: 'Seconds to wait', schema: { type: 'integer', minimum: 0 } };
    if (status === 405) headers.Allow = { description: 'The methods the route takes', schema: { type: 'string' } };
    const text = status === 413 && maxBodyBytes !== undefined ? `${description} (${maxBodyBytes} bytes)` : description;
    responses[name] = {
      description: text,
      ...(Object.keys(headers).length ? { headers } : {}),
      content: { [JSON_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/ErrorBody' } } },
    };
  }
  return responses;
}

/** The responses of an operation: its 200 and every error status. */
function responses(ok: JsonSchema): JsonSchema {
  const out: JsonSchema = { '200': ok };
  for (const [status, name] of ERRORS) out[String(status)] = { $ref: `#/components/responses/${name}` };
  return out;
}

const jsonOk = (description: string, schema: string, example?: unknown): JsonSchema => ({
  description,
  content: { [JSON_CONTENT_TYPE]: { schema: { $ref: `#/components/schemas/${schema}` }, ...(example === undefined ? {} : { example }) } },
});

function versionParameter(model: ModelMetadata): JsonSchema {
  return {
    name: 'version',
    in: 'path',
    required: true,
    description: 'A version the server has; another one is a 404',
    schema: { type: 'string', examples: model.versions },
  };
}

function modelOperations(model: OpenApiModel, versioned: boolean): Record<string, JsonSchema> {
  const m = model.metadata;
  const base = `/v2/models/${m.name}${versioned ? '/versions/{version}' : ''}`;
  const which = versioned ? 'of the version named' : 'of the highest version served';
  const parameters = versioned ? [versionParameter(m)] : [];
  const tag = [m.name];
  const id = (verb: string) => `${verb}_${m.name.replace(/-/g, '_')}${versioned ? '_version' : ''}`;
  const examples = Object.fromEntries((model.examples ?? []).map((value, i) => [`golden${i}`, { summary: `golden sample ${i}`, value }]));
  return {
    [base]: {
      get: {
        operationId: id('metadata'),
        tags: tag,
        summary: `Metadata ${which}: inputs, outputs, versions, and description, labels and preprocessing when the package has them`,
        parameters,
        responses: responses(jsonOk('Model metadata', 'ModelMetadata', versioned ? undefined : m)),
      },
    },
    [`${base}/ready`]: {
      get: {
        operationId: id('ready'),
        tags: tag,
        summary: `Readiness ${which}`,
        parameters,
        responses: responses(jsonOk('The model is ready', 'ModelReady')),
      },
    },
    [`${base}/infer`]: {
      post: {
        operationId: id('infer'),
        tags: tag,
        summary: `Run ${m.name} ${which}`,
        ...(m.parameters?.description ? { description: m.parameters.description } : {}),
        parameters: [
          ...parameters,
          {
            name: HEADER_LENGTH_HEADER,
            in: 'header',
            required: false,
            description: 'With a binary body (application/octet-stream): the length of its JSON header',
            schema: { type: 'integer', minimum: 0 },
          },
        ],
        requestBody: {
          required: true,
          content: {
            [JSON_CONTENT_TYPE]: {
              schema: { $ref: `#/components/schemas/InferRequest.${m.name}` },
              ...(Object.keys(examples).length ? { examples } : {}),
            },
            'application/octet-stream': binaryBody(`InferRequest.${m.name} as the JSON header`),
            [SAGEMAKER_BINARY_CONTENT_TYPE]: binaryBody(
              `InferRequest.${m.name}, its header length in json-header-size=N of the content type`,
            ),
          },
        },
        responses: responses({
          description: 'The outputs asked for, in order; binary when the request asked for binary data',
          headers: {
            [HEADER_LENGTH_HEADER]: {
              description: 'With a binary answer: the length of its JSON header',
              schema: { type: 'integer', minimum: 0 },
            },
          },
          content: {
            [JSON_CONTENT_TYPE]: { schema: { $ref: `#/components/schemas/InferResponse.${m.name}` } },
            'application/octet-stream': binaryBody(`InferResponse.${m.name} as the JSON header`),
            [SAGEMAKER_BINARY_CONTENT_TYPE]: binaryBody(`InferResponse.${m.name}, as the request was sent`),
          },
        }),
      },
    },
  };
}

function serverPaths(options: OpenApiOptions): Record<string, JsonSchema> {
  const paths: Record<string, JsonSchema> = {
    '/v2': {
      get: {
        operationId: 'server_metadata',
        tags: ['server'],
        summary: 'Server metadata',
        responses: responses(jsonOk('Server metadata', 'ServerMetadata')),
      },
    },
    '/v2/health/live': {
      get: { operationId: 'live', tags: ['server'], summary: 'Liveness', responses: responses(jsonOk('Live', 'Live')) },
    },
    '/v2/health/ready': {
      get: {
        operationId: 'ready',
        tags: ['server'],
        summary: 'Readiness: every model given is ready',
        responses: responses(jsonOk('Ready', 'Ready')),
      },
    },
  };
  if (options.repositoryIndex) {
    paths['/v2/repository/index'] = {
      post: {
        operationId: 'repository_index',
        tags: ['server'],
        summary:
          "Every model the server was given: READY, or UNAVAILABLE with the reason it was refused (Triton's model repository extension)",
        requestBody: {
          required: false,
          content: { [JSON_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/RepositoryIndexRequest' } } },
        },
        responses: responses(jsonOk('The models', 'RepositoryIndex')),
      },
    };
  }
  if (options.documentRoute) {
    paths['/openapi.json'] = {
      get: {
        operationId: 'openapi',
        tags: ['server'],
        summary: 'This document',
        responses: responses({ description: 'OpenAPI 3.1', content: { [JSON_CONTENT_TYPE]: { schema: { type: 'object' } } } }),
      },
    };
  }
  return paths;
}

/** The document. Model names are DNS-safe, so each is a path segment and a component name as it is. */
export function openApiDocument(options: OpenApiOptions): OpenApiDocument {
  const security = securityOf(options.security);
  const schemas: JsonSchema = {
    ErrorBody: jsonSchema(errorBodySchema, 'output'),
    ServerMetadata: jsonSchema(serverMetadataSchema, 'output'),
    Live: jsonSchema(liveBodySchema, 'output'),
    Ready: jsonSchema(readyBodySchema, 'output'),
    ModelMetadata: jsonSchema(modelMetadataSchema, 'output'),
    ModelReady: jsonSchema(modelReadySchema, 'output'),
  };
  if (options.repositoryIndex) {
    schemas.RepositoryIndex = jsonSchema(repositoryIndexSchema, 'output');
    schemas.RepositoryIndexRequest = jsonSchema(repositoryIndexRequestSchema, 'input');
  }
  let paths = serverPaths(options);
  const names = new Set<string>();
  for (const model of options.models) {
    const name = model.metadata.name;
    if (names.has(name)) throw new Error(`model ${name} is documented twice; a document describes each model once`);
    names.add(name);
    schemas[`InferRequest.${name}`] = jsonSchema(modelInferRequestSchema(model.metadata), 'input');
    schemas[`InferResponse.${name}`] = jsonSchema(modelInferResponseSchema(model.metadata), 'output');
    paths = { ...paths, ...modelOperations(model, false), ...modelOperations(model, true) };
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: options.title ?? 'modelship',
      version: VERSION,
      description:
        'Open Inference Protocol v2 (KServe / Triton REST) for the models listed, with the binary tensor data extension. ' +
        'Every route needs one of the security schemes. Errors are always {"error": "<what is wrong>"}.',
    },
    servers: [options.server],
    security: security.requirement,
    tags: [
      { name: 'server', description: 'Server metadata and health' },
      ...options.models.map((m) => ({
        name: m.metadata.name,
        ...(m.metadata.parameters?.description ? { description: m.metadata.parameters.description } : {}),
      })),
    ],
    paths,
    components: { schemas, responses: errorResponses(options.maxBodyBytes), securitySchemes: security.schemes },
  };
}
