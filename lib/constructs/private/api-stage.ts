/**
 * What every ModelApi stage and infer route share: the access log format and the schema infer bodies
 * are checked against before any backend sees them.
 */
import * as apigw from 'aws-cdk-lib/aws-apigateway';

/**
 * Every field an operator needs and none that is secret: the API key's id, never its value, and the
 * authorizer's principal id, never a token.
 */
export const ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    httpMethod: '$context.httpMethod',
    resourcePath: '$context.resourcePath',
    path: '$context.path',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integration.latency',
    integrationStatus: '$context.integration.status',
    apiKeyId: '$context.identity.apiKeyId',
    principalId: '$context.authorizer.principalId',
    iamUser: '$context.identity.userArn',
    error: '$context.error.message',
  }),
);

/** The JSON schema API Gateway checks an infer body against: an object with a non-empty inputs array. */
const INFER_REQUEST_SCHEMA: apigw.JsonSchema = {
  schema: apigw.JsonSchemaVersion.DRAFT4,
  title: 'InferRequest',
  type: apigw.JsonSchemaType.OBJECT,
  required: ['inputs'],
  properties: {
    id: { type: apigw.JsonSchemaType.STRING },
    parameters: { type: apigw.JsonSchemaType.OBJECT },
    inputs: {
      type: apigw.JsonSchemaType.ARRAY,
      minItems: 1,
      items: { type: apigw.JsonSchemaType.OBJECT, required: ['name', 'datatype', 'shape'] },
    },
    outputs: { type: apigw.JsonSchemaType.ARRAY },
  },
};

/** Method options of every infer route: its body is validated against the v2 request schema. */
export function inferValidation(api: apigw.RestApi): apigw.MethodOptions {
  // Parameters too: no method declares a required one today, and any it ever declares gets checked.
  const requestValidator = api.addRequestValidator('RequestValidator', {
    requestValidatorName: 'infer-request',
    validateRequestBody: true,
    validateRequestParameters: true,
  });
  const model = api.addModel('InferRequest', {
    contentType: 'application/json',
    modelName: 'InferRequest',
    description: 'Open Inference Protocol v2 infer request',
    schema: INFER_REQUEST_SCHEMA,
  });
  return { requestValidator, requestModels: { 'application/json': model } };
}
