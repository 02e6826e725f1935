/**
 * Every trigger Sundown acts on, one module each. The runtime classifies an event through this
 * list (classify.ts) and lib/event-patterns.ts builds the EventBridge rules from it, so adding a
 * trigger is one file in this folder and one line here (CONTRIBUTING.md, "Adding a trigger").
 * The order is the order the rules are created in; append new triggers at the end.
 *
 * This is also the triggers' public face: the envelope, each trigger's detail schema and the
 * classification's types. `classifyEvent` itself is in classify.ts (it reads this list, so this
 * module cannot re-export it without an import cycle).
 */
import { autoScalingTerminate } from './autoscaling.ts';
import { batchJobStateChange } from './batch.ts';
import { codeBuildStateChange } from './codebuild.ts';
import { sundownCredentialIssued } from './credential-issued.ts';
import { ec2InstanceStateChange } from './ec2.ts';
import { ecsTaskStateChange } from './ecs.ts';
import { guardDutyFinding } from './guardduty.ts';
import { lambdaFunctionApiCall } from './lambda.ts';
import type { TriggerModule } from './trigger.ts';
import { sundownWorkloadEnded } from './workload-ended.ts';

export const TRIGGERS: readonly TriggerModule[] = [
  ec2InstanceStateChange,
  autoScalingTerminate,
  ecsTaskStateChange,
  batchJobStateChange,
  lambdaFunctionApiCall,
  codeBuildStateChange,
  guardDutyFinding,
  sundownWorkloadEnded,
  sundownCredentialIssued,
];

const key = (source: string, detailType: string) => JSON.stringify([source, detailType]);
const BY_EVENT = new Map(TRIGGERS.map((t) => [key(t.source, t.detailType), t] as const));
if (BY_EVENT.size !== TRIGGERS.length) throw new Error('two triggers name the same source and detail-type');

/** The trigger of an event with this source and detail-type, if Sundown has one. */
export function triggerFor(source: string, detailType: string): TriggerModule | undefined {
  return BY_EVENT.get(key(source, detailType));
}

export { AutoScalingTerminateDetailSchema } from './autoscaling.ts';
export { BatchJobStateChangeDetailSchema } from './batch.ts';
export { CodeBuildStateChangeDetailSchema } from './codebuild.ts';
export { EC2_INSTANCE_STATES, Ec2StateChangeDetailSchema } from './ec2.ts';
export { EcsTaskStateChangeDetailSchema } from './ecs.ts';
export {
  type EventEnvelope,
  EventEnvelopeSchema,
  IsoDateTimeSchema,
  type Trigger,
  TriggerSchema,
} from './envelope.ts';
export { CREDENTIAL_EXFILTRATION_FINDINGS, GuardDutyFindingDetailSchema } from './guardduty.ts';
export { CLOUDTRAIL_API_CALL, LambdaCloudTrailDetailSchema } from './lambda.ts';
export type { Classification, ClassifyContext, RoleHint } from './shared.ts';
export type { PatternOptions, RulePattern, TriggerModule, TriggerRule } from './trigger.ts';
export { type WorkloadEndedDetail, WorkloadEndedDetailSchema } from './workload-ended.ts';
