/**
 * A workload ended: find what the registry recorded for it and request
 * revocation of exactly those credentials. Nothing else on the same role or
 * user is touched: only deny entries for this workload's session names are
 * added, and only the recorded keys and certificates are queued.
 *
 * Idempotent: the registry moves each credential `active -> revoking` with a
 * condition, so a duplicated event finds nothing left to do.
 */

import { appendAll } from '../audit/index.ts';
import { recordDiscoveredSession } from '../registration/index.ts';
import type { TransitionRequest } from '../registry/index.ts';
import type { AuditRecordInput } from '../shared/schemas/audit-record.ts';
import { auditTrigger, credentialAudit } from '../shared/services/audit-helpers.ts';
import type { ServiceDeps } from '../shared/services/deps.ts';
import { addHours, denyBoundFor, principalOf, roleDenyEntryFor } from './deny-entries.ts';
import {
  type BatchEndResult,
  type EndOutcome,
  eligibleFor,
  emptyOutcome,
  missedFlag,
  ownersOf,
  type Planned,
  settleDuplicates,
  triggerKindOf,
  type WorkloadEnded,
} from './end-request.ts';
import { type CertificateReason, revocationMessages, sendRevocations } from './send.ts';
import type { StoredDenyEntry } from './store.ts';

export { denyBoundFor, roleDenyEntryFor } from './deny-entries.ts';
export {
  type BatchEndResult,
  type EndOutcome,
  RECONCILIATION_SOURCE,
  type WorkloadEnded,
} from './end-request.ts';
export { sendRevocations } from './send.ts';

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
  const { owner, duplicateOf } = ownersOf(events);

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

  // Two paths. The deny entries, then the messages carrying the version that covers them. And the
  // batch's audit records, which need not precede the messages (the revoker appends to another
  // chain, and a credential's records are ordered by their times, fixed when built): they start
  // once the store's writes settle, whatever the outcome, so the chain's transactions (~0.5 s of a
  // one-call-at-a-time emulator at 1,000 ends) never delay the deny entries; on AWS the append
  // starts a round trip later. It still runs when storing failed. Either failing fails the batch,
  // which is retried whole (the resend path; see above).
  const stored = deps.store.addEntriesMany(
    new Map([...roles, ...users].map(([principal, group]) => [principal, group.entries] as const)),
  );
  const [appended, sent] = await Promise.allSettled([
    stored.catch(() => undefined).then(() => appendAll(deps.audit, audits)),
    stored.then((versions) =>
      sendRevocations(deps, revocationMessages({ roles, users, certificates }, versions)),
    ),
  ]);
  if (sent.status === 'rejected') throw sent.reason;
  if (appended.status === 'rejected') throw appended.reason;

  settleDuplicates(results, duplicateOf);
  return results;
}
