/**
 * How callers of a ModelApi authenticate: API keys with usage plans (the default), IAM SigV4, a JWT
 * from any OIDC issuer, or a Cognito user pool. Each mode is one factory; ModelApi applies it to every
 * method it creates.
 */
import { basename, dirname, resolve as resolvePath } from 'node:path';
import { readJwksFile } from '../local/jwt-auth';
import { logRetention as profileRetention, type Profile } from './private/profile';
import { CfnOutput, Duration, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { SecurityInput } from '../openapi/security';
import { handlerFunction } from './private/handler-function';
import type { Acknowledgement } from './private/nag';
import { checkThrottle } from './private/throttle';
import { checkInteger } from './private/validate';

/** A usage plan: the rate, burst and quota its keys get. */
export interface UsagePlanTier {
  /** The plan's name; also the construct id of the plan and its keys. Letters, digits, "-" and "_". */
  readonly name: string;
  /** Steady requests per second (rateLimit) and token bucket size (burstLimit); both are required. */
  readonly throttle: apigw.ThrottleSettings;
  /**
   * Requests per day, week or month.
   * @default - no quota
   */
  readonly quota?: apigw.QuotaSettings;
  /**
   * Names of API keys to create in this plan. API Gateway generates each key's value; it never appears
   * in the template or the outputs. Read it with `aws apigateway get-api-key --include-value`.
   * @default - one key, named after the plan
   */
  readonly createKeys?: readonly string[];
  /**
   * Existing API keys to add to this plan, for example `apigw.ApiKey.fromApiKeyId(this, 'Key', id)`.
   * @default - none
   */
  readonly importKeys?: readonly apigw.IApiKey[];
}

/** Properties of {@link ApiAuth.apiKey}. */
export interface ApiKeyAuthProps {
  /**
   * The usage plans; each key belongs to exactly one.
   * @default - one plan "default": 10 requests/s, burst 20, 10,000 requests a day, with one key
   */
  readonly plans?: readonly UsagePlanTier[];
}

/** Properties of {@link ApiAuth.jwt}. */
export interface JwtAuthProps {
  /** The `iss` claim tokens must carry: an https URL. */
  readonly issuer: string;
  /** Accepted `aud` claims; a token passes when it names any of them. */
  readonly audience: readonly string[];
  /**
   * Where the issuer publishes its signing keys.
   * @default - `<issuer>/.well-known/jwks.json`
   */
  readonly jwksUri?: string;
  /**
   * A JWKS document (public keys only) to check tokens against instead of fetching `jwksUri`: it ships
   * in the authorizer's code, so a key rotation needs a redeploy. Required by the hardened profile, whose
   * functions run in a VPC without a route to the internet.
   * @default - the keys are fetched from `jwksUri`
   */
  readonly jwksFile?: string;
  /**
   * How long API Gateway caches an authorizer decision for a token.
   * @default Duration.minutes(5)
   */
  readonly resultsCacheTtl?: Duration;
}

/** Properties of {@link ApiAuth.cognito}. */
export interface CognitoAuthProps {
  /** User pools whose tokens are accepted. */
  readonly userPools: readonly cognito.IUserPool[];
  /**
   * OAuth scopes an access token must carry (one of them); without scopes, ID tokens are expected.
   * @default - no scopes
   */
  readonly scopes?: readonly string[];
}

/** The auth modes. */
export enum ApiAuthKind {
  API_KEY = 'apiKey',
  IAM = 'iam',
  JWT = 'jwt',
  COGNITO = 'cognito',
}

/** What a mode contributes to a ModelApi. @internal */
export interface AuthBinding {
  /** Options for every method. */
  readonly methodOptions: apigw.MethodOptions;
  /** cdk-nag findings this mode accounts for, acknowledged on every method. */
  readonly acknowledgements: readonly Acknowledgement[];
  readonly usagePlans: readonly apigw.UsagePlan[];
  /** Keys created by the mode (imported ones are not listed). */
  readonly apiKeys: readonly apigw.IApiKey[];
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

const NOT_COGNITO: Acknowledgement = {
  id: 'AwsSolutions-COG4',
  reason: 'Callers authenticate by the mode the API was configured with (API key, IAM SigV4 or a JWT authorizer), not a Cognito user pool',
};

/** How callers of a {@link ModelApi} authenticate. */
export abstract class ApiAuth {
  /**
   * API keys in `x-api-key`, each in a usage plan with a rate, burst and quota. The default mode.
   * @throws RangeError for a bad plan or key name, a missing limit or a key in two plans
   */
  static apiKey(props: ApiKeyAuthProps = {}): ApiAuth {
    return new ApiKeyAuth(props.plans ?? DEFAULT_PLANS);
  }

  /** IAM SigV4 for execute-api; callers need `ModelApi.grantInvoke`. */
  static iam(): ApiAuth {
    return new IamAuth();
  }

  /**
   * A bearer JWT from any OIDC issuer, checked by a small Lambda TOKEN authorizer (RestApi has no
   * native JWT authorizer): signature against the issuer's JWKS, issuer, audience and expiry.
   */
  static jwt(props: JwtAuthProps): ApiAuth {
    return new JwtAuth(props);
  }

  /** Tokens of Cognito user pools, checked by API Gateway's own Cognito authorizer. */
  static cognito(props: CognitoAuthProps): ApiAuth {
    return new CognitoAuth(props);
  }

  /** Which mode this is. */
  abstract readonly kind: ApiAuthKind;

  /** Creates the mode's resources for `api`; called once by ModelApi. @internal */
  abstract _bind(scope: Construct, api: apigw.RestApi, profile?: Profile): AuthBinding;

  /** The mode as an OpenAPI security scheme, for the API's document. @internal */
  abstract _openApiSecurity(): SecurityInput;
}

const DEFAULT_PLANS: readonly UsagePlanTier[] = [
  { name: 'default', throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 10_000, period: apigw.Period.DAY } },
];

function checkName(what: string, name: string): void {
  if (!NAME.test(name)) throw new RangeError(`${what} "${name}" must be 1-64 letters, digits, "-" or "_"`);
}

class ApiKeyAuth extends ApiAuth {
  readonly kind = ApiAuthKind.API_KEY;

  _openApiSecurity(): SecurityInput {
    return { kind: 'apiKey' };
  }

  constructor(private readonly plans: readonly UsagePlanTier[]) {
    super();
    if (plans.length === 0) throw new RangeError('ApiAuth.apiKey needs at least one usage plan: without one no key can call the API');
    const planNames = new Set<string>();
    const keyNames = new Set<string>();
    const imported = new Set<apigw.IApiKey>();
    for (const plan of plans) {
      checkName('usage plan name', plan.name);
      if (planNames.has(plan.name)) throw new RangeError(`usage plan "${plan.name}" is defined twice`);
      planNames.add(plan.name);
      checkThrottle(`usage plan "${plan.name}"`, plan.throttle);
      if (plan.quota !== undefined) {
        if (plan.quota.limit === undefined || plan.quota.period === undefined) {
          throw new RangeError(`usage plan "${plan.name}" quota needs both limit and period`);
        }
        checkInteger(`usage plan "${plan.name}" quota.limit`, plan.quota.limit, 1, Number.MAX_SAFE_INTEGER);
      }
      for (const key of plan.createKeys ?? [plan.name]) {
        checkName(`API key name in usage plan "${plan.name}"`, key);
        // API Gateway refuses a key in two plans on the same stage; unique names keep that impossible.
        if (keyNames.has(key)) throw new RangeError(`API key "${key}" appears in two usage plans; a key belongs to one plan`);
        keyNames.add(key);
      }
      for (const key of plan.importKeys ?? []) {
        if (imported.has(key))
          throw new RangeError(`an imported API key appears twice (last in usage plan "${plan.name}"); a key belongs to one plan`);
        imported.add(key);
      }
    }
  }

  _bind(scope: Construct, api: apigw.RestApi): AuthBinding {
    const usagePlans: apigw.UsagePlan[] = [];
    const apiKeys: apigw.IApiKey[] = [];
    const plansScope = new Construct(scope, 'UsagePlans');
    for (const tier of this.plans) {
      const tierScope = new Construct(plansScope, tier.name);
      const plan = new apigw.UsagePlan(tierScope, 'Resource', {
        name: tier.name,
        description: `modelship usage plan "${tier.name}"`,
        throttle: tier.throttle,
        quota: tier.quota,
        apiStages: [{ api, stage: api.deploymentStage }],
      });
      usagePlans.push(plan);
      for (const keyName of tier.createKeys ?? [tier.name]) {
        // No value: API Gateway generates it, so it exists only in API Gateway.
        const key = new apigw.ApiKey(tierScope, keyName, {
          description: `modelship key "${keyName}" of usage plan "${tier.name}"`,
          enabled: true,
        });
        plan.addApiKey(key);
        apiKeys.push(key);
        new CfnOutput(key, 'Id', {
          value: key.keyId,
          description: `Id (not the value) of API key "${keyName}", usage plan "${tier.name}": aws apigateway get-api-key --include-value --api-key <id>`,
        });
      }
      for (const key of tier.importKeys ?? []) plan.addApiKey(key);
    }
    return {
      methodOptions: { authorizationType: apigw.AuthorizationType.NONE, apiKeyRequired: true },
      acknowledgements: [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'Callers authenticate with an API key (apiKeyRequired) tied to a usage plan with throttling and a quota; API keys are the mode this API was configured with',
        },
        NOT_COGNITO,
      ],
      usagePlans,
      apiKeys,
    };
  }
}

