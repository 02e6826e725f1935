/**
 * A workload ended: find what the registry recorded for it and request
 * revocation of exactly those credentials. Nothing else on the same role or
 * user is touched: only deny entries for this workload's session names are
 * added, and only the recorded keys and certificates are queued.
 *
 * Idempotent: the registry moves each credential `active -> revoking` with a
 * condition, so a duplicated event finds nothing left to do.
 */
import { denyBoundFor } from './deny-bound.ts';

export { denyBoundFor } from './deny-bound.ts';

import { createHash } from 'node:crypto';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { appendAll } from '../shared/adapters/audit-log.ts';
import type { TransitionRequest } from '../shared/adapters/credential-registry.ts';
import type { Classification } from '../shared/domain/classify-event.ts';
import { partitionOf, userArn } from '../shared/domain/iam-arn.ts';
import type { MaxSessionHoursConfig } from '../shared/runtime-config.ts';
import type { AuditRecordInput } from '../shared/schemas/audit-record.ts';
import type { CredentialRecord, CredentialStatus } from '../shared/schemas/credential.ts';
import { auditTrigger, credentialAudit } from '../shared/services/audit-helpers.ts';
import type { ServiceDeps } from '../shared/services/deps.ts';
import { recordDiscoveredSession } from '../shared/services/record-credential.ts';
import { messageGroupOf, type RevocationMessage } from './messages.ts';
import type { StoredDenyEntry } from './store.ts';

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
 * sessions issued before the end's second was over ({@link denyBoundFor}), kept until every such
 * session has expired. (The sweep uses it to check that a revoked credential's entry is still in place.)
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
    notAfter: denyBoundFor(endedAt),
    expiresAt: addHours(endedAt, maxHours[credential.workloadKind]),
    // Reusable if either says so: an end that may be followed by a live successor (a GuardDuty
    // finding on a running instance, a stopped instance) must keep its exact bound, even for a
    // credential recorded at start as never reused.
    reusableName: reusableName || (credential.reusableSessionName ?? false),
    workloadId: credential.workloadId,
  };
}

/** The principal Sundown changes to revoke a credential. */
function principalOf(c: CredentialRecord): string | undefined {
  if (c.kind === 'role-session') return c.roleArn;
  if (c.kind === 'access-key' && c.userName) {
    return userArn(partitionOf(c.region), c.account, c.userPath ?? '/', c.userName);
  }
  return undefined; // certificates: the CA is the target, no opt-in tag applies
}

/** The outcome for one end of a batch: what it did, or why it could not be handled (then retried). */
export type BatchEndResult = { ok: true; outcome: EndOutcome } | { ok: false; error: unknown };

/** One end's request for revocation, while the batch is assembled. */
interface Planned {
  end: number;
  credential: CredentialRecord;
  endedAt: string;
  principal?: string;
  /** Already `revoking` when read: its earlier request was interrupted, so it is sent again. */
  resend: boolean;
}

function emptyOutcome(): EndOutcome {
  return { requested: [], skipped: [], dryRun: [], duplicates: [] };
}

/** One workload end (the CLI and the sweep); the batch engine below does the work. */
export async function endWorkload(deps: ServiceDeps, event: WorkloadEnded): Promise<EndOutcome> {
  const [result] = await endWorkloads(deps, [event]);
  if (!result?.ok) throw result?.error ?? new Error('workload end was not processed');
  return result.outcome;
}

/**
 * Ends a batch of workloads together: one strongly consistent registry read for all of them, the
 * state changes of the batch in transactions of up to 100, the batch's audit records in one
 * append, one deny-store write and ONE revocation message per role (user, CA) for the whole batch.
 *
 * Two ends of one workload in a batch (an EC2 `shutting-down` and `terminated`) are handled once,
 * by the earliest. A failure that concerns one end (its workload's role could not be resolved)
 * fails only that end; a failure of a shared step throws, and the queue retries the batch: every
 * step is idempotent (conditional transitions, entry keys derived from the entry, credentials
 * already `revoking` sent again).
 */
