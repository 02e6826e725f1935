/**
 * The revoker's work for one message (messages of one principal arrive in
 * order, one at a time: FIFO message group = principal).
 *
 * Roles: render the principal's whole deny set from DynamoDB and write it,
 * unless a render at or past this message's version already did (that is
 * what coalesces a burst into a handful of IAM writes). Then move each of the
 * message's credentials `revoking -> revoked`, audited with time-to-revoke.
 */

import { appendAll } from '../adapters/audit-log.ts';
import { entryKey } from '../adapters/revocation-store.ts';
import { isPolicySizeError, type RolePolicyWriter } from '../adapters/role-policy-writer.ts';
import { pruneEntries, renderDenyPolicies } from '../domain/deny-policy.ts';
import type { AuditRecordInput } from '../schemas/audit-record.ts';
import type { CredentialRecord } from '../schemas/credential.ts';
import { messageGroupOf, type RevocationMessage } from '../schemas/revocation-message.ts';
import { auditCredential, credentialAudit } from './audit-helpers.ts';
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
  deps: RevokerDeps & Parameters<typeof revokeUser>[0] & Parameters<typeof revokeCertificates>[0],
  work: readonly RevocationWork[],
): Promise<{ errors: Map<string, unknown>; outcome: ApplyOutcome }> {
  const groups = new Map<string, RevocationWork[]>();
  for (const item of work) {
    const key = `${messageGroupOf(item.message)}|${item.message.target === 'certificate' ? item.message.revocationReason : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  const errors = new Map<string, unknown>();
  const outcome: ApplyOutcome = { iamWrites: 0, revoked: [], failed: [] };
  // Groups change different principals: independent, so they run side by side.
  await Promise.all(
    [...groups.values()].map(async (items) => {
      try {
        const result = await applyRevocation(deps, mergeMessages(items.map((i) => i.message)));
        outcome.iamWrites += result.iamWrites;
        outcome.revoked.push(...result.revoked);
        outcome.failed.push(...result.failed);
      } catch (err) {
        for (const item of items) errors.set(item.id, err);
      }
    }),
  );
  return { errors, outcome };
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

/** Re-renders with smaller budgets when IAM refuses a document for its size, at most this often. */
const MAX_SIZE_RETRIES = 3;
const SIZE_RETRY_FACTOR = 0.9;

async function applyRoleRevocation(deps: RevokerDeps, message: RoleMessage): Promise<ApplyOutcome> {
  const outcome: ApplyOutcome = { iamWrites: 0, revoked: [], failed: [] };
  const audits: AuditRecordInput[] = [];
  const { roleArn } = message;
  const state = await deps.store.load(roleArn);
  let entries = state.entries;
  let unplacedKeys = new Set(state.unplacedKeys);
  let prunedKeys = new Set<string>();
  if (state.renderedVersion < message.version || state.entries.length === 0) {
    const { kept, pruned: prunedEntries } = pruneEntries(state.entries, deps.now());
    prunedKeys = new Set(prunedEntries.map(entryKey));
    const pruned = state.entries.filter((e) => prunedKeys.has(entryKey(e)));
    if (pruned.length > 0) {
      await deps.store.deleteEntries(roleArn, pruned);
      for (const entry of pruned) {
        audits.push({
          type: 'pruned',
          at: deps.now().toISOString(),
          actor: deps.actor,
          workloadId: entry.workloadId,
          outcome: 'pruned',
          reason: 'every credential this deny entry targets has expired',
          details: { roleArn, sessionName: entry.sessionName, notAfter: entry.notAfter },
        });
      }
    }
    const inspection = await deps.rolePolicies.inspect(roleArn);
    let budgets = inspection.budgets;
    let previous = state.policyHashes;
    let rendered = renderDenyPolicies(kept, budgets);
    let applied: Awaited<ReturnType<RolePolicyWriter['apply']>> | undefined;
    for (let attempt = 0; !applied; attempt++) {
      try {
        applied = await deps.rolePolicies.apply(roleArn, rendered, inspection, previous);
      } catch (err) {
        if (!isPolicySizeError(err) || attempt >= MAX_SIZE_RETRIES) throw err;
        // IAM counted more than Sundown did (another inline policy grew, a quota differs): render
        // into smaller documents and write every policy again.
        const smaller = {
          ...budgets,
          inlineBudget: Math.floor(budgets.inlineBudget * SIZE_RETRY_FACTOR),
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
  const revokedAt = deps.now().toISOString();
  for (const credential of credentials) {
    if (credential.status !== 'revoking') continue; // duplicate or already settled
    const key = credential.sessionName
      ? entryKey({ sessionName: credential.sessionName, notAfter: credential.endedAt ?? '' })
      : '';
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
        reason: `sessions of ${credential.sessionName} issued before ${credential.endedAt} are denied on the role`,
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
