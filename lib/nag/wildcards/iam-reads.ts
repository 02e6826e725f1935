import { actions, IAM_PRINCIPAL_WILDCARD, type WildcardJustification } from '../statements.ts';

export const iamReads: WildcardJustification = {
  reason:
    'Read-only (iam:Get*/iam:List*) on roles, users and instance profiles: Sundown reads opt-in tags, resolves a ' +
    "workload's role and renders a principal's deny policies from what is attached.",
  applies: (s, f) => IAM_PRINCIPAL_WILDCARD.test(f) && actions(s).every((a) => /^iam:(Get|List)\w+$/.test(a)),
};
