import { only, type WildcardJustification } from '../statements.ts';

const SEAL_ARCHIVE_OBJECTS =
  /^Resource::arn:<AWS::Partition>:s3:::<AuditSealingSealArchive[A-F0-9]{8}>\/seals\/[\w-]+\/\*$/;

export const sealArchiveObjects: WildcardJustification = {
  reason:
    "The audit sealer writes each seal as a new object under seals/<chain>/ of the stack's Object Lock archive " +
    '(one key per epoch, so the key is not known in advance); PutObject only, and COMPLIANCE retention keeps every version.',
  applies: (s, f) => SEAL_ARCHIVE_OBJECTS.test(f) && only(s, new Set(['s3:PutObject'])),
};
