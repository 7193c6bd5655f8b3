/**
 * What serves a model behind a ModelApi. Each backend binds itself, as aws-cdk-lib's integrations do
 * (`LambdaIntegration.bind`) and as ApiAuth does here: it creates what its routes need and returns it,
 * and ModelApi never asks which kind of backend it was given.
 */
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct, IConstruct } from 'constructs';
import type { ModelPackage } from './model-package';

/** The integrations of one model's routes, unversioned and versioned alike. */
export interface ModelIntegrations {
  /** `GET /v2/models/<name>[/versions/{version}]` */
  readonly metadata: apigw.Integration;
  /** `GET /v2/models/<name>[/versions/{version}]/ready` */
  readonly ready: apigw.Integration;
  /** `POST /v2/models/<name>[/versions/{version}]/infer` */
  readonly infer: apigw.Integration;
}

/** Where a backend binds: given by {@link ModelApi.addModel}. */
export interface ModelBackendBindOptions {
  /** The API, where warnings about this backend behind it are reported. */
  readonly api: IConstruct;
  /** A scope of the API's own for this model, for resources its integrations need (an invoke role). */
  readonly scope: Construct;
}

/** What a backend gives the API it is bound to. */
export interface ModelBackendBinding {
  readonly integrations: ModelIntegrations;
  /**
   * Method options of the metadata and ready routes, over the API's auth options.
   * @default - the API's auth options alone
   */
  readonly readMethodOptions?: apigw.MethodOptions;
  /**
   * Method options of the infer routes, over the API's auth options and its request validation.
   * @default - the API's auth options and request validation alone
   */
  readonly inferMethodOptions?: apigw.MethodOptions;
  /** The model's widgets on the API's dashboard, in order. */
  readonly widgets: readonly cloudwatch.IWidget[];
}

/** A model served by a backend that a {@link ModelApi} can put behind its routes. */
export interface IModelBackend extends IConstruct {
  /** The package being served. */
  readonly modelPackage: ModelPackage;
  /** The model's name: the `{name}` of its routes. */
  readonly modelName: string;
  /** The package version served. */
  readonly modelVersion: string;
  /** Creates what the backend's routes need; called once per API by ModelApi.addModel, never directly. */
  bind(options: ModelBackendBindOptions): ModelBackendBinding;
}
