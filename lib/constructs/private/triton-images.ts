/**
 * Where SageMaker's Triton Inference Server images live: one ECR registry (an AWS account) per region.
 * The accounts are those the SageMaker Python SDK lists for `sagemaker-tritonserver`
 * (src/sagemaker/image_uri_config/sagemaker-tritonserver.json, versions 23.12 to 24.09), for every
 * region of the commercial partition `aws`; the China regions are another partition and are left out.
 */

/** The repository name in each region's registry. */
export const SAGEMAKER_TRITON_REPOSITORY = 'sagemaker-tritonserver';

/** The newest tag the SageMaker Python SDK lists. */
export const DEFAULT_SAGEMAKER_TRITON_TAG = '24.09-py3';

/** region -> account of the registry holding `sagemaker-tritonserver`. */
export const SAGEMAKER_TRITON_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-northeast-1': '763104351884',
  'ap-northeast-2': '763104351884',
  'ap-northeast-3': '364406365360',
  'ap-south-1': '763104351884',
  'ap-southeast-1': '763104351884',
  'ap-southeast-2': '763104351884',
  'ap-southeast-3': '907027046896',
  'ca-central-1': '763104351884',
  'ca-west-1': '204538143572',
  'eu-central-1': '763104351884',
  'eu-north-1': '763104351884',
  'eu-south-1': '692866216735',
  'eu-west-1': '763104351884',
  'eu-west-2': '763104351884',
  'eu-west-3': '763104351884',
  'il-central-1': '780543022126',
  'me-south-1': '217643126080',
  'sa-east-1': '763104351884',
  'us-east-1': '763104351884',
  'us-east-2': '763104351884',
  'us-west-1': '763104351884',
  'us-west-2': '763104351884',
};

/** An image tag ECR accepts: letters, digits, '.', '_' and '-', at most 128 characters. */
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The default Triton image for ECS: NVIDIA's NGC image of the same release, pulled by the ECS agent. */
export const DEFAULT_ECS_TRITON_IMAGE = 'nvcr.io/nvidia/tritonserver:24.09-py3';
