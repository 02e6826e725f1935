import type { Rule } from '../rule.ts';
import { describePrincipal, isBrokerStatement, trustStatements } from '../trust.ts';
import type { WorkloadKind } from '../workloads.ts';

/** The service that assumes a workload's role for it, per workload kind. */
export const WORKLOAD_SERVICES: Record<WorkloadKind, readonly string[]> = {
  ec2: ['ec2.amazonaws.com', 'ec2.amazonaws.com.cn'],
  ecs: ['ecs-tasks.amazonaws.com'],
  batch: ['ecs-tasks.amazonaws.com'],
  lambda: ['lambda.amazonaws.com', 'edgelambda.amazonaws.com'],
  codebuild: ['codebuild.amazonaws.com'],
};

/**
 * Sundown revokes a workload's sessions by their session name (the instance ID, task ID, ...), which
 * the service sets, or the broker sets to the workload's name. Any other principal the trust policy
 * lets in (an account, a user, another role, the role itself: role chaining; a federated identity;
 * another service) chooses its own session names, so its sessions belong to no workload and
 * outlive every workload on the role.
 */
export const trustBeyondWorkload: Rule = {
  id: 'trust-beyond-workload',
  severity: 'error',
  description:
    "A workload role's trust policy lets principals other than the workload's service and Sundown's broker assume it.",
  help:
    'Sessions of such principals carry session names Sundown cannot tie to a workload, so they outlive every ' +
    "workload on the role. Trust only the workload's service principal, plus Sundown's broker through " +
    'trustSundownBroker(role, brokerRoleArn) (exactly sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity); give ' +
    'other callers a role of their own.',
  check(model) {
    const findings = [];
    for (const [id, role, users] of model.workloadRoleEntries()) {
      const services = new Set(users.flatMap((u) => WORKLOAD_SERVICES[u.kind]));
      const extra: string[] = [];
      for (const s of trustStatements(role)) {
        if (s.wildcard || isBrokerStatement(s, model.options)) continue; // wildcards: wildcard-trust-principal
        extra.push(...s.services.filter((svc) => !services.has(svc)).map((svc) => `service ${svc}`));
        extra.push(...s.aws.map((p) => `AWS principal ${describePrincipal(p)}`));
        extra.push(...s.federated.map((p) => `federated principal ${describePrincipal(p)}`));
      }
      if (extra.length === 0) continue;
      findings.push({
        resource: id,
        related: users.map((u) => u.id),
        message: `role ${id} (used by ${model.describeUsers(users)}) also trusts ${[...new Set(extra)].slice(0, 5).join(', ')}: their sessions belong to no workload and outlive its end`,
      });
    }
    return findings;
  },
};
