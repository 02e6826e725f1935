/**
 * The revoker's engine: a batch of revocation messages, grouped by the principal (or CA) each
 * changes, every group applied once by the module of its credential kind:
 * role sessions (role-sessions/), access keys (access-keys/), certificates (certificates/).
 */
import { type AuditSink, appendAll } from '../audit/index.ts';
import type { AuditRecord, AuditRecordInput } from '../shared/schemas/audit-record.ts';
import type { CredentialRecord } from '../shared/schemas/credential.ts';
import { auditCredential } from '../shared/services/audit-helpers.ts';
import type { ServiceDeps } from '../shared/services/deps.ts';
import { revokeUser, type UserRevokerDeps } from './access-keys/revoke.ts';
import { type CertificateRevokerDeps, revokeCertificates } from './certificates/revoke.ts';
import { messageGroupOf, type RevocationMessage } from './messages.ts';
import { revokeRoleSessions } from './role-sessions/revoke.ts';
import type { ApplyOutcome, RevokerDeps } from './types.ts';

export type { ApplyOutcome, MetricsSink, RevokerDeps } from './types.ts';
export { earliestExpiry } from './types.ts';

/** One message of a revoker batch, by its SQS message ID. */
export interface RevocationWork {
  id: string;
  message: RevocationMessage;
}

/**
 * The revoker's batch: messages are grouped by the principal (or CA) they change and each group is
 * applied once, so a batch costs one deny-set read, one render and at most one write per changed
 * policy per role, however many messages name the role. Returns the error of each message whose
 * group failed (those are retried); groups are independent, so one role's failure holds up no other.
 */
export async function applyRevocations(
  deps: KindDeps,
  work: readonly RevocationWork[],
): Promise<{ errors: Map<string, unknown>; outcome: ApplyOutcome }> {
  const groups = new Map<string, RevocationWork[]>();
  for (const item of work) {
    const key = `${messageGroupOf(item.message)}|${item.message.target === 'certificate' ? item.message.revocationReason : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  const errors = new Map<string, unknown>();
  const outcome: ApplyOutcome = { iamWrites: 0, revoked: [], failed: [] };
  // The groups' audit records are appended once for the whole batch: groups run side by side, and
  // appending each on its own would make them race for the chain head.
  const audit = bufferedAudit();
  const batchDeps = { ...deps, audit: audit.sink };
  // Groups change different principals: independent, so they run side by side.
  await Promise.all(
    [...groups.values()].map(async (items) => {
      try {
        const result = await applyRevocation(batchDeps, mergeMessages(items.map((i) => i.message)));
        outcome.iamWrites += result.iamWrites;
        outcome.revoked.push(...result.revoked);
        outcome.failed.push(...result.failed);
      } catch (err) {
        for (const item of items) errors.set(item.id, err);
      }
    }),
  );
  await appendAll(deps.audit, audit.records);
  return { errors, outcome };
}

/** An audit sink that keeps what is appended, to append it later in one batch. */
function bufferedAudit(): { sink: AuditSink; records: AuditRecordInput[] } {
  const records: AuditRecordInput[] = [];
  const sink: AuditSink = {
    append: async (input) => {
      records.push(input);
      return input as AuditRecord;
    },
    appendMany: async (inputs) => {
      records.push(...inputs);
      return inputs as AuditRecord[];
    },
  };
  return { sink, records };
}

/** Messages of one target as one: every credential they name, the newest version. */
function mergeMessages(messages: readonly RevocationMessage[]): RevocationMessage {
  const [first, ...rest] = messages as [RevocationMessage, ...RevocationMessage[]];
  const ids = [...new Set(messages.flatMap((m) => m.credentialIds))];
  if (rest.length === 0) return first;
  if (first.target === 'certificate') return { ...first, credentialIds: ids };
  const version = Math.max(...messages.map((m) => ('version' in m ? m.version : 0)));
  return { ...first, version, credentialIds: ids };
}

type KindDeps = RevokerDeps & UserRevokerDeps & CertificateRevokerDeps;

/** One credential kind's revocation: what to deny, deactivate or revoke for one message's credentials. */
export type KindRevoker<T extends RevocationMessage['target']> = (
  deps: KindDeps,
  message: Extract<RevocationMessage, { target: T }>,
) => Promise<ApplyOutcome>;

/** The kinds, by the message target they handle: the engine never switches on the kind itself. */
const KINDS: { [T in RevocationMessage['target']]: KindRevoker<T> } = {
  role: revokeRoleSessions,
  user: revokeUser,
  certificate: revokeCertificates,
};

export function applyRevocation(deps: KindDeps, message: RevocationMessage): Promise<ApplyOutcome> {
  return (KINDS[message.target] as KindRevoker<typeof message.target>)(deps, message as never);
}

/**
 * After the last delivery attempt failed: leave the credentials in `failed`, audited, before the DLQ
 * takes the message. Returns the credentials it moved to `failed`.
 */
export async function markFailed(
  deps: ServiceDeps,
  message: RevocationMessage,
  error: unknown,
): Promise<CredentialRecord[]> {
  const failed: CredentialRecord[] = [];
  const reason = `revocation failed after retries: ${(error as Error)?.name ?? 'Error'}: ${String((error as Error)?.message ?? error).slice(0, 300)}`;
  for (const credentialId of message.credentialIds) {
    const credential = await deps.registry.transition(credentialId, ['revoking'], 'failed', {
      statusReason: reason,
    });
    if (credential) {
      await auditCredential(deps, credential, {
        type: 'failed',
        outcome: 'error',
        reason,
        details: { dlq: true },
      });
      failed.push(credential);
    }
  }
  return failed;
}
