import { resolveReference } from '../resolve.ts';
import type { Rule } from '../rule.ts';
import { trustStatements } from '../trust.ts';

/**
 * A role that trusts a workload's role can be assumed with the workload's credentials (role
 * chaining). Sundown denies the workload role's sessions when the workload ends, but a session of the
 * chained role obtained before then keeps working (up to an hour), under a name Sundown never saw.
 */
export const roleChainingFromWorkload: Rule = {
  id: 'role-chaining-from-workload',
  severity: 'warning',
  description: "A role's trust policy lets a workload's role assume it (role chaining).",
  help:
    "Sessions chained from a workload's session survive the workload's end for up to an hour: Sundown denies the " +
    "workload role's sessions, not the chained role's. Grant the permissions to the workload's role directly, or " +
    'issue the second role through Sundown too (opt it in and register the session for the workload).',
  check(model) {
    const findings = [];
    for (const [id, resource] of Object.entries(model.resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      const chainedFrom = new Set<string>();
      for (const s of trustStatements(resource)) {
        for (const principal of s.aws) {
          const target = resolveReference(principal, model.resources);
          if ('id' in target && model.workloadRoles.has(target.id)) chainedFrom.add(target.id);
        }
      }
      if (chainedFrom.size === 0) continue;
      const from = [...chainedFrom];
      findings.push({
        resource: id,
        related: from,
        message: `role ${id} trusts the workload role${from.length > 1 ? 's' : ''} ${from.join(', ')}: sessions chained from a workload outlive its end by up to an hour`,
      });
    }
    return findings;
  },
};
