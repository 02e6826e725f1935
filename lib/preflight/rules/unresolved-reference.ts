import type { Rule } from '../rule.ts';

/** A workload names its role (or profile, or launch template) through something outside the template. */
export const unresolvedReference: Rule = {
  id: 'unresolved-reference',
  severity: 'note',
  description:
    "A workload's role could not be resolved in the template (Fn::ImportValue, a parameter, an external ARN).",
  help:
    'Preflight checks only roles defined in the templates it reads. Check the role where it is defined: run ' +
    'preflight over that stack too (it reports the role if a workload there uses it), or suppress with a reason.',
  check(model) {
    const seen = new Set<string>();
    const findings = [];
    for (const w of model.workloads) {
      for (const u of w.unresolved) {
        const key = `${u.at}\u0000${u.property}`;
        if (seen.has(key)) continue;
        seen.add(key);
        findings.push({
          resource: u.at,
          related: u.at === w.id ? [] : [w.id],
          message: `${u.at}.${u.property} names ${u.what}: preflight cannot check the role of ${w.id}`,
        });
      }
    }
    return findings;
  },
};
