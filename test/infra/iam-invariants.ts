/**
 * Sundown's IAM rules as one generic check over every policy in a template, so
 * a new function, grant or construct is covered without a new test. Returns
 * readable violations (empty when the template complies).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import {
  SPOKE_READER_ROLE_NAME,
  SPOKE_REVOKER_ROLE_NAME,
  SPOKE_ROLE_PATH,
} from '../../lambdas/shared/contract.ts';
import { ACCOUNT, actionsOf, everyStatement, type PolicyStatement, render, resourcesOf } from './support.ts';

/** Writes that change what a principal may do: Sundown may make them only on opted-in principals. */
export const REVOCATION_WRITES = [
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:AttachRolePolicy',
  'iam:DetachRolePolicy',
  'iam:UpdateAccessKey',
  'iam:PutUserPolicy',
  'iam:DeleteUserPolicy',
] as const;
/** Getting credentials of a role: the same opt-in applies. */
export const ASSUME_ACTIONS = ['sts:AssumeRole'] as const;
export const POLICY_ATTACHMENT = ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'] as const;
export const MANAGED_POLICY_WRITES = [
  'iam:CreatePolicy',
  'iam:CreatePolicyVersion',
  'iam:DeletePolicy',
  'iam:DeletePolicyVersion',
  'iam:SetDefaultPolicyVersion',
] as const;

export const OPT_IN_CONDITION = { StringEquals: { 'aws:ResourceTag/sundown:revoke': 'enabled' } };
export const SUNDOWN_POLICIES_ARN = `arn:aws:iam::${ACCOUNT}:policy/sundown/*`;

export interface SundownIamConfig {
  allowlist?: readonly string[];
  certificateAuthorityArns?: readonly string[];
}

/** The resource ARNs an `allowlist` setting names (path prefixes cover everything under them). */
export function allowlistedArns(allowlist: readonly string[]): Set<string> {
  return new Set(
    allowlist.flatMap((entry) =>
      entry.startsWith('arn:')
        ? [entry]
        : [`arn:aws:iam::${ACCOUNT}:role${entry}*`, `arn:aws:iam::${ACCOUNT}:user${entry}*`],
    ),
  );
}

const SPOKE_ROLES = new Set([SPOKE_REVOKER_ROLE_NAME, SPOKE_READER_ROLE_NAME]);
/** `arn:aws:iam::<account or *>:role/sundown/SundownSpoke{Revoker,Reader}`. */
function isSpokeRole(arn: string): boolean {
  const m = /^arn:aws:iam::(\d{12}|\*):role(\/.*\/)([^/]+)$/.exec(arn);
  return m?.[2] === SPOKE_ROLE_PATH && SPOKE_ROLES.has(m[3] as string);
}

const isIamWrite = (action: string) =>
  action.startsWith('iam:') && !/^iam:(Get|List|Generate|Simulate)/.test(action);

function hasOptIn(s: PolicyStatement): boolean {
  return s.Condition?.StringEquals?.['aws:ResourceTag/sundown:revoke'] === 'enabled';
}

export function iamViolations(template: Template, config: SundownIamConfig = {}): string[] {
  const allowlisted = allowlistedArns(config.allowlist ?? []);
  const cas = new Set(config.certificateAuthorityArns ?? []);
  const violations: string[] = [];
  for (const { where, statement: s } of everyStatement(template)) {
    const actions = actionsOf(s);
    const resources = resourcesOf(s);
    const at = `${where}${s.Sid ? ` (${s.Sid})` : ''}`;
    const fail = (why: string) => violations.push(`${at}: ${why}`);

    if (actions.some((a) => a === '*' || a.toLowerCase() === 'iam:*'))
      fail(`Action ${JSON.stringify(s.Action)}`);
    // The rest is about what Sundown's own roles may do: identity policies (no Principal), Allow.
    if (s.Effect !== 'Allow' || s.Principal !== undefined) continue;
    if (s.NotAction !== undefined) fail('an Allow with NotAction');

    if (actions.some(isIamWrite) && resources.includes('*') && !s.Condition) {
      fail(`IAM writes on Resource "*" without a condition: ${actions.filter(isIamWrite).join(', ')}`);
    }
    const principalChanges = actions.filter((a) =>
      [...REVOCATION_WRITES, ...ASSUME_ACTIONS].includes(a as (typeof REVOCATION_WRITES)[number]),
    );
    const onlyAllowlisted = resources.length > 0 && resources.every((r) => allowlisted.has(r));
    // A hub assumes Sundown's own spoke roles (never a workload's): their trust admits only the hub's roles.
    const onlySpokeRoles =
      actions.every((a) => a === 'sts:AssumeRole') && resources.length > 0 && resources.every(isSpokeRole);
    if (principalChanges.length > 0 && !hasOptIn(s) && !onlyAllowlisted && !onlySpokeRoles) {
      fail(
        `${principalChanges.join(', ')} on ${resources.join(', ')} needs the opt-in tag condition or allowlisted resources`,
      );
    }
    if (actions.some((a) => (POLICY_ATTACHMENT as readonly string[]).includes(a))) {
      const policyArns = [s.Condition?.ArnLike?.['iam:PolicyARN'] ?? []].flat().map(render);
      if (policyArns.length === 0 || policyArns.some((arn) => arn !== SUNDOWN_POLICIES_ARN)) {
        fail(
          `Attach/DetachRolePolicy must be limited to iam:PolicyARN ${SUNDOWN_POLICIES_ARN}, got ${JSON.stringify(policyArns)}`,
        );
      }
    }
    if (actions.some((a) => (MANAGED_POLICY_WRITES as readonly string[]).includes(a))) {
      if (resources.length === 0 || resources.some((r) => r !== SUNDOWN_POLICIES_ARN)) {
        fail(`managed-policy writes outside ${SUNDOWN_POLICIES_ARN}: ${resources.join(', ')}`);
      }
    }
    if (actions.some((a) => a.startsWith('acm-pca:'))) {
      if (cas.size === 0) fail('Private CA permissions although no certificateAuthorityArns are configured');
      else if (resources.length === 0 || resources.some((r) => !cas.has(r))) {
        fail(`Private CA permissions beyond the configured CAs: ${resources.join(', ')}`);
      }
    }
  }
  return violations;
}
