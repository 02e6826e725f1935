/**
 * The EventBridge envelope and every trigger's detail schema, at the import point of Sundown's
 * schemas (index.ts). Each is defined with its trigger, one file per trigger in lambdas/triggers/
 * (aws-facts §1); this module only gathers them. AWS detail schemas are loose (AWS adds fields over
 * time; we only name what we read); Sundown's own custom events are strict so unexpected members,
 * secrets above all, are refused.
 */
import { autoScalingTerminate } from '../../triggers/autoscaling.ts';
import { batchJobStateChange } from '../../triggers/batch.ts';
import { codeBuildStateChange } from '../../triggers/codebuild.ts';
import { sundownCredentialIssued } from '../../triggers/credential-issued.ts';
import { ec2InstanceStateChange } from '../../triggers/ec2.ts';
import { ecsTaskStateChange } from '../../triggers/ecs.ts';
import { guardDutyFinding } from '../../triggers/guardduty.ts';
import { CLOUDTRAIL_API_CALL, lambdaFunctionApiCall } from '../../triggers/lambda.ts';
import { sundownWorkloadEnded } from '../../triggers/workload-ended.ts';
import { SUNDOWN_EVENT_SOURCE } from '../contract.ts';

export { AutoScalingTerminateDetailSchema } from '../../triggers/autoscaling.ts';
export { BatchJobStateChangeDetailSchema } from '../../triggers/batch.ts';
export { CodeBuildStateChangeDetailSchema } from '../../triggers/codebuild.ts';
export { EC2_INSTANCE_STATES, Ec2StateChangeDetailSchema } from '../../triggers/ec2.ts';
export { EcsTaskStateChangeDetailSchema } from '../../triggers/ecs.ts';
export {
  type EventEnvelope,
  EventEnvelopeSchema,
  IsoDateTimeSchema,
  type Trigger,
  TriggerSchema,
} from '../../triggers/envelope.ts';
export { CREDENTIAL_EXFILTRATION_FINDINGS, GuardDutyFindingDetailSchema } from '../../triggers/guardduty.ts';
export { LambdaCloudTrailDetailSchema } from '../../triggers/lambda.ts';
export { type WorkloadEndedDetail, WorkloadEndedDetailSchema } from '../../triggers/workload-ended.ts';

export const EVENT_SOURCES = {
  ec2: ec2InstanceStateChange.source,
  autoscaling: autoScalingTerminate.source,
  ecs: ecsTaskStateChange.source,
  batch: batchJobStateChange.source,
  lambda: lambdaFunctionApiCall.source,
  codebuild: codeBuildStateChange.source,
  guardduty: guardDutyFinding.source,
  sundown: SUNDOWN_EVENT_SOURCE,
} as const;

export const DETAIL_TYPES = {
  ec2StateChange: ec2InstanceStateChange.detailType,
  autoscalingTerminate: autoScalingTerminate.detailType,
  ecsTaskStateChange: ecsTaskStateChange.detailType,
  batchJobStateChange: batchJobStateChange.detailType,
  cloudTrailApiCall: CLOUDTRAIL_API_CALL,
  codeBuildStateChange: codeBuildStateChange.detailType,
  guardDutyFinding: guardDutyFinding.detailType,
  workloadEnded: sundownWorkloadEnded.detailType,
  credentialIssued: sundownCredentialIssued.detailType,
} as const;
