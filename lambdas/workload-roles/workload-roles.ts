/**
 * Finds the IAM role a workload's credentials come from. The event's own data comes first (the role
 * hint: an ECS task's role override and task definition, a Batch job's role); the platform's describe
 * calls only fill what the event left out:
 * - EC2: DescribeInstances -> instance profile -> its role. Resolve it while the instance still has
 *   its profile: at launch, or at `shutting-down` (an end trigger, so a missed start is recorded
 *   then); a terminated instance loses its profile association (at once in moto, gradually on AWS).
 * - ECS: the override, else the task definition's task role (DescribeTaskDefinition works after the
 *   task's cluster is deleted); DescribeTasks only when the event named neither.
 * - CodeBuild: the build's service role.
 *
 * A workload that is gone for good (not found, cluster deleted, definition deleted) has no role to
 * resolve: undefined. A transient failure (throttling, 5xx, network) and a refusal of Sundown's own
 * permissions are thrown, so the event is retried (and, if that never helps, lands in the DLQ, which
 * alarms) instead of its workload silently keeping its credentials.
 */
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { GetInstanceProfileCommand, type IAMClient } from '@aws-sdk/client-iam';
import { type ClientSource, clientOf, once } from '../shared/clients.ts';
import type { Workload } from '../shared/domain/workload-id.ts';
import { RoleArnSchema } from '../shared/schemas/credential.ts';
import type { RoleHint } from '../triggers/index.ts';

export interface WorkloadRoleResolver {
  resolveRole(workload: Workload, hint?: RoleHint): Promise<string | undefined>;
}

function validRole(arn: string | undefined): string | undefined {
  return arn && RoleArnSchema.safeParse(arn).success ? arn : undefined;
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalError',
  'InternalFailure',
  'ServerException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);
/** Sundown itself may not look: a deployment problem to surface, not a workload without a role. */
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

/** True for failures another attempt may not see: throttling, server errors, the network. */
export function isTransient(err: unknown): boolean {
  const e = err as {
    name?: string;
    code?: string;
    $retryable?: unknown;
    $fault?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if (!e || typeof e !== 'object') return false;
  if (e.$retryable) return true;
  if (e.name && THROTTLING.has(e.name)) return true;
  if (e.code && NETWORK.has(e.code)) return true;
  if (e.$fault === 'server') return true;
  const status = e.$metadata?.httpStatusCode;
  return status === 429 || (status !== undefined && status >= 500);
}

/** The EC2, ECS and CodeBuild SDK packages, imported on first use (most ends never describe). */
const ec2Sdk = once(() => import('@aws-sdk/client-ec2'));
const ecsSdk = once(() => import('@aws-sdk/client-ecs'));
const codebuildSdk = once(() => import('@aws-sdk/client-codebuild'));

export class AwsWorkloadRoleResolver implements WorkloadRoleResolver {
  constructor(
    private readonly deps: {
      ec2: ClientSource<EC2Client>;
      ecs: ClientSource<ECSClient>;
      iam: IAMClient;
      codebuild?: ClientSource<CodeBuildClient>;
    },
  ) {}

  async resolveRole(workload: Workload, hint: RoleHint = {}): Promise<string | undefined> {
    const hinted = validRole(hint.roleArn);
    if (hinted) return hinted;
    switch (workload.kind) {
      case 'ec2':
        return this.instanceRole(workload.id.split('/').pop() ?? '');
      case 'ecs':
        return this.taskRole(workload.id, hint.taskDefinitionArn);
      case 'codebuild':
        return this.buildRole(workload.id);
      default:
        return undefined;
    }
  }

  private async instanceRole(instanceId: string): Promise<string | undefined> {
    const [{ DescribeInstancesCommand }, ec2] = await Promise.all([ec2Sdk(), clientOf(this.deps.ec2)]);
    const res = await describeOrGone(() =>
      ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
    );
    const profileArn = res?.Reservations?.[0]?.Instances?.[0]?.IamInstanceProfile?.Arn;
    const profileName = profileArn?.split('/').pop();
    if (!profileName) return undefined;
    const profile = await describeOrGone(() =>
      this.deps.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profileName })),
    );
    return validRole(profile?.InstanceProfile?.Roles?.[0]?.Arn);
  }

  private async buildRole(buildArn: string): Promise<string | undefined> {
    if (!this.deps.codebuild) return undefined;
    // arn:aws:codebuild:region:account:build/<project>:<uuid> -> build ID <project>:<uuid>
    const id = buildArn.split(':build/')[1];
    if (!id) return undefined;
    const [{ BatchGetBuildsCommand }, codebuild] = await Promise.all([
      codebuildSdk(),
      clientOf(this.deps.codebuild),
    ]);
    const res = await describeOrGone(() => codebuild.send(new BatchGetBuildsCommand({ ids: [id] })));
    return validRole(res?.builds?.[0]?.serviceRole);
  }

  private async taskRole(taskArn: string, taskDefinitionArn?: string): Promise<string | undefined> {
    // The event named the task definition (and any override, which the caller already returned):
    // the definition's task role is the task's role, and it can be read after the cluster is gone.
    if (taskDefinitionArn) return this.definitionRole(taskDefinitionArn);
    // arn:aws:ecs:region:account:task/<cluster>/<id>; the old format has no cluster.
    const parts = taskArn.split(':task/')[1]?.split('/') ?? [];
    const cluster = parts.length === 2 ? parts[0] : undefined;
    const [{ DescribeTasksCommand }, ecs] = await Promise.all([ecsSdk(), clientOf(this.deps.ecs)]);
    const tasks = await describeOrGone(() =>
      ecs.send(new DescribeTasksCommand({ tasks: [taskArn], ...(cluster ? { cluster } : {}) })),
    );
    const task = tasks?.tasks?.[0];
    const override = validRole(task?.overrides?.taskRoleArn);
    if (override) return override;
    return task?.taskDefinitionArn ? this.definitionRole(task.taskDefinitionArn) : undefined;
  }

  private async definitionRole(taskDefinitionArn: string): Promise<string | undefined> {
    const [{ DescribeTaskDefinitionCommand }, ecs] = await Promise.all([ecsSdk(), clientOf(this.deps.ecs)]);
    const def = await describeOrGone(() =>
      ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn })),
    );
    return validRole(def?.taskDefinition?.taskRoleArn);
  }
}

/**
 * Runs a describe call: its result, undefined when the platform says the thing is gone (or refuses
 * the request for good), and the error itself when another attempt may succeed.
 */
async function describeOrGone<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (isTransient(err) || DENIED.has((err as { name?: string })?.name ?? '')) throw err;
    return undefined;
  }
}
