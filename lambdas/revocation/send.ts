/**
 * Revocation requests onto the FIFO queue: one message per principal (role, user) or CA and reason,
 * chunked to the message schema's bound, each in its target's message group.
 */
import { createHash } from 'node:crypto';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { ServiceDeps } from '../shared/services/deps.ts';
import { messageGroupOf, type RevocationMessage } from './messages.ts';
import type { StoredDenyEntry } from './store.ts';

export type CertificateReason = 'CESSATION_OF_OPERATION' | 'KEY_COMPROMISE';

/** A revocation message names at most this many credentials (the message schema's bound). */
const MAX_CREDENTIALS_PER_MESSAGE = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** What a batch of ends asks to revoke, by target. */
export interface RevocationGroups {
  roles: Map<string, { entries: StoredDenyEntry[]; ids: string[] }>;
  users: Map<string, { entries: StoredDenyEntry[]; ids: string[] }>;
  certificates: Map<string, { caArn: string; reason: CertificateReason; ids: string[] }>;
}

/** The messages for `groups`; role and user messages carry the store version covering their entries. */
export function revocationMessages(
  { roles, users, certificates }: RevocationGroups,
  versions: ReadonlyMap<string, number>,
): RevocationMessage[] {
  const messages: RevocationMessage[] = [];
  for (const [roleArn, group] of roles) {
    for (const ids of chunks(group.ids, MAX_CREDENTIALS_PER_MESSAGE)) {
      messages.push({
        target: 'role',
        roleArn,
        version: versions.get(roleArn) as number,
        credentialIds: ids,
      });
    }
  }
  for (const [userArn, group] of users) {
    for (const ids of chunks(group.ids, MAX_CREDENTIALS_PER_MESSAGE)) {
      messages.push({
        target: 'user',
        userArn,
        version: versions.get(userArn) as number,
        credentialIds: ids,
      });
    }
  }
  for (const group of certificates.values()) {
    for (const ids of chunks(group.ids, MAX_CREDENTIALS_PER_MESSAGE)) {
      messages.push({
        target: 'certificate',
        caArn: group.caArn,
        credentialIds: ids,
        revocationReason: group.reason,
      });
    }
  }
  return messages;
}

export async function sendRevocations(deps: ServiceDeps, messages: RevocationMessage[]): Promise<void> {
  const queueUrl = deps.config.SUNDOWN_REVOCATION_QUEUE_URL;
  if (messages.length === 0) return;
  if (!queueUrl) throw new Error('SUNDOWN_REVOCATION_QUEUE_URL is not set');
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    const res = await deps.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((m, j) => {
          const body = JSON.stringify(m);
          return {
            Id: String(j),
            MessageBody: body,
            MessageGroupId: messageGroupOf(m),
            MessageDeduplicationId: createHash('sha256').update(body).digest('hex'),
          };
        }),
      }),
    );
    if ((res.Failed ?? []).length > 0) {
      throw new Error(
        `could not queue ${res.Failed?.length} revocation messages: ${res.Failed?.[0]?.Message}`,
      );
    }
  }
}
