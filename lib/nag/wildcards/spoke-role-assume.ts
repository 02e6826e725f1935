import {
  SPOKE_READER_ROLE_NAME,
  SPOKE_REVOKER_ROLE_NAME,
  SPOKE_ROLE_PATH,
} from '../../../lambdas/shared/contract.ts';
import { only, type WildcardJustification } from '../statements.ts';

const ASSUME = new Set(['sts:AssumeRole']);
const SPOKE_ROLE_IN_ANY_ACCOUNT = new RegExp(
  String.raw`^Resource::arn:(?:<AWS::Partition>|aws[a-z-]*):iam::\*:role${SPOKE_ROLE_PATH}(${SPOKE_REVOKER_ROLE_NAME}|${SPOKE_READER_ROLE_NAME})$`,
);

/** A hub with only an organization: its functions assume Sundown's spoke roles in any account of it. */
export const spokeRoleAssume: WildcardJustification = {
  reason:
    `A hub serving an organization may assume Sundown's spoke roles (${SPOKE_ROLE_PATH}${SPOKE_REVOKER_ROLE_NAME}, ` +
    `${SPOKE_ROLE_PATH}${SPOKE_READER_ROLE_NAME}) in any account whose owner is in the organization ` +
    '(aws:ResourceOrgID): accounts join it without a hub deployment; each spoke role trusts only the hub roles by ARN.',
  applies: (s, f) =>
    SPOKE_ROLE_IN_ANY_ACCOUNT.test(f) &&
    only(s, ASSUME) &&
    /^o-[a-z0-9]{10,32}$/.test(String(s.Condition?.StringEquals?.['aws:ResourceOrgID'])),
};
