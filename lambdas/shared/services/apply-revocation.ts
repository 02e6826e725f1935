/**
 * The revoker's work for one message (messages of one principal arrive in
 * order, one at a time: FIFO message group = principal).
 *
 * Roles: render the principal's whole deny set from DynamoDB and write it,
 * unless a render at or past this message's version already did (that is
 * what coalesces a burst into a handful of IAM writes). Then move each of the
 * message's credentials `revoking -> revoked`, audited with time-to-revoke.
 */

import { entryKey } from '../adapters/revocation-store.ts';
import type { RolePolicyWriter } from '../adapters/role-policy-writer.ts';
import { pruneEntries, renderDenyPolicies } from '../domain/deny-policy.ts';
import type { CredentialRecord } from '../schemas/credential.ts';
import type { RevocationMessage } from '../schemas/revocation-message.ts';
import { auditCredential } from './audit-helpers.ts';
import type { ServiceDeps } from './deps.ts';
import { revokeCertificates } from './revoke-certificates.ts';
import { revokeUser } from './revoke-user.ts';

/**
 * Where services record metrics. `dimensions` adds a breakdown (e.g. kind and outcome); the metric
 * is always recorded without it as well, so alarms can watch the total.
 */
export type MetricsSink = (
  name: string,
  value: number,
  unit: 'Count' | 'Milliseconds' | 'Percent',
  dimensions?: Record<string, string>,
) => void;

export interface RevokerDeps extends ServiceDeps {
  rolePolicies: RolePolicyWriter;
  metricsSink?: MetricsSink;
}

/** The earliest expiry among deny entries (ISO strings sort in time order); undefined for none. */
export function earliestExpiry(entries: readonly { expiresAt: string }[]): string | undefined {
  let earliest: string | undefined;
  for (const e of entries) if (earliest === undefined || e.expiresAt < earliest) earliest = e.expiresAt;
  return earliest;
}

export interface ApplyOutcome {
  iamWrites: number;
  revoked: string[];
  failed: string[];
}

type RoleMessage = Extract<RevocationMessage, { target: 'role' }>;

export async function applyRevocation(deps: RevokerDeps, message: RevocationMessage): Promise<ApplyOutcome> {
  switch (message.target) {
    case 'role':
      return applyRoleRevocation(deps, message);
    case 'user':
      return revokeUser(deps, message);
    case 'certificate':
      return revokeCertificates(deps, message);
  }
}

async function applyRoleRevocation(deps: RevokerDeps, message: RoleMessage): Promise<ApplyOutcome> {
  const outcome: ApplyOutcome = { iamWrites: 0, revoked: [], failed: [] };
  let state = await deps.store.load(message.roleArn);
  let unplacedKeys = new Set<string>();
  let prunedKeys = new Set<string>();
  if (state.renderedVersion < message.version || state.entries.length === 0) {
    const { kept, pruned: prunedEntries } = pruneEntries(state.entries, deps.now());
    prunedKeys = new Set(prunedEntries.map(entryKey));
    const pruned = state.entries.filter((e) => prunedKeys.has(entryKey(e)));
    if (pruned.length > 0) {
      await deps.store.deleteEntries(message.roleArn, pruned);
      for (const entry of pruned) {
        await deps.audit.append({
          type: 'pruned',
          at: deps.now().toISOString(),
          actor: deps.actor,
          workloadId: entry.workloadId,
          outcome: 'pruned',
          reason: 'every credential this deny entry targets has expired',
          details: { roleArn: message.roleArn, sessionName: entry.sessionName, notAfter: entry.notAfter },
        });
      }
    }
    const budgets = await deps.rolePolicies.budgets(message.roleArn);
    const rendered = renderDenyPolicies(kept, budgets);
    const applied = await deps.rolePolicies.apply(message.roleArn, rendered);
    outcome.iamWrites += applied.writes;
    unplacedKeys = new Set(rendered.unplaced.map(entryKey));
    await deps.store.markRendered(message.roleArn, state.version, {
      iamWrites: applied.writes,
      charsUsed: rendered.charsUsed,
      charsCapacity: rendered.charsCapacity,
      managedPolicies: rendered.managed.length,
      unplaced: rendered.unplaced.length,
      coarsenedSeconds: rendered.coarsenedSeconds,
      nextExpiry: earliestExpiry(kept),
    });
    deps.metricsSink?.(
      'PolicyCapacityUsed',
      (100 * rendered.charsUsed) / Math.max(1, rendered.charsCapacity),
      'Percent',
      { role: message.roleArn.slice(message.roleArn.lastIndexOf('/') + 1) },
    );
    deps.metricsSink?.('IamWrites', applied.writes, 'Count');
    state = { ...state, entries: state.entries.filter((e) => !prunedKeys.has(entryKey(e))) };
  }

  for (const credentialId of message.credentialIds) {
    const credential = await deps.registry.get(credentialId);
    if (credential?.status !== 'revoking') continue; // duplicate or already settled
    const key = credential.sessionName
      ? entryKey({ sessionName: credential.sessionName, notAfter: credential.endedAt ?? '' })
      : '';
    if (prunedKeys.has(key)) {
      // Every session this entry targets had expired by the time it was processed.
      const reason = 'the credential had already expired when its revocation was processed';
      const expired = await deps.registry.transition(credentialId, ['revoking'], 'expired', {
        statusReason: reason,
      });
      if (expired) await auditCredential(deps, credential, { type: 'expired', outcome: 'expired', reason });
      continue;
    }
    const present = state.entries.some((e) => entryKey(e) === key);
    if (!present || unplacedKeys.has(key)) {
      const reason = present
        ? `policy capacity of ${message.roleArn} is exhausted: the deny for session ${credential.sessionName} could not be placed`
        : `no deny entry for session ${credential.sessionName} was found for ${message.roleArn}`;
      const failed = await deps.registry.transition(credentialId, ['revoking'], 'failed', {
        statusReason: reason,
      });
      if (failed) {
        await auditCredential(deps, credential, { type: 'failed', outcome: 'error', reason });
        deps.metricsSink?.('RevocationsFailed', 1, 'Count');
        deps.metricsSink?.('Revocations', 1, 'Count', { kind: credential.kind, outcome: 'failed' });
        outcome.failed.push(credentialId);
      }
      continue;
    }
    const revokedAt = deps.now().toISOString();
    const revoked = await deps.registry.transition(credentialId, ['revoking'], 'revoked', { revokedAt });
    if (!revoked) continue;
    const timeToRevokeMs = Date.parse(revokedAt) - Date.parse(credential.endedAt ?? revokedAt);
    await auditCredential(deps, credential, {
      type: 'revoked',
      outcome: 'success',
      reason: `sessions of ${credential.sessionName} issued before ${credential.endedAt} are denied on the role`,
      details: {
        timeToRevokeMs,
        endedAt: credential.endedAt ?? '',
        propagation: 'IAM policy changes take effect within seconds to a few minutes (eventual consistency)',
      },
    });
    deps.metricsSink?.('TimeToRevoke', timeToRevokeMs, 'Milliseconds', { kind: credential.kind });
    deps.metricsSink?.('RevocationsSucceeded', 1, 'Count');
    deps.metricsSink?.('Revocations', 1, 'Count', { kind: credential.kind, outcome: 'revoked' });
    outcome.revoked.push(credentialId);
  }
  return outcome;
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
