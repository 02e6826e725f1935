/**
 * Revoking IAM access keys (revocation messages with target `user`; one FIFO message group per
 * user, so writes to one user are serialized).
 *
 * 1. Deactivate (`UpdateAccessKey Status=Inactive`) exactly the keys recorded for the message's
 *    credentials. The user's keys are never listed and deactivated wholesale: another workload's key
 *    on the same user keeps working. Deactivation is idempotent, and a key IAM no longer knows
 *    (deleted) counts as done. It takes effect for requests signed with the key itself.
 * 2. Deny the temporary sessions minted from it. Deactivating a key does not end STS sessions already
 *    obtained with it (GetSessionToken / GetFederationToken, up to 36 h), so Sundown writes the user
 *    inline policy `SundownRevokedSessions`, rendered from the user's deny entries in the revocation
 *    store (DynamoDB is the source of truth; the IAM policy is never read back and modified). See
 *    {@link renderUserSessionsPolicy} for its exact reach: it denies ALL of the user's temporary
 *    sessions issued before the bound, not only those of the revoked key. The bound is the moment the
 *    key was deactivated, not the workload's end: until then the key could still mint sessions (an
 *    attacker holding a leaked key would do exactly that), so a second deny entry per key records it.
 * 3. Move each credential `revoking -> revoked`, audited with time-to-revoke.
 *
 * Refusals another attempt cannot fix (access denied, the user's inline quota) leave the credential
 * `failed` at once with the reason; other errors are thrown so the queue retries the message (every
 * step is idempotent), and the handler marks the credentials `failed` on the last attempt.
 *
 * Not implemented: deleting deactivated keys after a grace period (`deleteKeysAfterHours`). It needs a
 * deployment setting (lib/config.ts, runtime-config.ts, the stack's environment) and a delayed
 * trigger longer than SQS's 15-minute delay (an EventBridge Scheduler one-off schedule or a periodic
 * sweep over `revoked` access keys); `iam:DeleteAccessKey` would then have to be granted to the revoker (it is not today).
 */

import { appendAll } from '../../audit/index.ts';
import { clients } from '../../shared/clients.ts';
import type { CredentialRecord } from '../../shared/schemas/credential.ts';
import { auditCredential } from '../../shared/services/audit-helpers.ts';
import { formatBound } from '../deny-policy/document.ts';
import { parseInstant } from '../deny-policy/entry.ts';
import { type DenyEntry, pruneEntries } from '../deny-policy.ts';
import type { RevocationMessage } from '../messages.ts';
import { prunedAudits, pruneStored } from '../pruned.ts';
import { type ApplyOutcome, earliestExpiry, type RevokerDeps } from '../types.ts';
import {
  USER_INLINE_POLICY_LIMIT,
  USER_INLINE_POLICY_NAME,
  UserPolicyWriter,
  UserRevocationRefused,
} from './policy-writer.ts';

export type UserMessage = Extract<RevocationMessage, { target: 'user' }>;

export interface UserRevokerDeps extends RevokerDeps {
  /** IAM writes on users; built from the shared IAM client when not injected. */
  userPolicies?: UserPolicyWriter;
}

/** The one statement of Sundown's user policy. */
export interface UserSessionsStatement {
  Sid: 'DenySessionsIssuedBeforeRevocation';
  Effect: 'Deny';
  Action: '*';
  Resource: '*';
  Condition: { DateLessThan: { 'aws:TokenIssueTime': string } };
}

export interface UserSessionsPolicy {
  Version: '2012-10-17';
  Statement: [UserSessionsStatement];
}

const HOUR_MS = 3_600_000;
const SESSIONS_SCOPE =
  "every temporary session of the user issued before the bound, whichever of the user's keys minted it (IAM has no condition key naming the minting key)";
const PROPAGATION = 'IAM changes take effect within seconds to a few minutes (eventual consistency)';

