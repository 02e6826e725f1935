import { OPT_IN_TAG } from '../../constructs/revocation-permissions.ts';
import {
  BROKER_ASSUME,
  hasOptInCondition,
  IAM_PRINCIPAL_WILDCARD,
  only,
  type WildcardJustification,
} from '../statements.ts';

export const optInBrokerAssume: WildcardJustification = {
  reason:
    `The broker may assume (and tag/set the source identity of sessions of) only roles tagged ${OPT_IN_TAG.key}=` +
    `${OPT_IN_TAG.value}, enforced by IAM through aws:ResourceTag: the same opt-in as revocation.`,
  applies: (s, f) => IAM_PRINCIPAL_WILDCARD.test(f) && only(s, BROKER_ASSUME) && hasOptInCondition(s),
};
