/**
 * Work items on the revocation FIFO queue. The message group is a hash of the
 * target (role ARN, user ARN or CA ARN), so writes to one principal are
 * serialized; the readable ARN stays in the body.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CREDENTIAL_ID_PATTERN } from '../shared/domain/workload-id.ts';
import { CaArnSchema, RoleArnSchema } from '../shared/schemas/credential.ts';

const CredentialIds = z.array(z.string().regex(CREDENTIAL_ID_PATTERN)).min(1).max(500);
/**
 * Role and user messages may name no credential: the reconciliation sweep asks for a render of the
 * principal's deny set alone (pruning expired entries, restoring a deny that went missing).
 */
const RenderCredentialIds = z.array(z.string().regex(CREDENTIAL_ID_PATTERN)).max(500);

export const RevocationMessageSchema = z.discriminatedUnion('target', [
  z.strictObject({
    target: z.literal('role'),
    roleArn: RoleArnSchema,
    /** The principal's entry version after this request's entries were added. */
    version: z.number().int().positive(),
    credentialIds: RenderCredentialIds,
  }),
  z.strictObject({
    target: z.literal('user'),
    userArn: z.string().regex(/^arn:[\w-]+:iam::\d{12}:user\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]+$/),
    version: z.number().int().positive(),
    credentialIds: RenderCredentialIds,
  }),
  z.strictObject({
    target: z.literal('certificate'),
    caArn: CaArnSchema,
    revocationReason: z.enum(['CESSATION_OF_OPERATION', 'KEY_COMPROMISE']),
    credentialIds: CredentialIds,
  }),
]);
export type RevocationMessage = z.infer<typeof RevocationMessageSchema>;

/** The principal (or CA) a message changes: what its message group serializes. */
export function targetOf(message: RevocationMessage): string {
  switch (message.target) {
    case 'role':
      return message.roleArn;
    case 'user':
      return message.userArn;
    case 'certificate':
      return message.caArn;
  }
}

/**
 * FIFO MessageGroupId: `<target>-<sha256 of the ARN>`, 69 characters whatever the ARN (SQS allows
 * 128, and a role ARN with a path can exceed that). Same target, same group.
 */
export function messageGroupOf(message: RevocationMessage): string {
  return `${message.target}-${createHash('sha256').update(targetOf(message), 'utf8').digest('hex')}`;
}
