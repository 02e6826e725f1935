/**
 * Workload roles: the IAM role a workload runs as, found through its platform's APIs (EC2 instance
 * profile, ECS task role, CodeBuild service role) from the role hint its event carried; discovery
 * (lambdas/registration/) records a session of that role when a workload starts. The public face; import from here:
 * - workload-roles.ts: WorkloadRoleResolver and its AWS implementation, and what counts as transient;
 * - account-routed.ts: the resolver a hub uses, asking in the workload's own account.
 */
export { AccountRoutedRoleResolver } from './account-routed.ts';
export { AwsWorkloadRoleResolver, isTransient, type WorkloadRoleResolver } from './workload-roles.ts';
