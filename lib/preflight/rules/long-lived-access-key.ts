import type { Rule } from '../rule.ts';

/** An IAM access key never expires: nothing about it ends with the workload that uses it. */
export const longLivedAccessKey: Rule = {
  id: 'long-lived-access-key',
  severity: 'error',
  description: 'The template creates a long-lived IAM access key (AWS::IAM::AccessKey).',
  help:
    'An access key stays valid until it is deactivated or deleted, long after the workload that was given it ends; ' +
    'Sundown deactivates only keys registered for a workload (sundown register access-key) on users that opted in. ' +
    "Give the workload a role instead (instance profile, task role, execution role) or issue it a session through Sundown's broker.",
  check(model) {
    const findings = [];
    for (const [id, resource] of Object.entries(model.resources)) {
      if (resource.Type !== 'AWS::IAM::AccessKey') continue;
      const users = referencing(model.resources, id);
      const user = resource.Properties?.UserName;
      const userText = typeof user === 'string' ? user : (refName(user) ?? 'a user defined elsewhere');
      const usedBy = users.length ? `; referenced by ${users.slice(0, 5).join(', ')}` : '';
      findings.push({
        resource: id,
        related: users,
        message: `access key ${id} of ${userText} is a long-lived credential: it keeps working after the workloads given it end${usedBy}`,
      });
    }
    return findings;
  },
};

function refName(value: unknown): string | undefined {
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  return typeof ref === 'string' ? `user ${ref}` : undefined;
}

/** Resources whose properties mention the key (Ref or Fn::GetAtt, e.g. its SecretAccessKey). */
function referencing(resources: Record<string, { Properties?: unknown }>, keyId: string): string[] {
  const escaped = JSON.stringify(keyId)
    .slice(1, -1)
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const needle = new RegExp(`"Ref":"${escaped}"|"Fn::GetAtt":\\["${escaped}"|"Fn::GetAtt":"${escaped}\\.`);
  return Object.entries(resources)
    .filter(([id, r]) => id !== keyId && needle.test(JSON.stringify(r.Properties ?? {})))
    .map(([id]) => id);
}
