import { getAttArnOf, only, resources, type WildcardJustification } from '../statements.ts';

const KEY_USE = new Set([
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
]);

export const keyUse: WildcardJustification = {
  reason:
    "CDK's grant on Sundown's customer managed key: DynamoDB and SQS encryption need the ReEncrypt*/GenerateDataKey* " +
    'variants, and the statement names only that key.',
  applies: (s, f, st) =>
    f.startsWith('Action::kms:') &&
    only(s, KEY_USE) &&
    resources(s).every((r) => st.keyIds.has(getAttArnOf(r) ?? '')),
};