/**
 * Renders the user's deny entries into Sundown's user policy, or null when no unexpired entry remains
 * (the policy is then deleted). Pure.
 *
 * One statement: Deny `*` on `*` when `aws:TokenIssueTime` is before the latest `notAfter` among the
 * unexpired entries, rounded up to the whole second (IAM compares at second precision).
 *
 * Exact reach, and why it is coarser than the role policy:
 * - Requests signed with a user's long-term access key carry no `aws:TokenIssueTime`, so a condition
 *   on it never matches them: the user's other (still active) key keeps working.
 * - Temporary credentials minted by the user (GetSessionToken, GetFederationToken; console sign-in
 *   sessions, which also use temporary credentials, may be affected too) carry it, and are denied when
 *   issued before the bound.
 * - IAM has no condition key that names the long-term access key a session token was minted from, so
 *   the deny cannot be scoped to the revoked key: it denies ALL of the user's temporary sessions issued
 *   before the bound, including those minted from a key that stays active. Their holders must obtain
 *   new sessions (issued after the bound), which work normally.
 * - Taking the latest bound is exact for the union of entries: "issued before t1" or "issued before t2"
 *   is "issued before max(t1, t2)". An entry expires when every session it targets has (36 h after its
 *   bound by default), so once all have expired nothing needs denying and the policy goes away.
 */
export function renderUserSessionsPolicy(
  entries: readonly DenyEntry[],
  now: Date,
): UserSessionsPolicy | null {
  const { kept } = pruneEntries(entries, now);
  if (kept.length === 0) return null;
  const bound = kept.reduce((max, e) => Math.max(max, parseInstant(e.notAfter, 'notAfter').ceilSeconds), 0);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenySessionsIssuedBeforeRevocation',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': formatBound(bound) } },
      },
    ],
  };
}

function userNameOf(userArn: string): string {
  return userArn.slice(userArn.lastIndexOf('/') + 1);
}

/** The deny entry name Sundown uses for sessions minted from one access key. */
export function keyEntryName(accessKeyId: string): string {
  return `key-${accessKeyId}`.slice(0, 64);
}

let defaultWriter: UserPolicyWriter | undefined;
function sharedWriter(): UserPolicyWriter {
  if (!defaultWriter) defaultWriter = new UserPolicyWriter(clients.iam());
  return defaultWriter;
}

