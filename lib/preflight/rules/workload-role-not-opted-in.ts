import { OPT_IN_TAG } from '../../constructs/revocation-permissions.ts';
import type { Rule } from '../rule.ts';

/** Sundown changes only roles tagged with the opt-in tag (or allowlisted): IAM enforces it on its own role. */
export const workloadRoleNotOptedIn: Rule = {
  id: 'workload-role-not-opted-in',
  severity: 'error',
  description: `A workload's role does not carry the opt-in tag ${OPT_IN_TAG.key}=${OPT_IN_TAG.value}.`,
  help:
    `Sundown revokes sessions only of roles tagged ${OPT_IN_TAG.key}=${OPT_IN_TAG.value} or allowlisted (IAM enforces ` +
    'this on its own permissions): the credentials of these workloads would outlive them. Tag the role ' +
    `(Tags.of(role).add('${OPT_IN_TAG.key}', '${OPT_IN_TAG.value}')) or list its path in Sundown's allowlist setting.`,
  check(model) {
    const findings = [];
    for (const [id, role, users] of model.workloadRoleEntries()) {
      const tags = Array.isArray(role.Properties?.Tags)
        ? (role.Properties.Tags as { Key?: unknown; Value?: unknown }[])
        : [];
      const tag = tags.find((t) => t?.Key === OPT_IN_TAG.key);
      if (tag?.Value === OPT_IN_TAG.value || allowlisted(role.Properties ?? {}, model.options.allowlist))
        continue;
      const why =
        tag === undefined
          ? `has no ${OPT_IN_TAG.key} tag`
          : typeof tag.Value === 'string'
            ? `has ${OPT_IN_TAG.key}=${tag.Value}, not ${OPT_IN_TAG.value}`
            : `has a ${OPT_IN_TAG.key} tag whose value is not a literal (preflight cannot tell it is ${OPT_IN_TAG.value})`;
      findings.push({
        resource: id,
        related: users.map((u) => u.id),
        message: `role ${id} (used by ${model.describeUsers(users)}) ${why}: Sundown will not revoke its sessions when these workloads end`,
      });
    }
    return findings;
  },
};

function allowlisted(props: Record<string, unknown>, allowlist: readonly string[]): boolean {
  const path = typeof props.Path === 'string' ? props.Path : '/';
  const name = typeof props.RoleName === 'string' ? props.RoleName : undefined;
  return allowlist.some((entry) =>
    entry.startsWith('arn:')
      ? name !== undefined && entry.endsWith(`:role${path}${name}`)
      : entry !== '/' && path.startsWith(entry),
  );
}
