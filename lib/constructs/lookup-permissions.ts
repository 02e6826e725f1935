import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Read-only lookups the event handlers make in one account: resolving a workload's role
 * (EC2 instance profile, ECS task role, CodeBuild service role) and reading a principal's opt-in tag.
 * Describe calls on EC2 and ECS do not support resource-level permissions
 * (BatchGetBuilds does, but build ARNs are not known at deploy time).
 * The hub's functions get these for their own account; a spoke's reader role for the spoke's.
 */
export function workloadLookupStatements(partition: string, account: string): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'DescribeWorkloads',
      actions: [
        'ec2:DescribeInstances',
        'ecs:DescribeTasks',
        'ecs:DescribeTaskDefinition',
        'codebuild:BatchGetBuilds',
      ],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ReadWorkloadRoles',
      actions: ['iam:GetInstanceProfile', 'iam:GetRole', 'iam:GetUser'],
      resources: [
        `arn:${partition}:iam::${account}:instance-profile/*`,
        `arn:${partition}:iam::${account}:role/*`,
        `arn:${partition}:iam::${account}:user/*`,
      ],
    }),
  ];
}

/** workloadLookupStatements for the role's own account, on the role. */
export function grantWorkloadLookups(role: iam.IRole): void {
  const { account, partition } = Stack.of(role);
  for (const statement of workloadLookupStatements(partition, account)) role.addToPrincipalPolicy(statement);
}
