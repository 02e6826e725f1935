/**
 * The ephemeral workloads a template defines and the roles their credentials come from:
 * EC2 (instances, instance profiles, launch templates and configurations, Auto Scaling groups,
 * Batch compute environments), ECS task roles, Lambda execution roles, CodeBuild service roles and
 * Batch job roles. Lambda functions that back CloudFormation custom resources are deployment
 * machinery, invoked by CloudFormation, not workloads: they are left out.
 */
import { type Resolution, resolveReference } from './resolve.ts';
import type { CfnResource } from './types.ts';

export type WorkloadKind = 'ec2' | 'ecs' | 'lambda' | 'codebuild' | 'batch';

export interface Workload {
  id: string;
  type: string;
  kind: WorkloadKind;
  /** Logical IDs of the roles it runs with. */
  roles: string[];
  /** References on the way to its role that preflight cannot follow. */
  unresolved: UnresolvedReference[];
}

export interface UnresolvedReference {
  /** The resource whose property holds the reference. */
  at: string;
  property: string;
  what: string;
}

interface Acc {
  roles: Set<string>;
  unresolved: UnresolvedReference[];
}

const get = (value: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as never)[k] : undefined), value);

const list = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

export function findWorkloads(resources: Record<string, CfnResource>): Workload[] {
  const customResourceProviders = providerFunctions(resources);
  const workloads: Workload[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    const acc: Acc = { roles: new Set(), unresolved: [] };
    const p = resource.Properties ?? {};
    const kind = collectRoles(id, resource.Type, p, resources, acc, customResourceProviders);
    if (kind)
      workloads.push({ id, type: resource.Type, kind, roles: [...acc.roles], unresolved: acc.unresolved });
  }
  return workloads;
}

function collectRoles(
  id: string,
  type: string,
  p: Record<string, unknown>,
  resources: Record<string, CfnResource>,
  acc: Acc,
  providers: Set<string>,
): WorkloadKind | undefined {
  const role = (value: unknown, property: string, at = id) => addRole(value, property, at, resources, acc);
  const profile = (value: unknown, property: string, at = id) =>
    addProfile(value, property, at, resources, acc);
  switch (type) {
    case 'AWS::IAM::InstanceProfile':
      list(p.Roles).forEach((r, i) => {
        role(r, `Roles[${i}]`);
      });
      return 'ec2';
    case 'AWS::EC2::Instance':
      if (p.IamInstanceProfile === undefined) return undefined;
      profile(p.IamInstanceProfile, 'IamInstanceProfile');
      return 'ec2';
    case 'AWS::EC2::LaunchTemplate':
    case 'AWS::AutoScaling::LaunchConfiguration':
    case 'AWS::AutoScaling::AutoScalingGroup':
      return addLaunchSource(id, type, p, resources, acc) ? 'ec2' : undefined;
    case 'AWS::Batch::ComputeEnvironment':
      if (get(p, 'ComputeResources', 'InstanceRole') === undefined) return undefined;
      profile(get(p, 'ComputeResources', 'InstanceRole'), 'ComputeResources.InstanceRole');
      return 'ec2';
    case 'AWS::ECS::TaskDefinition':
      if (p.TaskRoleArn === undefined) return undefined;
      role(p.TaskRoleArn, 'TaskRoleArn');
      return 'ecs';
    case 'AWS::Lambda::Function':
      if (providers.has(id) || p.Role === undefined) return undefined;
      role(p.Role, 'Role');
      return 'lambda';
    case 'AWS::CodeBuild::Project':
      if (p.ServiceRole === undefined) return undefined;
      role(p.ServiceRole, 'ServiceRole');
      return 'codebuild';
    case 'AWS::Batch::JobDefinition': {
      const refs: [unknown, string][] = [
        [get(p, 'ContainerProperties', 'JobRoleArn'), 'ContainerProperties.JobRoleArn'],
      ];
      list(get(p, 'EcsProperties', 'TaskProperties')).forEach((t, i) => {
        refs.push([get(t, 'TaskRoleArn'), `EcsProperties.TaskProperties[${i}].TaskRoleArn`]);
      });
      list(get(p, 'NodeProperties', 'NodeRangeProperties')).forEach((n, i) => {
        refs.push([
          get(n, 'Container', 'JobRoleArn'),
          `NodeProperties.NodeRangeProperties[${i}].Container.JobRoleArn`,
        ]);
      });
      const present = refs.filter(([v]) => v !== undefined);
      for (const [v, property] of present) role(v, property);
      return present.length > 0 ? 'batch' : undefined;
    }
    default:
      return undefined;
  }
}

