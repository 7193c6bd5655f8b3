/**
 * What the `hardened` and `alarmTopic` properties every construct takes come down to: the stack's
 * Hardening (lib/constructs/hardening.ts) when the profile is on, and the topic alarms notify. One place
 * turns them into log groups, log retentions and alarm actions, so that the profile means the same on
 * every construct.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { Hardening, HARDENED_MIN_LOG_RETENTION } from '../hardening';

/** The two properties, as each construct takes them. */
export interface ProfileProps {
  /**
   * The hardened profile: encrypted year-long logs, X-Ray, functions in a VPC, every alarm on a topic
   * (see Hardening).
   * @default false
   */
  readonly hardened?: boolean;
  /**
   * A topic every alarm of the construct notifies, on alarm and on return to OK.
   * @default - none; with `hardened`, the profile's encrypted topic
   */
  readonly alarmTopic?: sns.ITopic;
}

export interface Profile {
  readonly hardening?: Hardening;
  readonly alarmTopic?: sns.ITopic;
}

export function resolveProfile(scope: Construct, props: ProfileProps): Profile {
  const hardening = props.hardened ? Hardening.of(scope) : undefined;
  return { hardening, alarmTopic: props.alarmTopic ?? hardening?.alarmTopic };
}

/** The retention a log group gets: `given`, or the default; under the profile, a year at least. */
export function logRetention(profile: Profile, given: logs.RetentionDays | undefined, what: string): logs.RetentionDays {
  if (profile.hardening === undefined) return given ?? logs.RetentionDays.ONE_MONTH;
  if (given === undefined) return HARDENED_MIN_LOG_RETENTION;
  if (given !== logs.RetentionDays.INFINITE && given < HARDENED_MIN_LOG_RETENTION) {
    throw new RangeError(
      `${what}: the hardened profile keeps logs at least ${HARDENED_MIN_LOG_RETENTION} days (Control Tower CT.CLOUDWATCH.PR.2); got ${given}`,
    );
  }
  return given;
}

/** A log group, encrypted with the profile's key when hardened. */
export function profileLogGroup(scope: Construct, id: string, profile: Profile, retention: logs.RetentionDays): logs.LogGroup {
  return profile.hardening?.logGroup(scope, id, retention) ?? new logs.LogGroup(scope, id, { retention });
}

/** Every alarm notifies the topic, going into alarm and coming back to OK. */
export function notifyAlarms(profile: Profile, alarms: readonly cloudwatch.Alarm[]): void {
  const topic = profile.alarmTopic;
  if (topic === undefined) return;
  const action = new cwActions.SnsAction(topic);
  for (const alarm of alarms) {
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
  }
}
