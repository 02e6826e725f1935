import { CredentialIssuedDetailSchema, findSecretLikeKeys } from '../schemas/credential.ts';
import {
  AutoScalingTerminateDetailSchema,
  BatchJobStateChangeDetailSchema,
  CodeBuildStateChangeDetailSchema,
  CREDENTIAL_EXFILTRATION_FINDINGS,
  DETAIL_TYPES,
  Ec2StateChangeDetailSchema,
  EcsTaskStateChangeDetailSchema,
  EVENT_SOURCES,
  EventEnvelopeSchema,
  GuardDutyFindingDetailSchema,
  LambdaCloudTrailDetailSchema,
  WorkloadEndedDetailSchema,
} from '../schemas/events.ts';
import {
  InvalidWorkloadIdError,
  normalizeWorkloadId,
  partitionForRegion,
  sessionNameForWorkload,
  UNKNOWN_SESSION_NAME,
  type Workload,
} from './workload-id.ts';

export type { Trigger } from '../schemas/events.ts';
export type { Classification, ClassifyContext, RoleHint } from './classification.ts';

import {
  type Classification,
  type ClassifyContext,
  checkAccounts,
  describe,
  detail,
  type Env,
  ec2Workload,
  ended,
  expectKind,
  ignored,
  quote,
  Reject,
  sanitizeReason,
  started,
  sundownWorkload,
  triggerOf,
  validRoleArn,
} from './classification.ts';

export function classifyEvent(event: unknown, ctx: ClassifyContext = {}): Classification {
  const trigger = triggerOf(event, ctx);
  try {
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      return { kind: 'rejected', reason: 'event is not a JSON object', trigger };
    }
    const parsed = EventEnvelopeSchema.safeParse(event);
    if (!parsed.success) throw new Reject(`invalid event envelope: ${describe(parsed.error)}`);
    const envelope = parsed.data;
    const env: Env = { envelope, ctx, trigger, time: new Date(envelope.time).toISOString() };
    return checkAccounts(env, dispatch(env));
  } catch (error) {
    if (error instanceof Reject || error instanceof InvalidWorkloadIdError) {
      return { kind: 'rejected', reason: error.message, trigger };
    }
    return {
      kind: 'rejected',
      reason: `event could not be classified: ${String(error)}`.slice(0, 512),
      trigger,
    };
  }
}

function dispatch(env: Env): Classification {
  const { source } = env.envelope;
  const detailType = env.envelope['detail-type'];
  const is = (s: string, d: string) => source === s && detailType === d;
  if (is(EVENT_SOURCES.ec2, DETAIL_TYPES.ec2StateChange)) return ec2StateChange(env);
  if (is(EVENT_SOURCES.autoscaling, DETAIL_TYPES.autoscalingTerminate)) return autoScalingTerminate(env);
  if (is(EVENT_SOURCES.ecs, DETAIL_TYPES.ecsTaskStateChange)) return ecsTaskStateChange(env);
  if (is(EVENT_SOURCES.batch, DETAIL_TYPES.batchJobStateChange)) return batchJobStateChange(env);
  if (is(EVENT_SOURCES.lambda, DETAIL_TYPES.cloudTrailApiCall)) return lambdaApiCall(env);
  if (is(EVENT_SOURCES.codebuild, DETAIL_TYPES.codeBuildStateChange)) return codeBuildStateChange(env);
  if (is(EVENT_SOURCES.guardduty, DETAIL_TYPES.guardDutyFinding)) return guardDutyFinding(env);
  if (is(EVENT_SOURCES.sundown, DETAIL_TYPES.workloadEnded)) return sundownWorkloadEnded(env);
  if (is(EVENT_SOURCES.sundown, DETAIL_TYPES.credentialIssued)) return sundownCredentialIssued(env);
  // Our own namespace with an unknown type is a mistake worth auditing; anything else is noise.
  if (source === EVENT_SOURCES.sundown) {
    throw new Reject(
      `unknown sundown detail-type ${quote(detailType)}; expected Workload Ended or Credential Issued`,
    );
  }
  return ignored(env, `unsupported event ${quote(source)} / ${quote(detailType)}`);
}

function ec2StateChange(env: Env): Classification {
  const d = detail(env, Ec2StateChangeDetailSchema);
  const state = d.state;
  if (state === 'shutting-down' || state === 'terminated') {
    return ended(env, ec2Workload(env, d['instance-id']), `ec2:${state}`);
  }
  if (state === 'stopped') {
    if (!env.ctx.stoppedEndsWorkload)
      return ignored(env, 'ec2 instance stopped; stop does not end the workload');
    // A stopped instance restarts under the same ID, so its session name will come back.
    const workload = { ...ec2Workload(env, d['instance-id']), reusableSessionName: true };
    return ended(env, workload, 'ec2:stopped');
  }
  if (state === 'running') return started(env, ec2Workload(env, d['instance-id']));
  return ignored(env, `ec2 instance state ${state} is transitional`);
}

