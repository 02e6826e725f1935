import type { Rule } from '../rule.ts';

/**
 * MaxSessionDuration binds AssumeRole sessions (not the sessions EC2, ECS or Lambda themselves
 * assume). Sundown's broker issues at most one hour (its AssumeRole is role chaining), so a longer
 * maximum only serves other callers, and a session that outlives Sundown's maxSessionHours for the
 * workload kind outlives its deny entry, which is pruned after that time.
 */
export const sessionDurationAboveMax: Rule = {
  id: 'session-duration-above-max',
  severity: 'warning',
  description: "A workload role's MaxSessionDuration is above the configured maximum.",
  help:
    'Sessions of the role can last longer than Sundown expects: the broker never issues more than one hour, and a ' +
    "session that outlives Sundown's maxSessionHours for its workload kind outlives the deny entry that revokes it " +
    '(entries are pruned after that time). Lower MaxSessionDuration (CDK: maxSessionDuration) or raise the ' +
    'preflight maximum (--max-session-duration) if the role needs it and maxSessionHours covers it.',
  check(model) {
    const max = model.options.maxSessionDurationSeconds;
    const findings = [];
    for (const [id, role, users] of model.workloadRoleEntries()) {
      const duration = role.Properties?.MaxSessionDuration;
      const seconds = typeof duration === 'string' && /^\d+$/.test(duration) ? Number(duration) : duration;
      if (typeof seconds !== 'number' || seconds <= max) continue;
      findings.push({
        resource: id,
        related: users.map((u) => u.id),
        message: `role ${id} (used by ${model.describeUsers(users)}) allows sessions of ${seconds} s, more than the maximum of ${max} s`,
      });
    }
    return findings;
  },
};
