/**
 * How a SageMaker blue/green deployment moves traffic: the capacity of each step and the routing that
 * steps it. Kept apart from SageMakerModel, as aws-codedeploy keeps its deployment configs apart from
 * its deployment groups.
 */
import { Duration } from 'aws-cdk-lib';
import type * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { checkDuration, checkInteger } from './private/validate';

/** How much capacity one step of a SageMaker blue/green deployment moves. */
export class SageMakerCapacity {
  /** A share of the new fleet, 1 to 100 percent (rounded up to whole instances by SageMaker). */
  static percent(value: number): SageMakerCapacity {
    checkInteger('SageMakerCapacity.percent', value, 1, 100);
    return new SageMakerCapacity('CAPACITY_PERCENT', value);
  }

  /** A number of instances. */
  static instances(value: number): SageMakerCapacity {
    checkInteger('SageMakerCapacity.instances', value, 1, 10_000);
    return new SageMakerCapacity('INSTANCE_COUNT', value);
  }

  private constructor(
    /** CAPACITY_PERCENT or INSTANCE_COUNT. */
    readonly type: 'CAPACITY_PERCENT' | 'INSTANCE_COUNT',
    readonly value: number,
  ) {}
}

/** Options of {@link SageMakerTrafficRouting.canary} and {@link SageMakerTrafficRouting.linear}. */
export interface SageMakerTrafficStepProps {
  /** Capacity of the canary, or of each linear step. */
  readonly size: SageMakerCapacity;
  /** How long SageMaker waits, watching the alarms, before the next step. */
  readonly waitInterval: Duration;
}

/** How a blue/green deployment shifts traffic to the new fleet (TrafficRoutingConfiguration). */
export class SageMakerTrafficRouting {
  /** 10% of capacity first, the rest after 5 minutes without an alarm. */
  static readonly CANARY_10PERCENT_5MINUTES = SageMakerTrafficRouting.canary({
    size: SageMakerCapacity.percent(10),
    waitInterval: Duration.minutes(5),
  });
  /** 10% more capacity every 5 minutes without an alarm. */
  static readonly LINEAR_10PERCENT_EVERY_5MINUTES = SageMakerTrafficRouting.linear({
    size: SageMakerCapacity.percent(10),
    waitInterval: Duration.minutes(5),
  });

  /** One canary step of `size`, then the rest after `waitInterval`. */
  static canary(props: SageMakerTrafficStepProps): SageMakerTrafficRouting {
    return SageMakerTrafficRouting.stepped('CANARY', 'canarySize', props);
  }

  /** Steps of `size`, each after `waitInterval`. */
  static linear(props: SageMakerTrafficStepProps): SageMakerTrafficRouting {
    return SageMakerTrafficRouting.stepped('LINEAR', 'linearStepSize', props);
  }

  /** Everything at once, then `waitInterval` of watching the alarms before the old fleet goes. */
  static allAtOnce(waitInterval: Duration = Duration.minutes(5)): SageMakerTrafficRouting {
    checkDuration('waitInterval', waitInterval, 3600);
    return new SageMakerTrafficRouting({ type: 'ALL_AT_ONCE', waitIntervalInSeconds: waitInterval.toSeconds() });
  }

  private static stepped(
    type: 'CANARY' | 'LINEAR',
    sizeField: 'canarySize' | 'linearStepSize',
    props: SageMakerTrafficStepProps,
  ): SageMakerTrafficRouting {
    checkDuration('waitInterval', props.waitInterval, 3600);
    return new SageMakerTrafficRouting({
      type,
      [sizeField]: { type: props.size.type, value: props.size.value },
      waitIntervalInSeconds: props.waitInterval.toSeconds(),
    });
  }

  private constructor(
    /** The CloudFormation TrafficRoutingConfiguration. */
    readonly config: sagemaker.CfnEndpoint.TrafficRoutingConfigProperty,
  ) {}
}