/** Launch templates, launch configurations and Auto Scaling groups: through to the instance profile. */
function addLaunchSource(
  id: string,
  type: string,
  p: Record<string, unknown>,
  resources: Record<string, CfnResource>,
  acc: Acc,
): boolean {
  if (type === 'AWS::EC2::LaunchTemplate') {
    const profile = get(p, 'LaunchTemplateData', 'IamInstanceProfile');
    const ref = get(profile, 'Arn') ?? get(profile, 'Name');
    if (ref === undefined) return false;
    addProfile(ref, 'LaunchTemplateData.IamInstanceProfile', id, resources, acc);
    return true;
  }
  if (type === 'AWS::AutoScaling::LaunchConfiguration') {
    if (p.IamInstanceProfile === undefined) return false;
    addProfile(p.IamInstanceProfile, 'IamInstanceProfile', id, resources, acc);
    return true;
  }
  const specs: [unknown, string][] = [
    [p.LaunchTemplate, 'LaunchTemplate'],
    [get(p, 'MixedInstancesPolicy', 'LaunchTemplate', 'LaunchTemplateSpecification'), 'MixedInstancesPolicy'],
  ];
  let found = false;
  for (const [spec, property] of specs) {
    const ref = get(spec, 'LaunchTemplateId') ?? get(spec, 'LaunchTemplateName');
    if (ref === undefined) continue;
    found = true;
    follow(ref, property, id, 'AWS::EC2::LaunchTemplate', resources, acc);
  }
  if (p.LaunchConfigurationName !== undefined) {
    found = true;
    follow(
      p.LaunchConfigurationName,
      'LaunchConfigurationName',
      id,
      'AWS::AutoScaling::LaunchConfiguration',
      resources,
      acc,
    );
  }
  return found;
}

/** A launch template or configuration of this template: its roles become the group's. */
function follow(
  ref: unknown,
  property: string,
  at: string,
  expected: string,
  resources: Record<string, CfnResource>,
  acc: Acc,
): void {
  const target = expectType(resolveReference(ref, resources), expected, resources);
  if ('unresolved' in target) {
    acc.unresolved.push({ at, property, what: target.unresolved });
    return;
  }
  const resource = resources[target.id] as CfnResource;
  // The launch template reports its own unresolved references; the group only inherits its roles.
  const inner: Acc = { roles: acc.roles, unresolved: [] };
  addLaunchSource(target.id, expected, resource.Properties ?? {}, resources, inner);
}

function addProfile(
  ref: unknown,
  property: string,
  at: string,
  resources: Record<string, CfnResource>,
  acc: Acc,
): void {
  const target = expectType(resolveReference(ref, resources), 'AWS::IAM::InstanceProfile', resources);
  if ('unresolved' in target) {
    acc.unresolved.push({ at, property, what: target.unresolved });
    return;
  }
  const roles = list((resources[target.id] as CfnResource).Properties?.Roles);
  const inner: Acc = { roles: acc.roles, unresolved: [] }; // the profile reports its own references
  roles.forEach((r, i) => {
    addRole(r, `Roles[${i}]`, target.id, resources, inner);
  });
}

function addRole(
  ref: unknown,
  property: string,
  at: string,
  resources: Record<string, CfnResource>,
  acc: Acc,
): void {
  const target = expectType(resolveReference(ref, resources), 'AWS::IAM::Role', resources);
  if ('unresolved' in target) acc.unresolved.push({ at, property, what: target.unresolved });
  else acc.roles.add(target.id);
}

function expectType(r: Resolution, type: string, resources: Record<string, CfnResource>): Resolution {
  if ('unresolved' in r) return r;
  const actual = resources[r.id]?.Type;
  return actual === type ? r : { unresolved: `${r.id}, a ${String(actual)} where a ${type} was expected` };
}

/** Lambda functions named as the ServiceToken of a custom resource. */
function providerFunctions(resources: Record<string, CfnResource>): Set<string> {
  const ids = new Set<string>();
  for (const r of Object.values(resources)) {
    if (!r.Type.startsWith('Custom::') && r.Type !== 'AWS::CloudFormation::CustomResource') continue;
    const target = resolveReference(r.Properties?.ServiceToken, resources);
    if ('id' in target) ids.add(target.id);
  }
  return ids;
}
