import { OPT_IN_TAG, SUNDOWN_POLICY_PATH } from '../../constructs/revocation-permissions.ts';
import {
  attachesOnlySundownPolicies,
  hasOptInCondition,
  IAM_PRINCIPAL_WILDCARD,
  only,
  REVOKER_IAM_WRITES,
  type WildcardJustification,
} from '../statements.ts';

export const optInRevocationWrites: WildcardJustification = {
  reason:
    `Revocation writes on role/* and user/* are allowed only with aws:ResourceTag/${OPT_IN_TAG.key}=${OPT_IN_TAG.value}: ` +
    'IAM itself limits them to principals that opted in (Sundown cannot tag), service-linked roles are denied, ' +
    `and Attach/DetachRolePolicy only for policies under ${SUNDOWN_POLICY_PATH} (iam:PolicyARN).`,
  applies: (s, f) =>
    IAM_PRINCIPAL_WILDCARD.test(f) &&
    only(s, REVOKER_IAM_WRITES) &&
    hasOptInCondition(s) &&
    attachesOnlySundownPolicies(s),
};
