import type { Rule } from '../rule.ts';
import { trustStatements } from '../trust.ts';

/** `Principal: "*"`, `AWS: "*"` or an Allow with NotPrincipal: anyone (a condition at most narrows it). */
export const wildcardTrustPrincipal: Rule = {
  id: 'wildcard-trust-principal',
  severity: 'error',
  description: 'A role\'s trust policy allows any principal ("*" or NotPrincipal).',
  help:
    'Any AWS principal that satisfies the conditions (if any) can assume the role, with session names of its own ' +
    'choosing that belong to no workload. Name the principals that may assume the role.',
  check(model) {
    const findings = [];
    for (const [id, resource] of Object.entries(model.resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      const wild = trustStatements(resource).filter((s) => s.wildcard);
      if (wild.length === 0) continue;
      const users = model.workloadRoles.get(id) ?? [];
      const usedBy = users.length ? ` (used by ${model.describeUsers(users)})` : '';
      const conditioned = wild.every((s) => s.hasCondition) ? ', limited only by its conditions' : '';
      findings.push({
        resource: id,
        related: users.map((u) => u.id),
        message: `role ${id}${usedBy} lets any principal assume it${conditioned} (statement ${wild.map((s) => s.sid ?? `#${s.index}`).join(', ')})`,
      });
    }
    return findings;
  },
};