export async function endWorkloads(
  deps: ServiceDeps,
  events: readonly WorkloadEnded[],
): Promise<BatchEndResult[]> {
  const results: BatchEndResult[] = events.map(() => ({ ok: true, outcome: emptyOutcome() }));
  const outcomeOf = (i: number) => (results[i] as { ok: true; outcome: EndOutcome }).outcome;
  const maxHours = deps.config.SUNDOWN_MAX_SESSION_HOURS;
  const audits: AuditRecordInput[] = [];
  const at = () => deps.now().toISOString();

  // Earliest end per workload owns it; later ones in the batch are duplicates of it.
  const order = events
    .map((_, i) => i)
    .sort((a, b) => {
      const ea = events[a] as WorkloadEnded;
      const eb = events[b] as WorkloadEnded;
      return ea.endedAt < eb.endedAt ? -1 : ea.endedAt > eb.endedAt ? 1 : a - b;
    });
  const owner = new Map<string, number>();
  const duplicateOf = new Map<number, number>();
  for (const i of order) {
    const id = (events[i] as WorkloadEnded).workload.id;
    const first = owner.get(id);
    if (first === undefined) owner.set(id, i);
    else duplicateOf.set(i, first);
  }

  const found = await deps.registry.forWorkloads([...owner.keys()]);
  const planned: Planned[] = [];
  for (const [workloadId, i] of owner) {
    const event = events[i] as WorkloadEnded;
    const triggerKind = triggerKindOf(event.trigger);
    let credentials = found.get(workloadId) ?? [];
    try {
      if (event.credentialIds) {
        const wanted = new Set(event.credentialIds);
        credentials = credentials.filter((c) => wanted.has(c.credentialId));
      } else if (credentials.length === 0) {
        // The start was never seen (best-effort events, or Sundown deployed later):
        // resolve the role where the platform still can.
        const discovered = await recordDiscoveredSession(
          deps,
          event.workload,
          event.roleHint,
          event.trigger,
          event.endedAt,
        );
        if (discovered) credentials = [discovered];
      }
    } catch (error) {
      results[i] = { ok: false, error };
      continue;
    }
    if (credentials.length === 0) {
      audits.push({
        type: 'skipped',
        at: at(),
        actor: deps.actor,
        workloadId,
        trigger: auditTrigger(event.trigger, triggerKind),
        outcome: 'skipped',
        reason: `no credentials are recorded for workload ${workloadId}, and none could be resolved`,
      });
      continue;
    }
    const eligible = eligibleFor(event);
    for (const credential of credentials) {
      if (!eligible.includes(credential.status) && credential.status !== 'revoking') {
        outcomeOf(i).duplicates.push(credential.credentialId);
        continue;
      }
      const principal = principalOf(credential);
      planned.push({
        end: i,
        credential,
        // A credential already `revoking` had its request interrupted: keep its end time.
        endedAt: credential.endedAt ?? event.endedAt,
        resend: credential.status === 'revoking',
        ...(principal ? { principal } : {}),
      });
    }
  }

  // Opt-in, once per principal of the batch.
  const principals = [...new Set(planned.flatMap((p) => (p.principal ? [p.principal] : [])))];
  const decisions = new Map(
    await Promise.all(principals.map(async (arn) => [arn, await deps.optIn.check(arn)] as const)),
  );

  const transitions: TransitionRequest[] = [];
  const toRequest: Planned[] = [];
  const toSkip: (Planned & { reason: string })[] = [];
  for (const p of planned) {
    const event = events[p.end] as WorkloadEnded;
    const decision = p.principal ? decisions.get(p.principal) : undefined;
    const eligible = eligibleFor(event);
    if (decision && !decision.optedIn) {
      if (p.resend) continue; // requested earlier; the revoker settles it
      transitions.push({
        credentialId: p.credential.credentialId,
        from: eligible,
        to: 'skipped',
        fields: { statusReason: decision.reason, endedAt: event.endedAt },
      });
      toSkip.push({ ...p, reason: decision.reason });
      continue;
    }
    if (deps.config.SUNDOWN_DRY_RUN || event.dryRun) {
      audits.push(
        credentialAudit(deps, p.credential, {
          type: 'dry-run',
          outcome: 'dry-run',
          reason: `would revoke ${p.credential.kind} (${event.reason})`,
          trigger: auditTrigger(event.trigger, triggerKindOf(event.trigger)),
          details: { endedAt: event.endedAt, compromised: event.compromised, ...missedFlag(event) },
        }),
      );
      outcomeOf(p.end).dryRun.push(p.credential.credentialId);
      continue;
    }
    if (!p.resend) {
      transitions.push({
        credentialId: p.credential.credentialId,
        from: eligible,
        to: 'revoking',
        fields: {
          endedAt: event.endedAt,
          revokeRequestedAt: at(),
          statusReason: event.reason,
          trigger: { ...event.trigger },
          // The sweep rebuilds the deny entry from the record: keep the end's reusability there.
          ...(event.workload.reusableSessionName ? { reusableSessionName: true } : {}),
        },
      });
    }
    toRequest.push(p);
  }

  const moved = await deps.registry.transitionMany(transitions);
  for (const p of toSkip) {
    if (!moved.has(p.credential.credentialId)) continue;
    const event = events[p.end] as WorkloadEnded;
    audits.push(
      credentialAudit(deps, p.credential, {
        type: 'skipped',
        outcome: 'skipped',
        reason: p.reason,
        trigger: auditTrigger(event.trigger, triggerKindOf(event.trigger)),
      }),
    );
    outcomeOf(p.end).skipped.push(p.credential.credentialId);
  }

  const roles = new Map<string, { entries: StoredDenyEntry[]; ids: string[] }>();
  const users = new Map<string, { entries: StoredDenyEntry[]; ids: string[] }>();
  const certificates = new Map<string, { caArn: string; reason: CertificateReason; ids: string[] }>();
  const add = <T extends { ids: string[] }>(map: Map<string, T>, key: string, make: () => T) => {
    const group = map.get(key) ?? make();
    map.set(key, group);
    return group;
  };
  for (const p of toRequest) {
    const { credential } = p;
    const event = events[p.end] as WorkloadEnded;
    if (!p.resend) {
      if (!moved.has(credential.credentialId)) {
        outcomeOf(p.end).duplicates.push(credential.credentialId);
        continue;
      }
      audits.push(
        credentialAudit(deps, credential, {
          type: 'revocation-requested',
          outcome: 'requested',
          reason: event.reason,
          trigger: auditTrigger(event.trigger, triggerKindOf(event.trigger)),
          details: { endedAt: event.endedAt, compromised: event.compromised, ...missedFlag(event) },
        }),
      );
    }
    outcomeOf(p.end).requested.push(credential.credentialId);
    const roleEntry = roleDenyEntryFor(credential, p.endedAt, maxHours, event.workload.reusableSessionName);
    if (roleEntry && credential.roleArn) {
      const group = add(roles, credential.roleArn, () => ({ entries: [], ids: [] }));
      group.entries.push(roleEntry);
      group.ids.push(credential.credentialId);
    } else if (credential.kind === 'access-key' && p.principal) {
      // One store key per user however its ARN was written: the ARN IAM itself returned.
      const decision = decisions.get(p.principal);
      const userKey = (decision?.optedIn ? decision.arn : undefined) ?? p.principal;
      const group = add(users, userKey, () => ({ entries: [], ids: [] }));
      group.entries.push({
        sessionName: `key-${credential.accessKeyId}`.slice(0, 64),
        notAfter: denyBoundFor(p.endedAt),
        expiresAt: addHours(p.endedAt, maxHours.accessKeySessions),
        reusableName: false,
        workloadId: credential.workloadId,
      });
      group.ids.push(credential.credentialId);
    } else if (credential.kind === 'certificate' && credential.caArn) {
      const reason: CertificateReason = event.compromised ? 'KEY_COMPROMISE' : 'CESSATION_OF_OPERATION';
      const caArn = credential.caArn;
      add(certificates, `${caArn}|${reason}`, () => ({ caArn, reason, ids: [] })).ids.push(
        credential.credentialId,
      );
    }
  }

  await appendAll(deps.audit, audits);
  const messages: RevocationMessage[] = [];
  for (const [roleArn, group] of roles) {
    for (const ids of chunks(group.ids, MAX_CREDENTIALS_PER_MESSAGE)) {
      messages.push({ target: 'role', roleArn, version: 0, credentialIds: ids });
    }
  }
  for (const [userArn, group] of users) {
    for (const ids of chunks(group.ids, MAX_CREDENTIALS_PER_MESSAGE)) {
      messages.push({ target: 'user', userArn, version: 0, credentialIds: ids });
    }
  }
  // Entries first, then the message that carries the version covering them.
  const versions = await deps.store.addEntriesMany(
    new Map([...roles, ...users].map(([principal, group]) => [principal, group.entries] as const)),
  );
  for (const m of messages) {
    if (m.target === 'role') m.version = versions.get(m.roleArn) as number;
    if (m.target === 'user') m.version = versions.get(m.userArn) as number;
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
  await sendRevocations(deps, messages);

  for (const [i, first] of duplicateOf) {
    const outcome = outcomeOf(i);
    const ownerResult = results[first];
    if (!ownerResult?.ok) {
      results[i] = ownerResult ?? { ok: false, error: new Error('not processed') };
      continue;
    }
    outcome.duplicates.push(
      ...ownerResult.outcome.requested,
      ...ownerResult.outcome.skipped,
      ...ownerResult.outcome.dryRun,
      ...ownerResult.outcome.duplicates,
    );
  }
  return results;
}

type CertificateReason = 'CESSATION_OF_OPERATION' | 'KEY_COMPROMISE';

/** A revocation message names at most this many credentials (the message schema's bound). */
const MAX_CREDENTIALS_PER_MESSAGE = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A manual revoke of named credentials may also retry failed or skipped ones. */
function eligibleFor(event: WorkloadEnded): CredentialStatus[] {
  return event.credentialIds ? ['active', 'failed', 'skipped'] : ['active'];
}

/** The sweep found the workload gone or ended although no end event was processed. */
function missedFlag(event: WorkloadEnded): Record<string, boolean> {
  return triggerKindOf(event.trigger) === 'reconciliation' ? { endEventMissed: true } : {};
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
