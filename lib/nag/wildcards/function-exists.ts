import { only, type WildcardJustification } from '../statements.ts';

const FUNCTION_EXISTS = new Set(['lambda:GetFunctionConcurrency']);
const ANY_FUNCTION =
  /^Resource::arn:(?:<AWS::Partition>|aws[a-z-]*):lambda:(?:<AWS::Region>|[a-z0-9-]+|\*):(?:<AWS::AccountId>|\d{12}):function:\*$/;

export const functionExists: WildcardJustification = {
  reason:
    "The reconciliation sweep checks that a Lambda workload still exists with GetFunctionConcurrency on the account's " +
    'functions (any function can be a workload); it returns only the reserved concurrency, not code or environment.',
  applies: (s, f) => ANY_FUNCTION.test(f) && only(s, FUNCTION_EXISTS),
};
