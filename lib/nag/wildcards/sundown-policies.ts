import { SUNDOWN_POLICY_PATH } from '../../constructs/revocation-permissions.ts';
import { IAM_ARN, only, type WildcardJustification } from '../statements.ts';

const SUNDOWN_POLICY_MANAGEMENT = new Set([
  'iam:CreatePolicy',
  'iam:CreatePolicyVersion',
  'iam:DeletePolicy',
  'iam:DeletePolicyVersion',
  'iam:GetPolicy',
  'iam:GetPolicyVersion',
  'iam:ListPolicyVersions',
]);
const SUNDOWN_POLICIES = new RegExp(String.raw`^Resource::${IAM_ARN}policy${SUNDOWN_POLICY_PATH}\*$`);

export const sundownPolicies: WildcardJustification = {
  reason:
    `Managed policies only under Sundown's own path ${SUNDOWN_POLICY_PATH} (its overflow deny policies); ` +
    'no other managed policy can be created, changed or deleted.',
  applies: (s, f) => SUNDOWN_POLICIES.test(f) && only(s, SUNDOWN_POLICY_MANAGEMENT),
};
