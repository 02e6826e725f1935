import type { Trigger } from '../../triggers/envelope.ts';
import type { AuditRecordInput, AuditTrigger } from '../schemas/audit-record.ts';
import type { CredentialRecord } from '../schemas/credential.ts';
import type { ServiceDeps } from './deps.ts';

/** The audit trail's view of what started a change. */
export function auditTrigger(trigger: Trigger | undefined, kind: string): AuditTrigger {
  return {
    kind,
    ...(trigger?.eventId ? { eventId: trigger.eventId.slice(0, 256) } : {}),
    ...(trigger?.source ? { source: trigger.source.slice(0, 256) } : {}),
    ...(trigger?.detailType ? { detailType: trigger.detailType.slice(0, 256) } : {}),
  };
}

/** The identifiers of a credential worth keeping in its audit records (never secrets). */
export function credentialDetails(c: CredentialRecord): Record<string, string> {
  const d: Record<string, string> = {};
  if (c.roleArn) d.roleArn = c.roleArn;
  if (c.sessionName) d.sessionName = c.sessionName;
  if (c.accessKeyId) d.accessKeyId = c.accessKeyId;
  if (c.userName) d.userName = c.userName;
  if (c.caArn) d.caArn = c.caArn;
  if (c.serial) d.serial = c.serial;
  return d;
}

type Extra = Partial<Omit<AuditRecordInput, 'actor' | 'at'>> & Pick<AuditRecordInput, 'type' | 'outcome'>;

export function auditCredential(
  deps: ServiceDeps,
  credential: CredentialRecord,
  extra: Extra,
): Promise<unknown> {
  return deps.audit.append(credentialAudit(deps, credential, extra));
}

/** The audit record of a change to one credential, to append now or with a batch. */
export function credentialAudit(
  deps: Pick<ServiceDeps, 'now' | 'actor'>,
  credential: CredentialRecord,
  extra: Extra,
): AuditRecordInput {
  return {
    at: deps.now().toISOString(),
    actor: deps.actor,
    account: credential.account,
    workloadId: credential.workloadId,
    credentialId: credential.credentialId,
    credentialKind: credential.kind,
    ...extra,
    details: { ...credentialDetails(credential), ...(extra.details ?? {}) },
  };
}
