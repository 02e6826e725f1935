/**
 * A workload ended: find what the registry recorded for it and request
 * revocation of exactly those credentials. Nothing else on the same role or
 * user is touched: only deny entries for this workload's session names are
 * added, and only the recorded keys and certificates are queued.
 *
 * Idempotent: the registry moves each credential `active -> revoking` with a
 * condition, so a duplicated event finds nothing left to do.
 */
import { createHash } from 'node:crypto';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { StoredDenyEntry } from '../adapters/revocation-store.ts';
import type { Classification } from '../domain/classify-event.ts';
import type { MaxSessionHoursConfig } from '../runtime-config.ts';
import type { CredentialRecord, CredentialStatus } from '../schemas/credential.ts';
import { messageGroupOf, type RevocationMessage } from '../schemas/revocation-message.ts';
import { auditCredential, auditTrigger } from './audit-helpers.ts';
import type { ServiceDeps } from './deps.ts';
import { recordDiscoveredSession } from './record-credential.ts';

export type WorkloadEnded = Extract<Classification, { kind: 'workload-ended' }>;

export interface EndOutcome {
  requested: string[];
  skipped: string[];
  dryRun: string[];
  duplicates: string[];
}

const HOUR_MS = 3_600_000;

function addHours(iso: string, hours: number): string {
  return new Date(Date.parse(iso) + hours * HOUR_MS).toISOString();
}

/** Trigger source of the reconciliation sweep's requests (audited with trigger kind `reconciliation`). */
export const RECONCILIATION_SOURCE = 'sundown.reconciliation';

/** How an end was initiated, as the audit trail's trigger kind. */
function triggerKindOf(trigger: { source?: string }): string {
  if (trigger.source === RECONCILIATION_SOURCE) return 'reconciliation';
  return trigger.source === 'sundown' ? 'custom-event' : 'event';
}

/**
 * The deny entry that revokes a role-session credential ended at `endedAt`: its session name, only
 * sessions issued before the end, kept until every such session has expired. (The sweep uses it
 * to check that a revoked credential's entry is still in place.)
 */
export function roleDenyEntryFor(
  credential: CredentialRecord,
  endedAt: string,
  maxHours: MaxSessionHoursConfig,
  reusableName: boolean,
): StoredDenyEntry | undefined {
  if (credential.kind !== 'role-session' || !credential.roleArn || !credential.sessionName) return undefined;
  return {
    sessionName: credential.sessionName,
    notAfter: endedAt,
    expiresAt: addHours(endedAt, maxHours[credential.workloadKind]),
    reusableName: credential.reusableSessionName ?? reusableName,
    workloadId: credential.workloadId,
  };
}

/** The principal Sundown changes to revoke a credential. */
function principalOf(c: CredentialRecord): string | undefined {
  if (c.kind === 'role-session') return c.roleArn;
  if (c.kind === 'access-key' && c.userName) {
    return `arn:aws:iam::${c.account}:user/${c.userName}`;
  }
  return undefined; // certificates: the CA is the target, no opt-in tag applies
}

