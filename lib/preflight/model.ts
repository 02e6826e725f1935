/**
 * One template, read once for every rule: its resources, the workloads it defines and the roles
 * they run with (which workloads use which role).
 */

import type { CfnResource, ResolvedOptions, TemplateInput } from './types.ts';
import { findWorkloads, type Workload } from './workloads.ts';

export class TemplateModel {
  readonly path: string;
  readonly stackName: string | undefined;
  readonly resources: Record<string, CfnResource>;
  readonly workloads: Workload[];
  /** Role logical ID -> the workloads that run with it (in template order). */
  readonly workloadRoles: Map<string, Workload[]>;

  constructor(
    input: TemplateInput,
    readonly options: ResolvedOptions,
  ) {
    this.path = input.path;
    this.stackName = input.stackName;
    this.resources = input.resources;
    this.workloads = findWorkloads(input.resources);
    this.workloadRoles = new Map();
    for (const w of this.workloads) {
      for (const role of w.roles) this.workloadRoles.set(role, [...(this.workloadRoles.get(role) ?? []), w]);
    }
  }

  /** The roles some workload runs with, with the resource and its users. */
  *workloadRoleEntries(): Generator<[string, CfnResource, Workload[]]> {
    for (const [id, users] of this.workloadRoles) yield [id, this.resources[id] as CfnResource, users];
  }

  /** "Lambda function Fn, Auto Scaling group Workers" (at most 5 named). */
  describeUsers(users: Workload[]): string {
    const named = users.slice(0, 5).map((w) => `${KIND_NAMES[w.type] ?? w.type} ${w.id}`);
    return users.length > 5 ? `${named.join(', ')} and ${users.length - 5} more` : named.join(', ');
  }
}

const KIND_NAMES: Record<string, string> = {
  'AWS::IAM::InstanceProfile': 'instance profile',
  'AWS::EC2::Instance': 'EC2 instance',
  'AWS::EC2::LaunchTemplate': 'launch template',
  'AWS::AutoScaling::LaunchConfiguration': 'launch configuration',
  'AWS::AutoScaling::AutoScalingGroup': 'Auto Scaling group',
  'AWS::Batch::ComputeEnvironment': 'Batch compute environment',
  'AWS::ECS::TaskDefinition': 'ECS task definition',
  'AWS::Lambda::Function': 'Lambda function',
  'AWS::CodeBuild::Project': 'CodeBuild project',
  'AWS::Batch::JobDefinition': 'Batch job definition',
};