export async function revokeUser(deps: UserRevokerDeps, message: UserMessage): Promise<ApplyOutcome> {
  const writer = deps.userPolicies ?? sharedWriter();
  const outcome: ApplyOutcome = { iamWrites: 0, revoked: [], failed: [] };
  const userName = userNameOf(message.userArn);

  const fail = async (credential: CredentialRecord, reason: string) => {
    const failed = await deps.registry.transition(credential.credentialId, ['revoking'], 'failed', {
      statusReason: reason.slice(0, 1000),
    });
    if (!failed) return;
    await auditCredential(deps, failed, { type: 'failed', outcome: 'error', reason: reason.slice(0, 1000) });
    deps.metricsSink?.('RevocationsFailed', 1, 'Count');
    deps.metricsSink?.('Revocations', 1, 'Count', { kind: credential.kind, outcome: 'failed' });
    outcome.failed.push(credential.credentialId);
  };

  // 1. Exactly the recorded keys that still need revoking (duplicates find nothing to do).
  const pending: CredentialRecord[] = [];
  for (const credentialId of message.credentialIds) {
    const credential = await deps.registry.get(credentialId);
    if (credential?.status !== 'revoking') continue;
    if (credential.kind !== 'access-key' || !credential.accessKeyId || credential.userName !== userName) {
      await fail(
        credential,
        `credential ${credentialId} is not an access key of user ${userName}; nothing was changed for it`,
      );
      continue;
    }
    pending.push(credential);
  }

  const done: { credential: CredentialRecord; keyState: 'deactivated' | 'not-found' }[] = [];
  for (const credential of pending) {
    try {
      const keyState = await writer.deactivateKey(message.userArn, credential.accessKeyId as string);
      if (keyState === 'deactivated') outcome.iamWrites++;
      done.push({ credential, keyState });
    } catch (err) {
      if (!(err instanceof UserRevocationRefused)) throw err;
      await fail(credential, err.message);
    }
  }

  // 2. Until the key was deactivated it could still mint sessions, so the deny must reach up to now
  // (not only to the workload's end): another entry per key, bounded by the deactivation time.
  if (done.length > 0) {
    const deactivatedAt = deps.now().toISOString();
    const hours = deps.config.SUNDOWN_MAX_SESSION_HOURS.accessKeySessions;
    await deps.store.addEntries(
      message.userArn,
      done.map(({ credential }) => ({
        sessionName: keyEntryName(credential.accessKeyId as string),
        notAfter: deactivatedAt,
        expiresAt: new Date(Date.parse(deactivatedAt) + hours * HOUR_MS).toISOString(),
        reusableName: false,
        workloadId: credential.workloadId,
      })),
    );
  }

  // Render from the store unless a render at or past the current version already did.
  let policy: UserSessionsPolicy | null | undefined;
  let userDeleted = false;
  const state = await deps.store.load(message.userArn);
  if (state.renderedVersion < state.version) {
    const { pruned } = pruneStored(state.entries, deps.now());
    if (pruned.length > 0) {
      await deps.store.deleteEntries(message.userArn, pruned);
      await appendAll(deps.audit, prunedAudits(deps, { userArn: message.userArn }, pruned));
    }
    policy = renderUserSessionsPolicy(state.entries, deps.now());
    try {
      if (policy) {
        userDeleted = (await writer.putSessionsPolicy(message.userArn, policy)) === 'user-deleted';
        if (!userDeleted) outcome.iamWrites++;
      } else if ((await writer.deleteSessionsPolicy(message.userArn)) === 'deleted') {
        outcome.iamWrites++;
      }
    } catch (err) {
      if (!(err instanceof UserRevocationRefused)) throw err;
      for (const { credential } of done) {
        await fail(
          credential,
          `access key ${credential.accessKeyId} was deactivated, but sessions minted from it are not denied: ${err.message}`,
        );
      }
      return outcome;
    }
    const size = policy ? JSON.stringify(policy).length : 0;
    await deps.store.markRendered(message.userArn, state.version, {
      charsUsed: size,
      charsCapacity: USER_INLINE_POLICY_LIMIT,
      managedPolicies: 0,
      unplaced: 0,
      coarsenedSeconds: 0,
      nextExpiry: earliestExpiry(pruneEntries(state.entries, deps.now()).kept),
    });
    deps.metricsSink?.('IamWrites', outcome.iamWrites, 'Count');
  } else {
    policy = renderUserSessionsPolicy(state.entries, deps.now());
  }

  // 3. Settle and audit.
  const bound = policy?.Statement[0].Condition.DateLessThan['aws:TokenIssueTime'];
  for (const { credential, keyState } of done) {
    const revokedAt = deps.now().toISOString();
    const revoked = await deps.registry.transition(credential.credentialId, ['revoking'], 'revoked', {
      revokedAt,
    });
    if (!revoked) continue;
    const timeToRevokeMs = Date.parse(revokedAt) - Date.parse(credential.endedAt ?? revokedAt);
    const keyText =
      keyState === 'deactivated'
        ? `access key ${credential.accessKeyId} of user ${userName} is inactive`
        : `access key ${credential.accessKeyId} no longer exists on user ${userName} (deleted, or registered under the wrong user)`;
    const sessionsText = userDeleted
      ? `user ${userName} no longer exists, so none of its sessions work`
      : `temporary sessions of user ${userName} issued before ${bound} are denied by its inline policy ${USER_INLINE_POLICY_NAME}`;
    await auditCredential(deps, credential, {
      type: 'revoked',
      outcome: 'success',
      reason: `${keyText}; ${sessionsText}`,
      details: {
        timeToRevokeMs,
        endedAt: credential.endedAt ?? '',
        keyState,
        ...(bound && !userDeleted ? { sessionsDeniedBefore: bound, sessionsDenyScope: SESSIONS_SCOPE } : {}),
        ...(userDeleted ? { userDeleted: true } : {}),
        propagation: PROPAGATION,
      },
    });
    deps.metricsSink?.('TimeToRevoke', timeToRevokeMs, 'Milliseconds', { kind: credential.kind });
    deps.metricsSink?.('RevocationsSucceeded', 1, 'Count');
    deps.metricsSink?.('Revocations', 1, 'Count', { kind: credential.kind, outcome: 'revoked' });
    outcome.revoked.push(credential.credentialId);
  }
  return outcome;
}
