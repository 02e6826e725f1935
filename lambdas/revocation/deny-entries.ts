/**
 * The deny entries a revocation stores: which sessions, up to when, kept how long. Shared by the
 * intake that stores them, the kinds that settle them and the sweep that checks them.
 */
import { partitionOf, userArn } from '../shared/domain/iam-arn.ts';
import type { MaxSessionHoursConfig } from '../shared/runtime-config.ts';
import type { CredentialRecord } from '../shared/schemas/credential.ts';
import { entryKey, type StoredDenyEntry } from './store-items.ts';

/**
 * The first instant after the second `endedAt` falls in: what the deny covers (sessions issued before
 * it). EventBridge stamps events in whole seconds, truncated, and IAM compares aws:TokenIssueTime in
 * seconds: a workload stamped as ended at 12:00:27 ended somewhere in [12:00:27, 12:00:28), so a
 * session it got at 12:00:27.3 must be denied too. A successor under a reused session name that got
 * credentials within that same second is denied as well: the one second in which the two cannot be
 * told apart goes to revocation.
 */
export function denyBoundFor(endedAt: string): string {
  const ms = Date.parse(endedAt);
  if (Number.isNaN(ms)) return endedAt; // no end recorded: matches no stored entry
  return new Date(Math.floor(ms / 1000) * 1000 + 1000).toISOString();
}

const HOUR_MS = 3_600_000;

export function addHours(iso: string, hours: number): string {
  return new Date(Date.parse(iso) + hours * HOUR_MS).toISOString();
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
export function principalOf(c: CredentialRecord): string | undefined {
  if (c.kind === 'role-session') return c.roleArn;
  if (c.kind === 'access-key' && c.userName) {
    return userArn(partitionOf(c.region), c.account, c.userPath ?? '/', c.userName);
  }
  return undefined; // certificates: the CA is the target, no opt-in tag applies
}

/**
 * The keys a role session's deny entry may be stored under, current first: bounded by the end's
 * whole second ({@link denyBoundFor}), or, for an entry stored before that rule, by the end itself
 * (so revocations in flight across an upgrade still settle and the sweep still finds them).
 */
export function denyEntryKeysFor(sessionName: string, endedAt: string): [current: string, legacy: string] {
  return [
    entryKey({ sessionName, notAfter: denyBoundFor(endedAt) }),
    entryKey({ sessionName, notAfter: endedAt }),
  ];
}
