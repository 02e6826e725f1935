/**
 * Finds the IAM role a workload's credentials come from, through the
 * platform's own APIs: EC2 instance profile, ECS task role (overrides, else
 * task definition), Batch job role. Used on workload start (discovery) and
 * on workload end when the start was never seen: terminated instances and
 * stopped tasks stay describable for a while.
 */
import { BatchGetBuildsCommand, type CodeBuildClient } from '@aws-sdk/client-codebuild';
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTaskDefinitionCommand, DescribeTasksCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { GetInstanceProfileCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { RoleHint } from '../domain/classify-event.ts';
import type { Workload } from '../domain/workload-id.ts';
import { RoleArnSchema } from '../schemas/credential.ts';

export interface WorkloadRoleResolver {
  resolveRole(workload: Workload, hint?: RoleHint): Promise<string | undefined>;
}

function validRole(arn: string | undefined): string | undefined {
  return arn && RoleArnSchema.safeParse(arn).success ? arn : undefined;
}

export class AwsWorkloadRoleResolver implements WorkloadRoleResolver {
  constructor(
    private readonly deps: { ec2: EC2Client; ecs: ECSClient; iam: IAMClient; codebuild?: CodeBuildClient },
  ) {}

  async resolveRole(workload: Workload, hint: RoleHint = {}): Promise<string | undefined> {
    if (validRole(hint.roleArn)) return hint.roleArn;
    try {
      switch (workload.kind) {
        case 'ec2':
          return await this.instanceRole(workload.id.split('/').pop() ?? '');
        case 'ecs':
          return await this.taskRole(workload.id, hint.taskDefinitionArn);
        case 'codebuild':
          return await this.buildRole(workload.id);
        default:
          return undefined;
      }
    } catch {
      // Gone for good (instance purged, task expired): nothing to resolve.
      return undefined;
    }
  }

  private async instanceRole(instanceId: string): Promise<string | undefined> {
    const res = await this.deps.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const profileArn = res.Reservations?.[0]?.Instances?.[0]?.IamInstanceProfile?.Arn;
    const profileName = profileArn?.split('/').pop();
    if (!profileName) return undefined;
    const profile = await this.deps.iam.send(
      new GetInstanceProfileCommand({ InstanceProfileName: profileName }),
    );
    return validRole(profile.InstanceProfile?.Roles?.[0]?.Arn);
  }

  private async buildRole(buildArn: string): Promise<string | undefined> {
    if (!this.deps.codebuild) return undefined;
    // arn:aws:codebuild:region:account:build/<project>:<uuid> -> build ID <project>:<uuid>
    const id = buildArn.split(':build/')[1];
    if (!id) return undefined;
    const res = await this.deps.codebuild.send(new BatchGetBuildsCommand({ ids: [id] }));
    return validRole(res.builds?.[0]?.serviceRole);
  }

  private async taskRole(taskArn: string, taskDefinitionArn?: string): Promise<string | undefined> {
    // arn:aws:ecs:region:account:task/<cluster>/<id>; the old format has no cluster.
    const parts = taskArn.split(':task/')[1]?.split('/') ?? [];
    const cluster = parts.length === 2 ? parts[0] : undefined;
    const tasks = await this.deps.ecs.send(
      new DescribeTasksCommand({ tasks: [taskArn], ...(cluster ? { cluster } : {}) }),
    );
    const task = tasks.tasks?.[0];
    const override = validRole(task?.overrides?.taskRoleArn);
    if (override) return override;
    const definition = task?.taskDefinitionArn ?? taskDefinitionArn;
    if (!definition) return undefined;
    const def = await this.deps.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: definition }));
    return validRole(def.taskDefinition?.taskRoleArn);
  }
}
