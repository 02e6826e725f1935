/**
 * How many revoked sessions one role can hold before Sundown reports
 * exhaustion. Computed with the real renderer (`renderDenyPolicies`) and
 * IAM's real budgets, then confirmed against the emulator: deny entries are
 * seeded in Sundown's revocation store up to the computed limit, one real
 * termination makes the revoker render and write them, and one more makes it
 * report exhaustion.
 */
import { AttachRolePolicyCommand, CreatePolicyCommand } from '@aws-sdk/client-iam';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  DEFAULT_MANAGED_POLICIES_PER_ROLE,
  type DenyEntry,
  FRESH_ROLE_OPTIONS,
  type RenderOptions,
  renderDenyPolicies,
} from '../lambdas/revocation/deny-policy.ts';
import {
  INLINE_RENDER_LIMIT,
  MANAGED_RENDER_LIMIT,
} from '../lambdas/revocation/role-sessions/policy-writer.ts';
import { RevocationStore, type StoredDenyEntry } from '../lambdas/revocation/store.ts';
import { roleDenyState } from './deny-state.ts';
import { type BenchEnvironment, drainQueues } from './env.ts';
import { registerSessions, registryItems } from './registry-sessions.ts';
import { createRoles, instanceArn, putAll, terminatedEvents } from './workloads.ts';

const HOUR_MS = 3_600_000;
/** A fixed, whole-second end time, so every profile renders the same way on every run. */
const BASE_END_MS = Date.UTC(2030, 0, 1, 12, 0, 0);

/** An EC2 instance ID (17 hex digits) that sorts by `i`: the last one sorts last. */
export function instanceIdFor(i: number): string {
  return `i-${i.toString(16).padStart(17, '0')}`;
}

export type CapacityProfile = 'burst' | 'spread' | 'reusable-spread';

/**
 * `burst`: EC2 instances that ended in the same second (never-reused names).
 * `spread`: one ending per second (never-reused names: bounds may be coarsened into shared buckets,
 *   or dropped).
 * `reusable-spread`: one ending per second, names that may be reused (stopped instances): exact bounds only.
 */
export function entriesFor(profile: CapacityProfile, n: number, endMs = BASE_END_MS): DenyEntry[] {
  return Array.from({ length: n }, (_, i) => {
    const end = profile === 'burst' ? endMs : endMs + i * 1000;
    return {
      sessionName: instanceIdFor(i),
      notAfter: new Date(end).toISOString(),
      expiresAt: new Date(end + 6 * HOUR_MS).toISOString(),
      reusableName: profile === 'reusable-spread',
    };
  });
}