function autoScalingTerminate(env: Env): Classification {
  const d = detail(env, AutoScalingTerminateDetailSchema);
  return ended(env, ec2Workload(env, d.EC2InstanceId), 'autoscaling:terminate-successful');
}

function ecsTaskStateChange(env: Env): Classification {
  const d = detail(env, EcsTaskStateChangeDetailSchema);
  const workload = expectKind(normalizeWorkloadId(d.taskArn), 'ecs', d.taskArn);
  if (d.lastStatus === 'STOPPED') {
    return ended(env, workload, `ecs:${d.stopCode ?? 'stopped'}`, {
      roleHint: { roleArn: validRoleArn(d.overrides?.taskRoleArn), taskDefinitionArn: d.taskDefinitionArn },
    });
  }
  if (d.lastStatus === 'RUNNING') {
    if (d.desiredStatus === 'STOPPED') return ignored(env, 'ecs task is running but already desired STOPPED');
    return started(env, workload, {
      roleArn: validRoleArn(d.overrides?.taskRoleArn),
      taskDefinitionArn: d.taskDefinitionArn,
    });
  }
  return ignored(env, `ecs task status ${d.lastStatus} is neither RUNNING nor STOPPED`);
}

function batchJobStateChange(env: Env): Classification {
  const d = detail(env, BatchJobStateChangeDetailSchema);
  const job = expectKind(normalizeWorkloadId(d.jobArn), 'batch', d.jobArn);
  const taskArn = d.container?.taskArn;
  if (d.status === 'SUCCEEDED' || d.status === 'FAILED') {
    // Without a task ARN the session name stays UNKNOWN_SESSION_NAME; the caller resolves it.
    let sessionName = UNKNOWN_SESSION_NAME;
    try {
      sessionName = sessionNameForWorkload(job, { batchTaskArn: taskArn });
    } catch {
      // A malformed task ARN must not lose the end of the job.
    }
    return ended(env, { ...job, sessionName }, `batch:${d.status}`, {
      roleHint: { roleArn: validRoleArn(d.container?.jobRoleArn) },
    });
  }
  if (d.status === 'RUNNING' || d.status === 'STARTING') {
    if (!taskArn) return ignored(env, `batch job ${d.status} has no container.taskArn yet`);
    const sessionName = sessionNameForWorkload(job, { batchTaskArn: taskArn });
    return started(env, { ...job, sessionName }, { roleArn: validRoleArn(d.container?.jobRoleArn) });
  }
  return ignored(env, `batch job status ${d.status} neither starts nor ends a container`);
}

/**
 * CloudTrail suffixes Lambda event names with the API version, sometimes plus `v2`
 * (`DeleteFunction20150331`, `UpdateFunctionConfiguration20150331v2`); plain names appear too.
 */
export const LAMBDA_DELETE_EVENT = /^DeleteFunction(?:\d{8}(?:v\d+)?)?$/;
export const LAMBDA_START_EVENT = /^(?:CreateFunction|UpdateFunctionConfiguration)(?:\d{8}(?:v\d+)?)?$/;

function lambdaApiCall(env: Env): Classification {
  const d = detail(env, LambdaCloudTrailDetailSchema);
  if (d.eventSource !== 'lambda.amazonaws.com')
    return ignored(env, `cloudtrail event from ${quote(d.eventSource)}`);
  if (d.errorCode) return ignored(env, `lambda ${d.eventName} failed with ${d.errorCode}; nothing changed`);
  const isDelete = LAMBDA_DELETE_EVENT.test(d.eventName);
  if (!isDelete && !LAMBDA_START_EVENT.test(d.eventName))
    return ignored(env, `lambda ${d.eventName} is not tracked`);
  const ref = d.responseElements?.functionArn ?? d.requestParameters?.functionName;
  if (!ref) throw new Reject(`lambda ${d.eventName} event names no function`);
  const account = d.recipientAccountId ?? env.envelope.account ?? env.ctx.account;
  const region = d.awsRegion ?? env.envelope.region;
  const { workload, qualifier } = lambdaFunction(ref, account, region, env.ctx.partition);
  if (isDelete) {
    const q = qualifier ?? d.requestParameters?.qualifier;
    if (q) return ignored(env, `lambda DeleteFunction removed only version or alias ${quote(q)}`);
    return ended(env, workload, 'lambda:DeleteFunction');
  }
  return started(env, workload, {
    roleArn: validRoleArn(d.requestParameters?.role ?? d.responseElements?.role),
  });
}

