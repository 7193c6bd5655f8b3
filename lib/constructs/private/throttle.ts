/**
 * Throttles: the one check every throttle setting passes (stage, model routes, usage plans), and the
 * stage method settings that give one model's routes a throttle of their own.
 */
import { Lazy } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import { checkInteger, checkPositive } from './validate';

/** API Gateway's largest burst. */
const MAX_BURST = 5000;

/**
 * Both limits, checked: API Gateway would take a rate without a burst and quietly apply its account
 * default to the other.
 */
export function checkThrottle(owner: string, throttle: apigw.ThrottleSettings, field = 'throttle'): Required<apigw.ThrottleSettings> {
  if (throttle.rateLimit === undefined || throttle.burstLimit === undefined) {
    throw new RangeError(`${owner} needs both ${field}.rateLimit and ${field}.burstLimit`);
  }
  checkPositive(`${owner} ${field}.rateLimit`, throttle.rateLimit);
  checkInteger(`${owner} ${field}.burstLimit`, throttle.burstLimit, 1, MAX_BURST);
  return { rateLimit: throttle.rateLimit, burstLimit: throttle.burstLimit };
}

/** A stage method setting's resource path: every slash of the path is written ~1, after a leading '/'. */
function methodSettingPath(path: string): string {
  return `/${path.replace(/\//g, '~1')}`;
}

/**
 * Per-method throttles, appended to the stage's own method settings when the template is written: the
 * stage exists before any model's methods do.
 */
export class MethodThrottles {
  private readonly settings: apigw.CfnStage.MethodSettingProperty[] = [];

  constructor(cfnStage: apigw.CfnStage) {
    const stageSettings = cfnStage.methodSettings as apigw.CfnStage.MethodSettingProperty[];
    cfnStage.methodSettings = Lazy.any({ produce: () => [...stageSettings, ...this.settings] });
  }

  add(method: apigw.Method, throttle: Required<apigw.ThrottleSettings>): void {
    this.settings.push({
      resourcePath: methodSettingPath(method.resource.path),
      httpMethod: method.httpMethod,
      throttlingRateLimit: throttle.rateLimit,
      throttlingBurstLimit: throttle.burstLimit,
    });
  }
}