class IamAuth extends ApiAuth {
  readonly kind = ApiAuthKind.IAM;

  _openApiSecurity(): SecurityInput {
    return { kind: 'sigv4' };
  }

  _bind(): AuthBinding {
    return {
      methodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      acknowledgements: [NOT_COGNITO],
      usagePlans: [],
      apiKeys: [],
    };
  }
}

/** Where a JWKS file sits in the authorizer's code. */
const JWKS_DIR_IN_ASSET = 'jwks';

/** Three base64url parts: API Gateway refuses anything else before invoking the authorizer. */
const BEARER_JWT = '^[Bb]earer [-_A-Za-z0-9]+\\.[-_A-Za-z0-9]+\\.[-_A-Za-z0-9]+$';

class JwtAuth extends ApiAuth {
  readonly kind = ApiAuthKind.JWT;
  private readonly jwksUri: string;

  _openApiSecurity(): SecurityInput {
    // A token stands for a value known only at deploy time; the document leaves it out rather than print "${Token[...]}".
    return {
      kind: 'jwt',
      issuer: Token.isUnresolved(this.props.issuer) ? undefined : this.props.issuer,
      audience: this.props.audience.some((a) => Token.isUnresolved(a)) ? undefined : this.props.audience,
    };
  }

  constructor(private readonly props: JwtAuthProps) {
    super();
    if (!Token.isUnresolved(props.issuer) && !/^https:\/\/[^\s]+$/.test(props.issuer)) {
      throw new RangeError(`ApiAuth.jwt issuer must be an https URL; got "${props.issuer}"`);
    }
    if (props.audience.length === 0 || props.audience.some((a) => a === '')) {
      throw new RangeError('ApiAuth.jwt audience needs at least one non-empty value');
    }
    this.jwksUri = props.jwksUri ?? `${props.issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
    if (!Token.isUnresolved(this.jwksUri) && !/^https:\/\/[^\s]+$/.test(this.jwksUri)) {
      throw new RangeError(`ApiAuth.jwt jwksUri must be an https URL; got "${this.jwksUri}"`);
    }
  }

  _bind(scope: Construct, _api: apigw.RestApi, profile: Profile = {}): AuthBinding {
    const file = this.props.jwksFile === undefined ? undefined : resolvePath(this.props.jwksFile);
    if (profile.hardening !== undefined && file === undefined) {
      throw new Error(
        `ApiAuth.jwt in the hardened profile needs jwksFile: the authorizer runs in a VPC with no route to the internet, so it cannot fetch ${this.jwksUri}`,
      );
    }
    // Checked now, so that a bad document fails the synth rather than every request.
    if (file !== undefined) readJwksFile(file);
    const handler = handlerFunction(scope, {
      handler: 'jwt-authorizer',
      ids: { logGroup: 'JwtAuthorizerLogGroup', role: 'JwtAuthorizerRole', function: 'JwtAuthorizerFunction' },
      roleDescription: 'JWT authorizer: writes its own log group, nothing else',
      logRetention: profileRetention(profile, undefined, 'the JWT authorizer'),
      profile,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(10),
      description: `Checks bearer JWTs of ${this.props.issuer} for the model API`,
      environment: {
        JWT_ISSUER: this.props.issuer,
        JWT_AUDIENCE: JSON.stringify(this.props.audience),
        ...(file === undefined ? { JWKS_URI: this.jwksUri } : { JWKS_FILE: `/var/task/${JWKS_DIR_IN_ASSET}/${basename(file)}` }),
      },
      bundling: {
        externalModules: [],
        copy: file === undefined ? undefined : { sourceDir: dirname(file), files: [basename(file)], into: JWKS_DIR_IN_ASSET },
      },
    }).function;
    const authorizer = new apigw.TokenAuthorizer(scope, 'JwtAuthorizer', {
      handler,
      identitySource: apigw.IdentitySource.header('Authorization'),
      validationRegex: BEARER_JWT,
      resultsCacheTtl: this.props.resultsCacheTtl ?? Duration.minutes(5),
    });
    return {
      methodOptions: { authorizationType: apigw.AuthorizationType.CUSTOM, authorizer },
      acknowledgements: [NOT_COGNITO],
      usagePlans: [],
      apiKeys: [],
    };
  }
}

class CognitoAuth extends ApiAuth {
  readonly kind = ApiAuthKind.COGNITO;

  _openApiSecurity(): SecurityInput {
    return { kind: 'cognito' };
  }

  constructor(private readonly props: CognitoAuthProps) {
    super();
    if (props.userPools.length === 0) throw new RangeError('ApiAuth.cognito needs at least one user pool');
  }

  _bind(scope: Construct): AuthBinding {
    const authorizer = new apigw.CognitoUserPoolsAuthorizer(scope, 'CognitoAuthorizer', { cognitoUserPools: [...this.props.userPools] });
    return {
      methodOptions: {
        authorizationType: apigw.AuthorizationType.COGNITO,
        authorizer,
        ...(this.props.scopes ? { authorizationScopes: [...this.props.scopes] } : {}),
      },
      acknowledgements: [],
      usagePlans: [],
      apiKeys: [],
    };
  }
}
