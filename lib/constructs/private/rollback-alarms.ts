/**
 * The two alarms that roll a deployment back, the same for every backend that has them: errors, which
 * fire on the first bad minute, and p99 latency, which must exceed its threshold in two of three
 * minutes, so that one slow cold start does not undo a good version. Missing data never fires: a
 * model without traffic is not failing.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

export interface RollbackAlarmProps {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly description: string;
}

export interface RollbackAlarms {
  readonly errorsAlarm: cloudwatch.Alarm;
  readonly latencyAlarm: cloudwatch.Alarm;
}

/** Alarms `ErrorsAlarm` (at or over its threshold, one minute) and `LatencyAlarm` (over, two of three). */
export function rollbackAlarms(
  scope: Construct,
  props: { readonly errors: RollbackAlarmProps; readonly latency: RollbackAlarmProps },
): RollbackAlarms {
  const errorsAlarm = new cloudwatch.Alarm(scope, 'ErrorsAlarm', {
    metric: props.errors.metric,
    threshold: props.errors.threshold,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: props.errors.description,
  });
  const latencyAlarm = new cloudwatch.Alarm(scope, 'LatencyAlarm', {
    metric: props.latency.metric,
    threshold: props.latency.threshold,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: props.latency.description,
  });
  return { errorsAlarm, latencyAlarm };
}
