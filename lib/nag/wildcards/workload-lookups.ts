import { only, type WildcardJustification } from '../statements.ts';

const WORKLOAD_LOOKUPS = new Set([
  'ec2:DescribeInstances',
  'ecs:DescribeTasks',
  'ecs:DescribeTaskDefinition',
  'codebuild:BatchGetBuilds',
]);

export const workloadLookups: WildcardJustification = {
  reason:
    'Read-only lookups of the workload that started or ended (EC2 instance, ECS task and task definition, ' +
    'CodeBuild build), to find its role: the workload can be any in the account, and ec2:DescribeInstances and ' +
    'ecs:DescribeTaskDefinition support no resource-level permissions.',
  applies: (s, f) => f === 'Resource::*' && only(s, WORKLOAD_LOOKUPS),
};