export async function endWorkload(deps: ServiceDeps, event: WorkloadEnded): Promise<EndOutcome> {
  const outcome: EndOutcome = { requested: [], skipped: [], dryRun: [], duplicates: [] };
  const { workload, endedAt, trigger } = event;
  const triggerKind = triggerKindOf(trigger);
  // The sweep found the workload gone or ended although no end event was processed.
  const missed: Record<string, boolean> = triggerKind === 'reconciliation' ? { endEventMissed: true } : {};
  const dryRun = deps.config.SUNDOWN_DRY_RUN || event.dryRun;
  const maxHours = deps.config.SUNDOWN_MAX_SESSION_HOURS;

  let credentials = await deps.registry.forWorkload(workload.id);
  if (event.credentialIds) {
    const wanted = new Set(event.credentialIds);
    credentials = credentials.filter((c) => wanted.has(c.credentialId));
  } else if (credentials.length === 0) {
    // The start was never seen (best-effort events, or Sundown deployed later):
    // resolve the role where the platform still can.
    const discovered = await recordDiscoveredSession(deps, workload, undefined, trigger, endedAt);
    if (discovered) credentials = [discovered];
  }
  if (credentials.length === 0) {
    await deps.audit.append({
      type: 'skipped',
      at: deps.now().toISOString(),
      actor: deps.actor,
      workloadId: workload.id,
      trigger: auditTrigger(trigger, triggerKind),
      outcome: 'skipped',
      reason: `no credentials are recorded for workload ${workload.id}, and none could be resolved`,
    });
    return outcome;
  }

  // A manual revoke of named credentials may also retry failed or skipped ones.
  const eligible: CredentialStatus[] = event.credentialIds ? ['active', 'failed', 'skipped'] : ['active'];
  const roleEntries = new Map<string, { entries: StoredDenyEntry[]; ids: string[] }>();
  const userEntries = new Map<string, { entries: StoredDenyEntry[]; ids: string[] }>();
  const certificates = new Map<string, string[]>();

  for (const credential of credentials) {
    if (!eligible.includes(credential.status) && credential.status !== 'revoking') {
      outcome.duplicates.push(credential.credentialId);
      continue;
    }
    const principal = principalOf(credential);
    if (principal) {
      const decision = await deps.optIn.check(principal);
      if (!decision.optedIn) {
        const moved = await deps.registry.transition(credential.credentialId, eligible, 'skipped', {
          statusReason: decision.reason,
          endedAt,
        });
        if (moved) {
          await auditCredential(deps, credential, {
            type: 'skipped',
            outcome: 'skipped',
            reason: decision.reason,
            trigger: auditTrigger(trigger, triggerKind),
          });
          outcome.skipped.push(credential.credentialId);
        }
        continue;
      }
    }
    if (dryRun) {
      await auditCredential(deps, credential, {
        type: 'dry-run',
        outcome: 'dry-run',
        reason: `would revoke ${credential.kind} (${event.reason})`,
        trigger: auditTrigger(trigger, triggerKind),
        details: { endedAt, compromised: event.compromised, ...missed },
      });
      outcome.dryRun.push(credential.credentialId);
      continue;
    }
    const alreadyRevoking = credential.status === 'revoking';
    if (!alreadyRevoking) {
      const moved = await deps.registry.transition(credential.credentialId, eligible, 'revoking', {
        endedAt,
        revokeRequestedAt: deps.now().toISOString(),
        statusReason: event.reason,
        trigger: { ...trigger },
      });
      if (!moved) {
        outcome.duplicates.push(credential.credentialId);
        continue;
      }
      await auditCredential(deps, credential, {
        type: 'revocation-requested',
        outcome: 'requested',
        reason: event.reason,
        trigger: auditTrigger(trigger, triggerKind),
        details: { endedAt, compromised: event.compromised, ...missed },
      });
    }
    // A credential already `revoking` had its request interrupted: send it again
    // (every step downstream is idempotent).
    const credentialEndedAt = credential.endedAt ?? endedAt;
    outcome.requested.push(credential.credentialId);
    const roleEntry = roleDenyEntryFor(credential, credentialEndedAt, maxHours, workload.reusableSessionName);
    if (roleEntry && credential.roleArn) {
      const group = roleEntries.get(credential.roleArn) ?? { entries: [], ids: [] };
      group.entries.push(roleEntry);
      group.ids.push(credential.credentialId);
      roleEntries.set(credential.roleArn, group);
    } else if (credential.kind === 'access-key' && principal) {
      const group = userEntries.get(principal) ?? { entries: [], ids: [] };
      group.entries.push({
        sessionName: `key-${credential.accessKeyId}`.slice(0, 64),
        notAfter: credentialEndedAt,
        expiresAt: addHours(credentialEndedAt, maxHours.accessKeySessions),
        reusableName: false,
        workloadId: credential.workloadId,
      });
      group.ids.push(credential.credentialId);
      userEntries.set(principal, group);
    } else if (credential.kind === 'certificate' && credential.caArn) {
      certificates.set(credential.caArn, [
        ...(certificates.get(credential.caArn) ?? []),
        credential.credentialId,
      ]);
    }
  }

  const messages: RevocationMessage[] = [];
  for (const [roleArn, group] of roleEntries) {
    const version = await deps.store.addEntries(roleArn, group.entries);
    messages.push({ target: 'role', roleArn, version, credentialIds: group.ids });
  }
  for (const [userArn, group] of userEntries) {
    const version = await deps.store.addEntries(userArn, group.entries);
    messages.push({ target: 'user', userArn, version, credentialIds: group.ids });
  }
  for (const [caArn, ids] of certificates) {
    messages.push({
      target: 'certificate',
      caArn,
      credentialIds: ids,
      revocationReason: event.compromised ? 'KEY_COMPROMISE' : 'CESSATION_OF_OPERATION',
    });
  }
  await sendRevocations(deps, messages);
  return outcome;
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
