import { OPEN_ENDED } from '../registration/index.ts';
import type { PrincipalState, StoredDenyEntry } from '../revocation/index.ts';
import type { KeyUsage } from '../shared/adapters/access-key-usage.ts';
import { credentialIdFor } from '../shared/domain/workload-id.ts';
import type { CredentialRecord } from '../shared/schemas/credential.ts';
import { DAY_MS, MISSED_END_REASON } from './model.ts';
import type { Liveness } from './workload-liveness.ts';

// ---------------------------------------------------------------------------------------------
// Pure decisions
// ---------------------------------------------------------------------------------------------

/** Whether a credential has expired by time: access keys and open-ended sessions never do. */
export function hasExpired(credential: CredentialRecord, now: Date): boolean {
  if (credential.kind === 'access-key') return false;
  if (credential.expiresAt === OPEN_ENDED) return false;
  return Date.parse(credential.expiresAt) <= now.getTime();
}

export type ReconcileDecision =
  | { revoke: true; reason: string }
  | { revoke: false; uncertain: boolean; reason: string };

/**
 * What a workload's liveness means for its active credentials. Only a clear answer revokes:
 * `ended` (the platform reports it finished) or `gone` (the platform no longer knows it).
 */
export function reconcileDecision(liveness: Liveness | undefined): ReconcileDecision {
  switch (liveness?.state) {
    case 'ended':
      return {
        revoke: true,
        reason: `${MISSED_END_REASON} (${liveness.detail}${liveness.endedAt ? ` since ${liveness.endedAt}` : ''})`,
      };
    case 'gone':
      return { revoke: true, reason: `${MISSED_END_REASON} (${liveness.detail})` };
    case 'live':
      return { revoke: false, uncertain: false, reason: liveness.detail };
    default:
      return { revoke: false, uncertain: true, reason: liveness?.detail ?? 'no liveness answer' };
  }
}

export type IdleDecision = { idle: true; since: string; reason: string } | { idle: false; reason: string };

/**
 * An access key is idle when neither IAM's last-used date nor (never used) its registration is
 * within `idleDays`. A key IAM no longer knows, or a lookup that failed, is never called idle.
 */
export function idleDecision(usage: KeyUsage, issuedAt: string, now: Date, idleDays: number): IdleDecision {
  if (usage.state === 'not-found') return { idle: false, reason: 'IAM no longer knows the key' };
  if (usage.state === 'unknown') return { idle: false, reason: `last use unknown (${usage.detail})` };
  const since = usage.lastUsedAt ?? issuedAt;
  const sinceMs = Date.parse(since);
  if (Number.isNaN(sinceMs)) return { idle: false, reason: `unreadable date ${since}` };
  if (now.getTime() - sinceMs < idleDays * DAY_MS)
    return { idle: false, reason: `used or issued at ${since}` };
  return {
    idle: true,
    since,
    reason: `idle: access key not used for ${idleDays} days (${usage.lastUsedAt ? `last used ${usage.lastUsedAt}` : `never used; recorded ${issuedAt}`})`,
  };
}

/** The credential a deny entry was written for (IDs are derived from identifiers), if derivable. */
export function credentialIdOfEntry(principalArn: string, entry: StoredDenyEntry): string | undefined {
  if (principalArn.includes(':role/')) {
    return credentialIdFor({
      kind: 'role-session',
      roleArn: principalArn,
      sessionName: entry.sessionName,
      workloadId: entry.workloadId,
    });
  }
  const userName = /:user\/(?:.*\/)?([^/]+)$/.exec(principalArn)?.[1];
  const accessKeyId = /^key-(.+)$/.exec(entry.sessionName)?.[1];
  if (!userName || !accessKeyId) return undefined;
  return credentialIdFor({ kind: 'access-key', userName, accessKeyId });
}

/**
 * Whether the role's policies in IAM deny this entry: its session name, with a bound at or after
 * the entry's end (renders round bounds up, never down).
 */
export function deniedInIam(
  entry: Pick<StoredDenyEntry, 'sessionName' | 'notAfter'>,
  denied: Map<string, number>,
): boolean {
  const bound = denied.get(entry.sessionName);
  return bound !== undefined && bound >= Date.parse(entry.notAfter);
}

/** Unexpired entries of a principal whose deny IAM does not hold (empty when a check is not meaningful). */
export function entriesMissingFromIam(
  state: Pick<PrincipalState, 'entries' | 'version' | 'renderedVersion' | 'unplaced'>,
  denied: Map<string, number>,
  now: Date,
): StoredDenyEntry[] {
  // A render is pending (it will write everything), or capacity is exhausted (a render cannot help).
  if (state.version !== state.renderedVersion || state.unplaced > 0) return [];
  return state.entries.filter((e) => Date.parse(e.expiresAt) > now.getTime() && !deniedInIam(e, denied));
}
