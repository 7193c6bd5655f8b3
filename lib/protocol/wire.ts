/**
 * The JSON shapes of the Open Inference Protocol v2 as this server speaks it: the one definition of
 * every body. The TypeScript types the router, the client and the browser page use are inferred from
 * these schemas, and the OpenAPI generator (lib/openapi) turns the same schemas into JSON Schema and
 * narrows them per model, so a document can never describe a field the code does not send.
 *
 * zod's v4 API is used for its JSON Schema output (draft 2020-12, OpenAPI 3.1's dialect). It costs
 * ~60 ms to load, so only the OpenAPI generator imports this module's values; everything on a request
 * path imports its types alone, which cost nothing at run time.
 */
import { z } from 'zod/v4';
import { DATATYPES } from './datatypes';
import { PLATFORM } from './responses';

const name = z.string().min(1);

export const datatypeSchema = z.enum(DATATYPES).meta({ description: 'An Open Inference Protocol v2 datatype' });

/** Every error answer. */
export const errorBodySchema = z.object({ error: z.string().meta({ description: 'What is wrong, naming the input at fault' }) });

/** GET /v2 */
export const serverMetadataSchema = z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) });

/** GET /v2/health/live */
export const liveBodySchema = z.object({ live: z.boolean() });

/** GET /v2/health/ready */
export const readyBodySchema = z.object({ ready: z.boolean() });

/** An input or output as model metadata declares it; -1 marks a dynamic dimension. */
export const tensorMetadataSchema = z.object({
  name,
  datatype: datatypeSchema,
  shape: z.array(z.number().int().min(-1)),
});

/** How a picture becomes an image model's first input: the manifest's `preprocess`, echoed in metadata. */
export const preprocessSchema = z.object({
  layout: z.enum(['flat', 'NHWC', 'NCHW']).meta({ description: 'flat: [N, H*W*C], HWC order; NHWC: [N, H, W, C]; NCHW: [N, C, H, W]' }),
  range: z.tuple([z.number(), z.number()]).meta({ description: 'The input values for black and white (0 and 255)' }),
  channels: z.enum(['gray', 'rgb']),
});

/**
 * What model metadata says beyond the protocol's required fields, as MLServer does in its own
 * `parameters`: the package's description, class labels and image preprocessing, when it has them.
 */
export const modelParametersSchema = z.object({
  description: z.string().optional(),
  labels: z.array(z.string()).optional().meta({ description: 'Class labels, in the order of the classifier output' }),
  preprocess: preprocessSchema.optional(),
  derivedFrom: z
    .object({ name: z.string(), version: z.string(), modelSha256: z.string() })
    .optional()
    .meta({ description: 'The package this model was fine-tuned, extracted or compressed from' }),
});

/** GET /v2/models/{name}[/versions/{version}] */
export const modelMetadataSchema = z.object({
  name,
  versions: z.array(z.string()).meta({ description: 'Every version served, highest first' }),
  platform: z.literal(PLATFORM),
  inputs: z.array(tensorMetadataSchema),
  outputs: z.array(tensorMetadataSchema),
  parameters: modelParametersSchema.optional(),
});

/** GET /v2/models/{name}[/versions/{version}]/ready */
export const modelReadySchema = z.object({ name, version: z.string(), ready: z.boolean() });

/** One entry of POST /v2/repository/index (Triton's model repository extension): a model, served or refused. */
export const repositoryEntrySchema = z.object({
  name,
  version: z.string().optional(),
  state: z.enum(['READY', 'UNAVAILABLE']),
  reason: z.string().optional().meta({ description: 'Why an UNAVAILABLE package was refused' }),
});

/** POST /v2/repository/index */
export const repositoryIndexSchema = z.array(repositoryEntrySchema);

/** The request body of POST /v2/repository/index; empty or `{}` lists every model. */
export const repositoryIndexRequestSchema = z.object({
  ready: z.boolean().optional().meta({ description: 'true: only the models that are ready' }),
});

const shape = z.array(z.number().int().min(0));
const binaryDataSize = z.number().int().min(0).meta({ description: 'Bytes of this tensor in the binary section after the JSON header' });

/** One input of an infer request: its data inline, or in the binary section after the JSON header. */
export const inferInputSchema = z.object({
  name,
  datatype: datatypeSchema,
  shape,
  data: z.array(z.unknown()).optional().meta({ description: 'Row-major elements, flat or nested' }),
  parameters: z.object({ binary_data_size: binaryDataSize.optional() }).optional(),
});

/** One output an infer request asks for. */
export const requestedOutputSchema = z.object({
  name,
  parameters: z.object({ binary_data: z.boolean().optional().meta({ description: 'Return this output as binary data' }) }).optional(),
});

/** POST /v2/models/{name}[/versions/{version}]/infer: the JSON body, or the JSON header of a binary one. */
export const inferRequestSchema = z.object({
  id: z.string().optional().meta({ description: 'Echoed back in the response' }),
  parameters: z
    .object({ binary_data_output: z.boolean().optional().meta({ description: 'Return every output as binary data' }) })
    .optional(),
  inputs: z.array(inferInputSchema),
  outputs: z.array(requestedOutputSchema).optional().meta({ description: 'The outputs to return, in order; every output when absent' }),
});

/** One output of an infer response: inline data (NaN and infinities as null) or binary data. */
export const inferOutputSchema = z.object({
  name,
  datatype: datatypeSchema,
  shape,
  data: z.array(z.unknown()).optional(),
  parameters: z.object({ binary_data_size: binaryDataSize }).optional(),
});

/** The answer of POST .../infer: the JSON body, or the JSON header of a binary one. */
export const inferResponseSchema = z.object({
  model_name: name,
  model_version: z.string(),
  id: z.string().optional(),
  outputs: z.array(inferOutputSchema),
});

export type ErrorBody = z.infer<typeof errorBodySchema>;
export type ServerMetadata = z.infer<typeof serverMetadataSchema>;
export type TensorMetadata = z.infer<typeof tensorMetadataSchema>;
export type Preprocess = z.infer<typeof preprocessSchema>;
export type ModelParameters = z.infer<typeof modelParametersSchema>;
export type ModelMetadata = z.infer<typeof modelMetadataSchema>;
export type ModelReady = z.infer<typeof modelReadySchema>;
export type RepositoryEntry = z.infer<typeof repositoryEntrySchema>;
export type RepositoryIndex = z.infer<typeof repositoryIndexSchema>;
export type WireInferRequest = z.infer<typeof inferRequestSchema>;
export type WireInferInput = z.infer<typeof inferInputSchema>;
export type WireInferResponse = z.infer<typeof inferResponseSchema>;
export type WireInferOutput = z.infer<typeof inferOutputSchema>;
