/**
 * Pruning, shared by every kind of deny entry (role sessions, sessions of an access key's user):
 * which stored entries have outlived every session they target, and the `pruned` audit record of
 * each, so both revokers say the same thing when they drop one.
 */

import type { AuditActor, AuditRecordInput } from '../shared/schemas/audit-record.ts';
import { type DenyEntry, pruneEntries } from './deny-policy.ts';
import { entryKey, type StoredDenyEntry } from './store.ts';

export interface Pruning {
  /** The entries a render keeps. */
  kept: DenyEntry[];
  /** The stored entries to delete (with the workload each was written for). */
  pruned: StoredDenyEntry[];
  prunedKeys: ReadonlySet<string>;
}

export function pruneStored(entries: readonly StoredDenyEntry[], now: Date): Pruning {
  const { kept, pruned } = pruneEntries(entries, now);
  const prunedKeys = new Set(pruned.map(entryKey));
  return { kept, pruned: entries.filter((e) => prunedKeys.has(entryKey(e))), prunedKeys };
}

/** One `pruned` record per entry; `principal` names the role or the user the entry was on. */
export function prunedAudits(
  deps: { now(): Date; actor: AuditActor },
  principal: { roleArn: string } | { userArn: string },
  pruned: readonly StoredDenyEntry[],
): AuditRecordInput[] {
  const at = deps.now().toISOString();
  return pruned.map((entry) => ({
    type: 'pruned',
    at,
    actor: deps.actor,
    workloadId: entry.workloadId,
    outcome: 'pruned',
    reason: 'every session this deny entry targets has expired',
    details: { ...principal, sessionName: entry.sessionName, notAfter: entry.notAfter },
  }));
}
