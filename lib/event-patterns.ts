import * as events from 'aws-cdk-lib/aws-events';

/**
 * The EventBridge patterns of Sundown's triggers, kept apart from the
 * constructs so tests can check them against the documented event formats.
 */

/**
 * Every `build-status` a completed build reports (CodeBuild's StatusType but IN_PROGRESS): a build
 * that ends FAULT or TIMED_OUT held credentials as much as one that SUCCEEDED.
 */
export const CODEBUILD_COMPLETED_STATUSES = ['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED'] as const;

/** Workload-end events from AWS services, on the default bus. */
export function workloadEndPatterns(opts: {
  stoppedEndsWorkload: boolean;
}): Record<string, events.EventPattern> {
  return {
    Ec2InstanceEnded: {
      source: ['aws.ec2'],
      detailType: ['EC2 Instance State-change Notification'],
      detail: { state: ['shutting-down', 'terminated', ...(opts.stoppedEndsWorkload ? ['stopped'] : [])] },
    },
    AutoScalingTerminated: {
      source: ['aws.autoscaling'],
      detailType: ['EC2 Instance Terminate Successful'],
    },
    EcsTaskStopped: {
      source: ['aws.ecs'],
      detailType: ['ECS Task State Change'],
      detail: { lastStatus: ['STOPPED'] },
    },
    BatchJobEnded: {
      source: ['aws.batch'],
      detailType: ['Batch Job State Change'],
      detail: { status: ['SUCCEEDED', 'FAILED'] },
    },
    LambdaFunctionDeleted: {
      source: ['aws.lambda'],
      detailType: ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['lambda.amazonaws.com'],
        eventName: ['DeleteFunction', 'DeleteFunction20150331'],
      },
    },
    CodeBuildEnded: {
      source: ['aws.codebuild'],
      detailType: ['CodeBuild Build State Change'],
      detail: { 'build-status': [...CODEBUILD_COMPLETED_STATUSES] },
    },
    GuardDutyCredentialExfiltration: {
      source: ['aws.guardduty'],
      detailType: ['GuardDuty Finding'],
      detail: {
        type: [
          'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
          'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
        ],
      },
    },
  };
}

/** Workload-start events (discovery of credentials issued without the broker), on the default bus. */
export function workloadStartPatterns(): Record<string, events.EventPattern> {
  return {
    Ec2InstanceRunning: {
      source: ['aws.ec2'],
      detailType: ['EC2 Instance State-change Notification'],
      detail: { state: ['running'] },
    },
    EcsTaskRunning: {
      source: ['aws.ecs'],
      detailType: ['ECS Task State Change'],
      detail: { lastStatus: ['RUNNING'] },
    },
    BatchJobRunning: {
      source: ['aws.batch'],
      detailType: ['Batch Job State Change'],
      detail: { status: ['STARTING', 'RUNNING'] },
    },
    LambdaFunctionConfigured: {
      source: ['aws.lambda'],
      detailType: ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['lambda.amazonaws.com'],
        eventName: [
          'CreateFunction',
          'CreateFunction20150331',
          'UpdateFunctionConfiguration',
          'UpdateFunctionConfiguration20150331v2',
        ],
      },
    },
    CodeBuildStarted: {
      source: ['aws.codebuild'],
      detailType: ['CodeBuild Build State Change'],
      detail: { 'build-status': ['IN_PROGRESS'] },
    },
  };
}

/** Source of the audit events Sundown publishes on its own bus. */
export { AUDIT_EVENT_SOURCE } from '../lambdas/shared/contract.ts';

import { AUDIT_EVENT_SOURCE, SUNDOWN_EVENT_SOURCE } from '../lambdas/shared/contract.ts';

/**
 * Everything on Sundown's own bus but its own audit events goes to one queue;
 * the handler accepts only source `sundown` there and audits anything else as
 * rejected (an AWS-looking event on a custom bus is a spoofing attempt).
 */
export const SUNDOWN_BUS_CATCH_ALL: events.EventPattern = {
  source: events.Match.anythingBut(AUDIT_EVENT_SOURCE),
};

/**
 * A hub's bus (issue 19): everything but AWS events goes to the requests queue. Spokes forward only
 * source `sundown` there; anything else a spoke principal puts on the hub bus (a `sundown.audit`
 * forgery, another source) reaches the handler too, which rejects and audits it. AWS events (the
 * `aws.` prefix is reserved to AWS) are matched by the end and start rules instead.
 */
export const HUB_BUS_REQUESTS: events.EventPattern = {
  source: events.Match.anythingButPrefix('aws.'),
};

export const SUNDOWN_SOURCE = SUNDOWN_EVENT_SOURCE;
export const DETAIL_TYPES = {
  workloadEnded: 'Workload Ended',
  credentialIssued: 'Credential Issued',
} as const;
