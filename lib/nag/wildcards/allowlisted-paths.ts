import { SUNDOWN_POLICY_PATH } from '../../constructs/revocation-permissions.ts';
import {
  actions,
  attachesOnlySundownPolicies,
  BROKER_ASSUME,
  IAM_ARN,
  REVOKER_IAM_WRITES,
  type WildcardJustification,
} from '../statements.ts';

/** `role/<path>/*`: a path prefix from the `allowlist` setting (never the bare `role/*`). */
const ALLOWLISTED_PATH = new RegExp(String.raw`^Resource::${IAM_ARN}(role|user)(/[\w+=,.@-]+)+/\*$`);

export const allowlistedPaths: WildcardJustification = {
  reason:
    'A path prefix the operator listed in the `allowlist` setting: principals under it are opted in by ' +
    `configuration instead of the tag (Attach/DetachRolePolicy still only for policies under ${SUNDOWN_POLICY_PATH}).`,
  applies: (s, f) =>
    ALLOWLISTED_PATH.test(f) &&
    actions(s).every((a) => REVOKER_IAM_WRITES.has(a) || BROKER_ASSUME.has(a)) &&
    attachesOnlySundownPolicies(s),
};