/** `functionName` may be a name, `account:function:name` or a full ARN, each with `:qualifier`. */
function lambdaFunction(
  ref: string,
  account: string | undefined,
  region: string,
  partition: string | undefined,
): { workload: Workload; qualifier?: string } {
  let full = ref;
  if (!ref.startsWith('arn:')) {
    const partial = /^(\d{12}):function:(.+)$/.exec(ref);
    const acct = partial?.[1] ?? account;
    if (!acct) throw new Reject(`lambda function ${quote(ref)} needs an account and the event has none`);
    full = `arn:${partition ?? partitionForRegion(region)}:lambda:${region}:${acct}:function:${partial?.[2] ?? ref}`;
  }
  const workload = expectKind(normalizeWorkloadId(full), 'lambda', ref);
  const qualifier = full.split(':')[7];
  return qualifier ? { workload, qualifier } : { workload };
}

const CODEBUILD_ENDED = new Set(['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);

function codeBuildStateChange(env: Env): Classification {
  const d = detail(env, CodeBuildStateChangeDetailSchema);
  const status = d['build-status'];
  const workload = expectKind(normalizeWorkloadId(d['build-id']), 'codebuild', d['build-id']);
  if (CODEBUILD_ENDED.has(status)) return ended(env, workload, `codebuild:${status}`);
  if (status === 'IN_PROGRESS') return started(env, workload);
  return ignored(env, `codebuild build status ${status} is not tracked`);
}

function guardDutyFinding(env: Env): Classification {
  const d = detail(env, GuardDutyFindingDetailSchema);
  if (!(CREDENTIAL_EXFILTRATION_FINDINGS as readonly string[]).includes(d.type)) {
    return ignored(env, `guardduty finding ${quote(d.type)} is not an instance credential exfiltration`);
  }
  // The stolen credentials' principal is `AROA...:i-...` when instanceDetails is absent.
  const principal = /^AROA[A-Z0-9]+:(i-[0-9a-f]{8,17})$/.exec(
    d.resource?.accessKeyDetails?.principalId ?? '',
  );
  const instanceId = d.resource?.instanceDetails?.instanceId ?? principal?.[1];
  if (!instanceId) throw new Reject(`guardduty finding${d.id ? ` ${d.id}` : ''} names no instance`);
  const account = d.accountId ?? env.envelope.account ?? env.ctx.account;
  const region = d.region ?? env.envelope.region;
  const instance = ec2Workload({ ...env, envelope: { ...env.envelope, account, region } }, instanceId);
  // The instance is usually still running: EC2 keeps refreshing its credentials under the same
  // session name (the instance ID), so the name IS reused after the finding. Marked reusable, the
  // bound is never coarsened (render.ts rule 3): only sessions issued before the finding are denied.
  // The bound is the event time rounded UP to the whole second, because aws:TokenIssueTime has
  // second precision: rounding down would leave a stolen session issued earlier in that same second
  // alive. The price is that a refresh issued in the very second of the finding is denied too (until
  // the instance's next refresh); for a compromise, denying one refresh is the right side to err on.
  const workload: Workload = { ...instance, reusableSessionName: true };
  const finding = d.type.slice(d.type.indexOf('/') + 1);
  return ended(env, workload, `guardduty:${finding}`, { compromised: true });
}

function sundownWorkloadEnded(env: Env): Classification {
  const d = detail(env, WorkloadEndedDetailSchema);
  const workload = sundownWorkload(env, d.workloadId);
  const reason = sanitizeReason(d.reason) || 'sundown:workload-ended';
  return ended(env, workload, reason, {
    compromised: d.compromised ?? false,
    dryRun: d.dryRun ?? false,
    ...(d.credentialIds ? { credentialIds: d.credentialIds } : {}),
  });
}

function sundownCredentialIssued(env: Env): Classification {
  const secrets = findSecretLikeKeys(env.envelope.detail);
  if (secrets.length > 0) {
    throw new Reject(
      `credential registration must not carry secret material; remove ${quote(secrets.join(', '))}`,
    );
  }
  const d = detail(env, CredentialIssuedDetailSchema);
  const workload = sundownWorkload(env, d.workloadId);
  return { kind: 'credential-issued', registration: { ...d, workloadId: workload.id }, trigger: env.trigger };
}
