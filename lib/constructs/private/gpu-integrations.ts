/**
 * The infer integrations of GPU backends: Triton receives the v2 request body as the client sent it,
 * through SageMaker's InvokeEndpoint or through a VPC link to the ECS load balancer, and its answer
 * comes back unchanged.
 */
import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { EcsGpuModel } from '../ecs-gpu-model';
import type { SageMakerModel } from '../sagemaker-model';
import { API_GATEWAY_TIMEOUT_SECONDS } from './sizing';

/**
 * No request template and no content handling, so API Gateway forwards the method request's body byte
 * for byte (v2 JSON as text, the binary extension as binary), with its Content-Type, and returns the
 * model's answer the same way.
 */
const TRANSPARENT_INFER: apigw.IntegrationOptions = {
  passthroughBehavior: apigw.PassthroughBehavior.WHEN_NO_TEMPLATES,
  requestParameters: {
    'integration.request.header.Content-Type': 'method.request.header.Content-Type',
    'integration.request.header.Accept': 'method.request.header.Accept',
  },
  integrationResponses: [
    { statusCode: '200', responseParameters: { 'method.response.header.Content-Type': 'integration.response.header.Content-Type' } },
    // SageMaker answers 424 with Triton's own {"error": ...} in OriginalMessage, or 400 with its message.
    {
      statusCode: '400',
      selectionPattern: '4\\d{2}',
      responseTemplates: {
        'application/json': [
          "#set($original = $input.path('$.OriginalMessage'))",
          '#if("$!original" != "" && $original.startsWith(\'{\'))$original#else',
          '#set($m = $input.path(\'$.message\'))#if("$!m" == "")#set($m = $input.path(\'$.Message\'))#end',
          '{"error":"$util.escapeJavaScript($m).replaceAll("\\\\\'","\'")"}#end',
        ].join('\n'),
      },
    },
    {
      statusCode: '503',
      selectionPattern: '5\\d{2}',
      responseTemplates: { 'application/json': '{"error":"the model endpoint is unavailable; try again later"}' },
    },
  ],
};

/** Method options of a SageMaker model's infer route: the headers passed on and the answers it can give. */
export const TRANSPARENT_INFER_METHOD: apigw.MethodOptions = {
  requestParameters: { 'method.request.header.Content-Type': false, 'method.request.header.Accept': false },
  methodResponses: [
    { statusCode: '200', responseParameters: { 'method.response.header.Content-Type': true } },
    { statusCode: '400' },
    { statusCode: '503' },
  ],
};

/** An AWS integration to InvokeEndpoint, with a role of its own in `scope` that may call this endpoint only. */
export function sageMakerInferIntegration(scope: Construct, model: SageMakerModel): apigw.AwsIntegration {
  const role = new iam.Role(scope, 'InvokeRole', {
    assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
    description: `API Gateway: InvokeEndpoint on ${model.modelName}'s endpoint, nothing else`,
  });
  model.grantInvoke(role);
  return new apigw.AwsIntegration({
    service: 'runtime.sagemaker',
    path: `endpoints/${model.endpointName}/invocations`,
    integrationHttpMethod: 'POST',
    options: { credentialsRole: role, ...TRANSPARENT_INFER },
  });
}

/**
 * An HTTP proxy through the model's VPC link to Triton's own `/v2/models/<name>/infer` on the internal
 * load balancer: body, headers and status pass unchanged.
 */
export function ecsInferIntegration(model: EcsGpuModel): apigw.Integration {
  return new apigw.Integration({
    type: apigw.IntegrationType.HTTP_PROXY,
    integrationHttpMethod: 'POST',
    uri: `http://${model.loadBalancer.loadBalancerDnsName}/v2/models/${model.modelName}/infer`,
    options: {
      connectionType: apigw.ConnectionType.VPC_LINK,
      vpcLink: model.vpcLink,
      timeout: Duration.seconds(API_GATEWAY_TIMEOUT_SECONDS),
    },
  });
}
