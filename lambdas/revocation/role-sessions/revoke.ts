/**
 * Revoking role sessions: render the role's whole deny set from DynamoDB and write what changed
 * (one render per role per revoker batch), then settle the batch's credentials together.
 */

import { appendAll } from '../../audit/index.ts';
import type { AuditRecordInput } from '../../shared/schemas/audit-record.ts';
import type { CredentialRecord } from '../../shared/schemas/credential.ts';
import { credentialAudit } from '../../shared/services/audit-helpers.ts';
import { denyBoundFor, denyEntryKeysFor } from '../deny-entries.ts';
import { renderDenyPolicies } from '../deny-policy.ts';
import type { RevocationMessage } from '../messages.ts';
import { prunedAudits, pruneStored } from '../pruned.ts';
import { entryKey } from '../store.ts';
import { type ApplyOutcome, earliestExpiry, type RevokerDeps } from '../types.ts';
import { isPolicySizeError, type RolePolicyWriter } from './policy-writer.ts';

type RoleMessage = Extract<RevocationMessage, { target: 'role' }>;

/** Re-renders with smaller budgets when IAM refuses a document for its size, at most this often. */
const MAX_SIZE_RETRIES = 3;
const SIZE_RETRY_FACTOR = 0.9;

export async function revokeRoleSessions(deps: RevokerDeps, message: RoleMessage): Promise<ApplyOutcome> {
  const outcome: ApplyOutcome = { iamWrites: 0, revoked: [], failed: [] };
  const audits: AuditRecordInput[] = [];
  const { roleArn } = message;
  // The role's inspection is read beside its deny set (reused for a while, so a batch that turns
  // out to need no render rarely costs IAM a read).
  const inspecting = deps.rolePolicies.inspect(roleArn);
  inspecting.catch(() => undefined); // awaited below only when a render is needed
  const state = await deps.store.load(roleArn);
  let entries = state.entries;
  let unplacedKeys = new Set(state.unplacedKeys);
  let prunedKeys: ReadonlySet<string> = new Set<string>();
  /** When this batch's deny was in force: IAM accepted the last write of the render. */
  let deniedAt: string | undefined;
  if (state.renderedVersion < message.version || state.entries.length === 0) {
    const pruning = pruneStored(state.entries, deps.now());
    const kept = pruning.kept;
    prunedKeys = pruning.prunedKeys;
    if (pruning.pruned.length > 0) {
      await deps.store.deleteEntries(roleArn, pruning.pruned);
      audits.push(...prunedAudits(deps, { roleArn }, pruning.pruned));
    }
    let inspection = await inspecting;
    let budgets = inspection.budgets;
    let previous = state.policyHashes;
    let rendered = renderDenyPolicies(kept, budgets);
    let applied: Awaited<ReturnType<RolePolicyWriter['apply']>> | undefined;
    for (let attempt = 0; !applied; attempt++) {
      try {
        applied = await deps.rolePolicies.apply(roleArn, rendered, inspection, previous);
      } catch (err) {
        if (!isPolicySizeError(err) || attempt >= MAX_SIZE_RETRIES) throw err;
        // IAM counted more than Sundown did (another inline policy grew, a quota differs): read
        // the role again, render into smaller documents and write every policy again.
        inspection = await deps.rolePolicies.inspect(roleArn, { fresh: true });
        const smaller = {
          ...inspection.budgets,
          inlineBudget: Math.floor(
            Math.min(budgets.inlineBudget, inspection.budgets.inlineBudget) * SIZE_RETRY_FACTOR,
          ),
          managedBudget: Math.floor(budgets.managedBudget * SIZE_RETRY_FACTOR),
        };
        audits.push({
          type: 'policy-resized',
          at: deps.now().toISOString(),
          actor: deps.actor,
          outcome: 'retried',
          reason: `IAM refused a deny policy of ${roleArn} for its size (${errorText(err)}); rendered again into ${smaller.inlineBudget} inline and ${smaller.managedBudget} per managed policy`,
          details: {
            roleArn,
            attempt: attempt + 1,
            inlineBudget: smaller.inlineBudget,
            managedBudget: smaller.managedBudget,
          },
        });
        budgets = smaller;
        previous = {};
        rendered = renderDenyPolicies(kept, budgets);
      }
    }
    deniedAt = deps.now().toISOString();
    outcome.iamWrites += applied.writes;
    unplacedKeys = new Set(rendered.unplaced.map(entryKey));
    await deps.store.markRendered(roleArn, state.version, {
      iamWrites: applied.writes,
      charsUsed: rendered.charsUsed,
      charsCapacity: rendered.charsCapacity,
      managedPolicies: rendered.managed.length,
      unplaced: rendered.unplaced.length,
      coarsenedSeconds: rendered.coarsenedSeconds,
      nextExpiry: earliestExpiry(kept),
      policyHashes: applied.hashes,
      unplacedKeys: [...unplacedKeys],
      renderedAt: deniedAt,
    });
    deps.metricsSink?.(
      'PolicyCapacityUsed',
      (100 * rendered.charsUsed) / Math.max(1, rendered.charsCapacity),
      'Percent',
      { role: roleArn.slice(roleArn.lastIndexOf('/') + 1) },
    );
    deps.metricsSink?.('IamWrites', applied.writes, 'Count');
    entries = state.entries.filter((e) => !prunedKeys.has(entryKey(e)));
  }

  // Settle the batch's credentials together: one read, one transaction per 100, one audit append.
  const present = new Set(entries.map(entryKey));
  const credentials = await deps.registry.getMany(message.credentialIds);
  const settle: { credential: CredentialRecord; to: 'revoked' | 'failed' | 'expired'; reason: string }[] = [];
  // A revocation takes effect when its deny is written, not when the bookkeeping after it is done.
  // A batch whose sessions an earlier render already covered (coalesced: that render's version
  // includes this message's) took effect when IAM accepted that render.
  const revokedAt = deniedAt ?? state.renderedAt ?? deps.now().toISOString();
  for (const credential of credentials) {
    if (credential.status !== 'revoking') continue; // duplicate or already settled
    const keys: readonly string[] = credential.sessionName
      ? denyEntryKeysFor(credential.sessionName, credential.endedAt ?? '')
      : [''];
    const key = keys.find((k) => present.has(k) || prunedKeys.has(k)) ?? (keys[0] as string);
    if (prunedKeys.has(key)) {
      // Every session this entry targets had expired by the time it was processed.
      settle.push({
        credential,
        to: 'expired',
        reason: 'the credential had already expired when its revocation was processed',
      });
    } else if (!present.has(key) || unplacedKeys.has(key)) {
      settle.push({
        credential,
        to: 'failed',
        reason: present.has(key)
          ? `policy capacity of ${roleArn} is exhausted: the deny for session ${credential.sessionName} could not be placed`
          : `no deny entry for session ${credential.sessionName} was found for ${roleArn}`,
      });
    } else {
      settle.push({
        credential,
        to: 'revoked',
        reason: `sessions of ${credential.sessionName} issued before ${denyBoundFor(credential.endedAt ?? '')} (the end of the second it ended in) are denied on the role`,
      });
    }
  }
  const moved = await deps.registry.transitionMany(
    settle.map(({ credential, to, reason }) => ({
      credentialId: credential.credentialId,
      from: ['revoking'],
      to,
      fields: to === 'revoked' ? { revokedAt } : { statusReason: reason },
    })),
  );
  for (const { credential, to, reason } of settle) {
    if (!moved.has(credential.credentialId)) continue;
    if (to === 'expired') {
      audits.push(credentialAudit(deps, credential, { type: 'expired', outcome: 'expired', reason }));
    } else if (to === 'failed') {
      audits.push(credentialAudit(deps, credential, { type: 'failed', outcome: 'error', reason }));
      deps.metricsSink?.('RevocationsFailed', 1, 'Count');
      deps.metricsSink?.('Revocations', 1, 'Count', { kind: credential.kind, outcome: 'failed' });
      outcome.failed.push(credential.credentialId);
    } else {
      const timeToRevokeMs = Date.parse(revokedAt) - Date.parse(credential.endedAt ?? revokedAt);
      audits.push(
        credentialAudit(deps, credential, {
          type: 'revoked',
          outcome: 'success',
          reason,
          details: {
            timeToRevokeMs,
            endedAt: credential.endedAt ?? '',
            propagation:
              'IAM policy changes take effect within seconds to a few minutes (eventual consistency)',
          },
        }),
      );
      deps.metricsSink?.('TimeToRevoke', timeToRevokeMs, 'Milliseconds', { kind: credential.kind });
      deps.metricsSink?.('RevocationsSucceeded', 1, 'Count');
      deps.metricsSink?.('Revocations', 1, 'Count', { kind: credential.kind, outcome: 'revoked' });
      outcome.revoked.push(credential.credentialId);
    }
  }
  await appendAll(deps.audit, audits);
  return outcome;
}

function errorText(err: unknown): string {
  return `${(err as Error)?.name ?? 'Error'}: ${String((err as Error)?.message ?? err).slice(0, 200)}`;
}