/** Largest n for which every entry is placed (binary search over the real renderer). */
export function maxPlaced(profile: CapacityProfile, opts: RenderOptions): number {
  const fits = (n: number) => renderDenyPolicies(entriesFor(profile, n), opts).unplaced.length === 0;
  let lo = 1;
  let hi = 2;
  while (fits(hi)) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export interface CapacityRow {
  profile: CapacityProfile;
  inlineOnly: number;
  withOverflow: number;
  /** Characters the rendered documents use per entry at the overflow limit (all documents / entries). */
  charsPerEntry: number;
  /** Characters one more entry adds when it joins an existing statement (its `"*:<name>"` value and a comma). */
  marginalChars: number;
  coarsenedSecondsAtLimit: number;
}

/** What the revoker renders into on a fresh role: IAM's limits less Sundown's 5% headroom. */
export const ROLE_RENDER_OPTIONS: RenderOptions = {
  ...FRESH_ROLE_OPTIONS,
  inlineBudget: INLINE_RENDER_LIMIT,
  managedBudget: MANAGED_RENDER_LIMIT,
};
export const INLINE_ONLY_OPTIONS: RenderOptions = { ...ROLE_RENDER_OPTIONS, maxManagedPolicies: 0 };

export function computeCapacity(): CapacityRow[] {
  return (['burst', 'spread', 'reusable-spread'] as const).map((profile) => {
    const inlineOnly = maxPlaced(profile, INLINE_ONLY_OPTIONS);
    const withOverflow = maxPlaced(profile, ROLE_RENDER_OPTIONS);
    const atLimit = renderDenyPolicies(entriesFor(profile, withOverflow), ROLE_RENDER_OPTIONS);
    const one = renderDenyPolicies(entriesFor('burst', 1), INLINE_ONLY_OPTIONS).charsUsed;
    const two = renderDenyPolicies(entriesFor('burst', 2), INLINE_ONLY_OPTIONS).charsUsed;
    return {
      profile,
      inlineOnly,
      withOverflow,
      charsPerEntry: Math.round((atLimit.charsUsed / withOverflow) * 10) / 10,
      marginalChars: two - one,
      coarsenedSecondsAtLimit: atLimit.coarsenedSeconds,
    };
  });
}

export interface CapacityConfirmation {
  mode: 'inline-only' | 'with-overflow';
  /** The limit the renderer predicts for a burst (same end second). */
  predicted: number;
  /** Sessions the role's Sundown policies deny after the revoker wrote `predicted` entries. */
  deniedAtLimit: number;
  /** Status of the real credential whose termination brought the role to the limit. */
  statusAtLimit: string;
  /** Status and reason of the one after it (expected: failed, capacity exhausted). */
  statusPastLimit: string;
  reasonPastLimit: string;
  /** What the revoker recorded for the role (`#meta` item). */
  recorded: { charsUsed?: number; charsCapacity?: number; managedPolicies?: number; unplaced?: number };
  inlineChars: number;
  managedPolicies: number;
  /** Every written document within IAM's limits (10,240 inline, 6,144 per managed policy). */
  withinLimits: boolean;
  ok: boolean;
}

/**
 * Seeds `predicted - 1` deny entries ending in second T on a fresh role, then
 * terminates one real instance at T (the revoker renders and writes all
 * `predicted`), then one more. The real instances have the highest IDs, so
 * the second one is the entry the renderer leaves unplaced (placement is by
 * bound, then name), and its credential is the one Sundown must mark failed.
 */
export async function confirmCapacity(
  env: BenchEnvironment,
  mode: CapacityConfirmation['mode'],
  log: (line: string) => void,
): Promise<CapacityConfirmation> {
  const opts = mode === 'inline-only' ? INLINE_ONLY_OPTIONS : ROLE_RENDER_OPTIONS;
  const predicted = maxPlaced('burst', opts);
  const [role] = await createRoles(env.clients, `bench-capacity-${mode}`, 1);
  if (!role) throw new Error('no role');
  if (mode === 'inline-only') {
    // Ten foreign managed policies use the role's whole attachment quota: no room for overflow.
    for (let i = 0; i < DEFAULT_MANAGED_POLICIES_PER_ROLE; i++) {
      const policy = await env.clients.iam
        .send(
          new CreatePolicyCommand({
            PolicyName: `bench-foreign-${i}`,
            PolicyDocument: JSON.stringify({
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::bench-${i}/*` }],
            }),
          }),
        )
        .catch(async () => ({
          Policy: { Arn: `arn:aws:iam::${env.target.accountId}:policy/bench-foreign-${i}` },
        }));
      await env.clients.iam.send(
        new AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: policy.Policy?.Arn as string }),
      );
    }
  }
  const endMs = Math.floor(Date.now() / 1000) * 1000;
  const offset = mode === 'inline-only' ? 0x100000 : 0x200000;
  const seeds: StoredDenyEntry[] = entriesFor('burst', predicted - 1, endMs).map((e, i) => ({
    ...e,
    sessionName: instanceIdFor(offset + i),
    workloadId: instanceArn(env.target, instanceIdFor(offset + i)),
  }));
  log(`  capacity ${mode}: seeding ${seeds.length} deny entries, then 2 real terminations...`);
  const store = new RevocationStore(env.clients.doc, env.stack.outputs.RevocationsTableName as string);
  await store.addEntries(role.arn, seeds);
  // Real sessions with the highest IDs: `atLimit` fills the last place, `pastLimit` is left unplaced.
  const atLimit = instanceIdFor(offset + 0xfffe0);
  const pastLimit = instanceIdFor(offset + 0xffff0);
  await registerSessions(env, [atLimit, pastLimit], [role.arn]);

  const statusOf = async (id: string) => {
    const [record] = await registryItems(env, new Set([instanceArn(env.target, id)]));
    return { status: record?.status ?? 'missing', reason: record?.statusReason ?? '' };
  };
  await putAll(env.clients, terminatedEvents(env.target, [atLimit], new Date(endMs)));
  await drainQueues(env.clients.sqs, env.sourceQueueUrls);
  const stateAtLimit = await roleDenyState(env, role.name);
  const first = await statusOf(atLimit);

  await putAll(env.clients, terminatedEvents(env.target, [pastLimit], new Date(endMs)));
  await drainQueues(env.clients.sqs, env.sourceQueueUrls);
  const second = await statusOf(pastLimit);
  const meta = await env.clients.doc.send(
    new GetCommand({
      TableName: env.stack.outputs.RevocationsTableName,
      Key: { principalArn: role.arn, entryKey: '#meta' },
    }),
  );
  const item = (meta.Item ?? {}) as CapacityConfirmation['recorded'];
  const stateAfter = await roleDenyState(env, role.name);
  const withinLimits =
    // Within IAM's limits with Sundown's headroom kept free.
    stateAtLimit.inlineChars <= INLINE_RENDER_LIMIT &&
    stateAfter.inlineChars <= INLINE_RENDER_LIMIT &&
    stateAfter.managedChars.every((c) => c <= MANAGED_RENDER_LIMIT);
  const result: CapacityConfirmation = {
    mode,
    predicted,
    deniedAtLimit: stateAtLimit.sessions.size,
    statusAtLimit: first.status,
    statusPastLimit: second.status,
    reasonPastLimit: second.reason,
    recorded: {
      charsUsed: item.charsUsed,
      charsCapacity: item.charsCapacity,
      managedPolicies: item.managedPolicies,
      unplaced: item.unplaced,
    },
    inlineChars: stateAfter.inlineChars,
    managedPolicies: stateAfter.managed,
    withinLimits,
    ok: false,
  };
  result.ok =
    result.deniedAtLimit === predicted &&
    result.statusAtLimit === 'revoked' &&
    result.statusPastLimit === 'failed' &&
    /exhausted/.test(result.reasonPastLimit) &&
    withinLimits;
  return result;
}
