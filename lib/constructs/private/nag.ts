/**
 * cdk-nag acknowledgements, each with the reason the finding does not apply. They sit on the construct
 * that causes the finding, so that any stack built from modelship's constructs starts with zero findings.
 */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface Acknowledgement {
  /** The rule, or one finding of it: 'AwsSolutions-APIG4', 'AwsSolutions-IAM5[Resource::*]'. */
  readonly id: string;
  /** Why the finding is acknowledged: shown in every report. */
  readonly reason: string;
}

/** Acknowledges findings on a construct and everything under it. */
export function acknowledge(construct: IConstruct, acknowledgements: readonly Acknowledgement[]): void {
  Validations.of(construct).acknowledge(...acknowledgements.map((a) => ({ id: a.id, reason: a.reason })));
}
