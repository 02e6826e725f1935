/**
 * EventBridge envelope and one detail schema per event kind Sundown consumes (aws-facts §1).
 * AWS detail schemas are loose (AWS adds fields over time; we only name what we read); Sundown's
 * own custom events are strict so unexpected members, secrets above all, are refused.
 */
import { z } from 'zod';

export const EVENT_SOURCES = {
  ec2: 'aws.ec2',
  autoscaling: 'aws.autoscaling',
  ecs: 'aws.ecs',
  batch: 'aws.batch',
  lambda: 'aws.lambda',
  codebuild: 'aws.codebuild',
  guardduty: 'aws.guardduty',
  sundown: 'sundown',
} as const;

export const DETAIL_TYPES = {
  ec2StateChange: 'EC2 Instance State-change Notification',
  autoscalingTerminate: 'EC2 Instance Terminate Successful',
  ecsTaskStateChange: 'ECS Task State Change',
  batchJobStateChange: 'Batch Job State Change',
  cloudTrailApiCall: 'AWS API Call via CloudTrail',
  codeBuildStateChange: 'CodeBuild Build State Change',
  guardDutyFinding: 'GuardDuty Finding',
  workloadEnded: 'Workload Ended',
  credentialIssued: 'Credential Issued',
} as const;

/** GuardDuty finding types that mean an instance's role credentials were used elsewhere. */
export const CREDENTIAL_EXFILTRATION_FINDINGS = [
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
] as const;

export const IsoDateTimeSchema = z.iso.datetime({ offset: true });
const Str = z.string().min(1).max(2048);

/**
 * The envelope. `account` is optional because the local emulator (moto) omits it; `resources` may
 * be missing in moto deliveries too and defaults to [].
 */
export const EventEnvelopeSchema = z.object({
  version: z.string().max(16).optional(),
  id: z.string().min(1).max(256),
  'detail-type': z.string().min(1).max(256),
  source: z.string().min(1).max(256),
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  time: IsoDateTimeSchema,
  region: z.string().regex(/^[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}$/),
  resources: z.array(z.string().max(2048)).max(100).default([]),
  detail: z.unknown(),
});
export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;

/** Where a classification came from; copied into audit and registry records. */
export const TriggerSchema = z.object({
  eventId: z.string().max(256).optional(),
  source: z.string().max(256).optional(),
  detailType: z.string().max(256).optional(),
  account: z.string().max(256).optional(),
  region: z.string().max(256).optional(),
  busName: z.string().max(256).optional(),
});
export type Trigger = z.infer<typeof TriggerSchema>;

export const EC2_INSTANCE_STATES = [
  'pending',
  'running',
  'stopping',
  'stopped',
  'shutting-down',
  'terminated',
] as const;

export const Ec2StateChangeDetailSchema = z.looseObject({
  'instance-id': Str,
  state: z.enum(EC2_INSTANCE_STATES),
});

export const AutoScalingTerminateDetailSchema = z.looseObject({
  EC2InstanceId: Str,
  AutoScalingGroupName: Str.optional(),
  ActivityId: Str.optional(),
  StatusCode: Str.optional(),
  Cause: z.string().max(4096).optional(),
});

export const EcsTaskStateChangeDetailSchema = z.looseObject({
  taskArn: Str,
  clusterArn: Str.optional(),
  lastStatus: Str,
  desiredStatus: Str.optional(),
  group: Str.optional(),
  startedBy: Str.optional(),
  stoppedReason: z.string().max(4096).optional(),
  stopCode: Str.optional(),
  taskDefinitionArn: Str.optional(),
  launchType: Str.optional(),
  overrides: z.looseObject({ taskRoleArn: Str.optional() }).optional(),
  version: z.number().int().optional(),
});

export const BatchJobStateChangeDetailSchema = z.looseObject({
  jobArn: Str,
  jobId: Str.optional(),
  jobName: Str.optional(),
  jobQueue: Str.optional(),
  status: Str,
  statusReason: z.string().max(4096).optional(),
  container: z.looseObject({ taskArn: Str.optional(), jobRoleArn: Str.optional() }).optional(),
});

/** CloudTrail records Lambda API calls; `requestParameters`/`responseElements` are null on errors. */
export const LambdaCloudTrailDetailSchema = z.looseObject({
  eventSource: Str,
  eventName: Str,
  eventTime: Str.optional(),
  awsRegion: Str.optional(),
  recipientAccountId: Str.optional(),
  errorCode: Str.optional(),
  requestParameters: z
    .looseObject({ functionName: Str.optional(), role: Str.optional(), qualifier: Str.optional() })
    .nullish(),
  responseElements: z.looseObject({ functionArn: Str.optional(), role: Str.optional() }).nullish(),
});

export const CodeBuildStateChangeDetailSchema = z.looseObject({
  'build-status': Str,
  'build-id': Str,
  'project-name': Str.optional(),
});

export const GuardDutyFindingDetailSchema = z.looseObject({
  type: Str,
  id: Str.optional(),
  accountId: Str.optional(),
  region: Str.optional(),
  severity: z.number().optional(),
  resource: z
    .looseObject({
      resourceType: Str.optional(),
      instanceDetails: z.looseObject({ instanceId: Str.optional() }).nullish(),
      accessKeyDetails: z
        .looseObject({
          accessKeyId: Str.optional(),
          principalId: Str.optional(),
          userName: Str.optional(),
          userType: Str.optional(),
        })
        .nullish(),
    })
    .optional(),
});

/** `sundown` / `Workload Ended`: anyone with PutEvents on the bus can ask for a workload's end. */
export const WorkloadEndedDetailSchema = z.strictObject({
  workloadId: Str,
  reason: z.string().max(4096).optional(),
  compromised: z.boolean().optional(),
  dryRun: z.boolean().optional(),
  /** Limit the revocation to these credentials of the workload (`sundown revoke --credential`). */
  credentialIds: z
    .array(z.string().regex(/^(?:rs|ak|ct)-[0-9a-f]{24}$/, { message: 'must be a Sundown credential ID' }))
    .min(1)
    .max(100)
    .optional(),
});
export type WorkloadEndedDetail = z.infer<typeof WorkloadEndedDetailSchema>;

// The `Credential Issued` detail is `CredentialIssuedDetailSchema` in credential.ts (which imports
// `TriggerSchema` from here, so this module must not import it back).
