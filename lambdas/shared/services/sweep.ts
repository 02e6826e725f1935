/**
 * The reconciliation sweep: what events alone cannot guarantee. Run on a schedule (and by
 * `sundown sweep`), each run does a bounded amount of each kind of work and remembers where it
 * stopped, so successive runs cover everything and no run scans without a bound:
 *
 * 1. Expiry: active role sessions and certificates past `expiresAt` move to `expired` (audited).
 *    Access keys never expire by time (an IAM key works until deactivated or deleted), and
 *    discovered sessions are open-ended (`OPEN_ENDED`): they end only with their workload.
 * 2. Missed ends: for active credentials, ask the platform whether the workload still exists
 *    (`WorkloadLiveness`). Gone or ended -> the normal revocation path (`endWorkload`), trigger
 *    kind `reconciliation`, audited as an end event that was missed. `unknown` (API error, custom
 *    workload, another account) never revokes.
 * 3. Idle keys: an access key recorded for a live workload and unused for `idleKeyDays` is revoked
 *    through the same path, reason `idle` (the revoker deactivates exactly that key).
 * 4. Pruning: principals whose earliest deny entry has expired get a render request; the revoker
 *    prunes (audited `pruned`) and writes the smaller policy, reclaiming capacity. It prunes only
 *    expired entries (`pruneEntries`), never an unexpired one.
 * 5. Drift: a revoked role session whose deny entry is missing from the revocation store is
 *    restored (entry re-added, role rendered again); a deny that is in the store but missing from
 *    the role's policies in IAM gets the role rendered again; a deny entry whose credential has no
 *    registry record is reported once (kept: removing a deny could re-enable a credential).
 *
 * A dry run (`sundown sweep --dry-run`) reports what a run would do and changes nothing, not even
 * the audit trail or the sweep's cursors. A deployment with `dryRun` sweeps the same way on the
 * schedule (it changes nothing in IAM, the registry or the audit trail) but keeps its cursors and
 * last-run summary. The pure decisions are exported for tests; AWS is reached only through ports.
 */
import { randomUUID } from 'node:crypto';
import type { MetricsSink } from '../../revocation/index.ts';
import {
  endWorkload,
  endWorkloads,
  RECONCILIATION_SOURCE,
  roleDenyEntryFor,
  sendRevocations,
} from '../../revocation/intake.ts';
import type { RevocationMessage } from '../../revocation/messages.ts';
import type { DenyPolicyReader } from '../../revocation/role-sessions/policy-reader.ts';
import { entryKey, type PrincipalState, type StoredDenyEntry } from '../../revocation/store.ts';
import type { AccessKeyUsage, KeyUsage } from '../adapters/access-key-usage.ts';
import type { LastSweep, SweepCursors, SweepStateStore } from '../adapters/sweep-state.ts';
import type { Liveness, WorkloadLiveness } from '../adapters/workload-liveness.ts';
import type { Trigger } from '../domain/classify-event.ts';
import { partitionOf } from '../domain/iam-arn.ts';
import { credentialIdFor, normalizeWorkloadId, type Workload } from '../domain/workload-id.ts';
import type { CredentialRecord } from '../schemas/credential.ts';
import { auditCredential, auditTrigger } from './audit-helpers.ts';
import type { ServiceDeps } from './deps.ts';
import { OPEN_ENDED } from './record-credential.ts';

export const FINDING_KINDS = [
  'missed-end',
  'expired',
  'idle-key',
  'prune-due',
  'missing-deny',
  'orphan-deny',
  'unknown-liveness',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface SweepFinding {
  kind: FindingKind;
  /** What the finding is about: a credential ID, else a principal ARN. */
  subject: string;
  workloadId?: string;
  principalArn?: string;
  /** What this run did about it (`none (dry run)` in a dry run). */
  action: string;
  detail: string;
}

const PASSES = ['expiry', 'active', 'revoked', 'principals'] as const;
export type SweepPass = (typeof PASSES)[number];

export interface SweepReport {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  dryRun: boolean;
  /** Set when the run did nothing (another sweep holds the lease). */
  skipped?: string;
  checked: {
    expiring: number;
    active: number;
    workloads: number;
    accessKeys: number;
    principalsDue: number;
    revoked: number;
    principals: number;
    denyEntries: number;
  };
  counts: Record<FindingKind, number>;
  findings: SweepFinding[];
  findingsTruncated: boolean;
  /** `complete`: this run reached the end of the pass (the next run starts it over). */
  passes: Record<SweepPass, 'complete' | 'partial' | 'not-run'>;
  errors: string[];
}

export interface SweepDeps extends ServiceDeps {
  liveness: WorkloadLiveness;
  keyUsage: AccessKeyUsage;
  denyPolicies: DenyPolicyReader;
  sweepState: SweepStateStore;
  metricsSink?: MetricsSink;
  /** Milliseconds left in this invocation; the sweep starts no new work with less than a margin. */
  remainingMs?: () => number;
}

export interface SweepRequest {
  /** Report only: change nothing, keep no state. */
  dryRun?: boolean;
}

export const RECONCILIATION_TRIGGER: Trigger = {
  source: RECONCILIATION_SOURCE,
  detailType: 'Reconciliation',
};
const IDLE_KEY_TRIGGER: Trigger = { source: RECONCILIATION_SOURCE, detailType: 'Idle Access Key' };
export const MISSED_END_REASON = 'reconciliation: end event missed';

const DAY_MS = 86_400_000;
const LEASE_MS = 15 * 60_000;
const TIME_MARGIN_MS = 20_000;
const MAX_LISTED_FINDINGS = 100;
/** Pages the expiry pass reads per run at most (access keys in the range are filtered out). */
const MAX_EXPIRY_PAGES = 5;
/**
 * A role rendered this recently is not compared with IAM yet: IAM is eventually consistent, and a
 * read right after a write could show the previous policy (a false drift finding).
 */
const IAM_SETTLE_MS = 15_000;

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

function emptyCounts(): Record<FindingKind, number> {
  return Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>;
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

interface Run {
  deps: SweepDeps;
  now: Date;
  nowIso: string;
  dryRun: boolean;
  batch: number;
  cursors: SweepCursors;
  report: SweepReport;
  /** Principal states loaded this run. */
  principals: Map<string, PrincipalState>;
}

function find(run: Run, finding: SweepFinding): void {
  run.report.counts[finding.kind]++;
  if (run.report.findings.length < MAX_LISTED_FINDINGS) run.report.findings.push(finding);
  else run.report.findingsTruncated = true;
}

function outOfTime(run: Run): boolean {
  return (run.deps.remainingMs?.() ?? Number.POSITIVE_INFINITY) < TIME_MARGIN_MS;
}

async function loadPrincipal(run: Run, principalArn: string): Promise<PrincipalState> {
  const cached = run.principals.get(principalArn);
  if (cached) return cached;
  const state = await run.deps.store.load(principalArn);
  run.principals.set(principalArn, state);
  return state;
}

/** Adds `entries` (possibly none) and asks the revoker to render the principal's whole deny set. */
async function requestRender(run: Run, principalArn: string, entries: StoredDenyEntry[]): Promise<void> {
  // The sweep renders to prune or to restore a deny that went missing from IAM: write every policy.
  const version = await run.deps.store.addEntries(principalArn, entries, { rewriteAll: true });
  const message: RevocationMessage = principalArn.includes(':role/')
    ? { target: 'role', roleArn: principalArn, version, credentialIds: [] }
    : { target: 'user', userArn: principalArn, version, credentialIds: [] };
  await sendRevocations(run.deps, [message]);
  run.principals.delete(principalArn);
}

function workloadOf(run: Run, workloadId: string): Workload | undefined {
  try {
    return normalizeWorkloadId(workloadId, { account: run.deps.account, region: run.deps.region });
  } catch {
    return undefined;
  }
}

/** 1. Active role sessions and certificates past their expiry -> `expired`. */
async function expire(run: Run): Promise<void> {
  const { deps } = run;
  let processed = 0;
  for (let page = 0; page < MAX_EXPIRY_PAGES && processed < run.batch && !outOfTime(run); page++) {
    const res = await deps.registry.list({
      status: 'active',
      expiresBefore: run.nowIso,
      kinds: ['role-session', 'certificate'],
      limit: run.batch - processed,
      ...(run.cursors.expiry ? { cursor: run.cursors.expiry } : {}),
    });
    run.cursors.expiry = res.cursor;
    for (const credential of res.items) {
      if (!hasExpired(credential, run.now)) continue;
      processed++;
      run.report.checked.expiring++;
      const reason = `expired: the credential's lifetime ended at ${credential.expiresAt}`;
      let action = 'none (dry run)';
      if (!run.dryRun) {
        const moved = await deps.registry.transition(credential.credentialId, ['active'], 'expired', {
          statusReason: reason,
        });
        action = moved ? 'marked expired' : 'none (no longer active)';
        if (moved) {
          await auditCredential(deps, moved, {
            type: 'expired',
            outcome: 'expired',
            reason,
            trigger: auditTrigger(RECONCILIATION_TRIGGER, 'reconciliation'),
            details: { expiresAt: credential.expiresAt },
          });
        }
      }
      find(run, {
        kind: 'expired',
        subject: credential.credentialId,
        workloadId: credential.workloadId,
        action,
        detail: reason,
      });
    }
    if (!res.cursor) {
      run.report.passes.expiry = 'complete';
      return;
    }
  }
  run.report.passes.expiry = 'partial';
}

/** 2 and 3. Missed workload ends, then idle access keys, over one page of active credentials. */
async function reconcile(run: Run): Promise<void> {
  const { deps } = run;
  const page = await deps.registry.list({
    status: 'active',
    limit: run.batch,
    ...(run.cursors.active ? { cursor: run.cursors.active } : {}),
  });
  run.cursors.active = page.cursor;
  run.report.passes.active = page.cursor ? 'partial' : 'complete';
  const byWorkload = new Map<string, { workload: Workload; credentials: CredentialRecord[] }>();
  for (const credential of page.items) {
    run.report.checked.active++;
    if (hasExpired(credential, run.now)) continue; // the expiry pass settles it
    const workload = workloadOf(run, credential.workloadId);
    if (!workload) continue;
    const group = byWorkload.get(workload.id) ?? { workload, credentials: [] };
    group.credentials.push(credential);
    byWorkload.set(workload.id, group);
  }
  const liveness = await deps.liveness.check([...byWorkload.values()].map((g) => g.workload));
  run.report.checked.workloads += byWorkload.size;

  // Every missed end of the page goes through the batch engine together.
  const missed: { workload: Workload; credentials: CredentialRecord[]; reason: string }[] = [];
  const idle: { workload: Workload; credentials: CredentialRecord[] }[] = [];
  for (const { workload, credentials } of byWorkload.values()) {
    if (outOfTime(run)) break;
    const decision = reconcileDecision(liveness.get(workload.id));
    if (decision.revoke) {
      missed.push({ workload, credentials, reason: decision.reason });
      continue;
    }
    if (decision.uncertain && workload.kind !== 'custom') {
      find(run, {
        kind: 'unknown-liveness',
        subject: workload.id,
        workloadId: workload.id,
        action: 'none (never revoked on an uncertain answer)',
        detail: decision.reason,
      });
    }
    idle.push({ workload, credentials });
  }
  const results = run.dryRun
    ? []
    : await endWorkloads(
        deps,
        missed.map(({ workload, reason }) => ({
          kind: 'workload-ended' as const,
          workload,
          endedAt: run.nowIso,
          reason,
          compromised: false,
          dryRun: false,
          trigger: RECONCILIATION_TRIGGER,
        })),
      );
  missed.forEach(({ workload, credentials, reason }, i) => {
    const result = results[i];
    let action = 'none (dry run)';
    if (result && !result.ok)
      action = `failed: ${String((result.error as Error)?.message ?? result.error).slice(0, 200)}`;
    else if (result?.ok) {
      action = result.outcome.requested.length
        ? `revocation requested for ${result.outcome.requested.length} credential(s)`
        : result.outcome.skipped.length
          ? 'skipped (principal not opted in)'
          : 'none (already settled)';
    }
    for (const c of credentials) {
      find(run, {
        kind: 'missed-end',
        subject: c.credentialId,
        workloadId: workload.id,
        action,
        detail: reason,
      });
    }
  });
  for (const { workload, credentials } of idle) {
    for (const credential of credentials) {
      if (credential.kind !== 'access-key' || !credential.accessKeyId || outOfTime(run)) continue;
      await checkIdleKey(run, workload, credential);
    }
  }
}

async function checkIdleKey(run: Run, workload: Workload, credential: CredentialRecord): Promise<void> {
  const { deps } = run;
  run.report.checked.accessKeys++;
  const usage = await deps.keyUsage.lastUsed(credential.accessKeyId as string, {
    account: credential.account,
    partition: partitionOf(credential.region),
  });
  const decision = idleDecision(usage, credential.issuedAt, run.now, deps.config.SUNDOWN_IDLE_KEY_DAYS);
  if (!decision.idle) return;
  let action = 'none (dry run)';
  if (!run.dryRun) {
    const outcome = await endWorkload(deps, {
      kind: 'workload-ended',
      workload,
      endedAt: run.nowIso,
      reason: decision.reason,
      compromised: false,
      dryRun: false,
      credentialIds: [credential.credentialId],
      trigger: IDLE_KEY_TRIGGER,
    });
    action = outcome.requested.length
      ? 'deactivation requested'
      : outcome.skipped.length
        ? 'skipped (user not opted in)'
        : 'none';
  }
  find(run, {
    kind: 'idle-key',
    subject: credential.credentialId,
    workloadId: credential.workloadId,
    action,
    detail: decision.reason,
  });
}

/** 4. Principals whose earliest deny entry has expired: a render prunes it. */
async function prune(run: Run): Promise<void> {
  const page = await run.deps.store.principals({ dueBy: run.nowIso, limit: run.batch });
  for (const meta of page.items) {
    if (outOfTime(run)) return;
    run.report.checked.principalsDue++;
    const detail = `its earliest deny entry expired at ${meta.nextExpiry}`;
    if (!run.dryRun) await requestRender(run, meta.principalArn, []);
    find(run, {
      kind: 'prune-due',
      subject: meta.principalArn,
      principalArn: meta.principalArn,
      action: run.dryRun ? 'none (dry run)' : 'render requested (the revoker prunes and rewrites)',
      detail,
    });
  }
}

async function auditDrift(
  run: Run,
  what: {
    credential?: CredentialRecord;
    workloadId?: string;
    principalArn: string;
    sessionName: string;
    outcome: string;
    reason: string;
  },
): Promise<void> {
  const details = { principalArn: what.principalArn, sessionName: what.sessionName };
  const trigger = auditTrigger(RECONCILIATION_TRIGGER, 'reconciliation');
  if (what.credential) {
    await auditCredential(run.deps, what.credential, {
      type: 'drift',
      outcome: what.outcome,
      reason: what.reason,
      trigger,
      details,
    });
    return;
  }
  await run.deps.audit.append({
    type: 'drift',
    at: run.deps.now().toISOString(),
    actor: run.deps.actor,
    ...(what.workloadId ? { workloadId: what.workloadId } : {}),
    outcome: what.outcome,
    reason: what.reason,
    trigger,
    details,
  });
}

/** 5a. Revoked role sessions whose deny entry is missing from the revocation store. */
async function checkRevoked(run: Run): Promise<void> {
  const { deps } = run;
  const page = await deps.registry.list({
    status: 'revoked',
    kinds: ['role-session'],
    limit: run.batch,
    ...(run.cursors.revoked ? { cursor: run.cursors.revoked } : {}),
  });
  run.cursors.revoked = page.cursor;
  run.report.passes.revoked = page.cursor ? 'partial' : 'complete';
  const restore = new Map<string, { entry: StoredDenyEntry; credential: CredentialRecord }[]>();
  for (const credential of page.items) {
    run.report.checked.revoked++;
    if (!credential.endedAt || !credential.roleArn) continue;
    const expected = roleDenyEntryFor(
      credential,
      credential.endedAt,
      deps.config.SUNDOWN_MAX_SESSION_HOURS,
      credential.reusableSessionName ?? false,
    );
    if (!expected || Date.parse(expected.expiresAt) <= run.now.getTime()) continue; // pruned as due
    const state = await loadPrincipal(run, credential.roleArn);
    // An entry bounded by the end itself (stored before the whole-second bound) covers it as well.
    const covering = [entryKey(expected), entryKey({ ...expected, notAfter: credential.endedAt })];
    if (state.entries.some((e) => covering.includes(entryKey(e)))) continue;
    const list = restore.get(credential.roleArn) ?? [];
    list.push({ entry: expected, credential });
    restore.set(credential.roleArn, list);
  }
  for (const [roleArn, items] of restore) {
    if (outOfTime(run)) return;
    const optIn = await deps.optIn.check(roleArn);
    const action = run.dryRun
      ? 'none (dry run)'
      : optIn.optedIn
        ? 'restored (entry re-added, role rendered again)'
        : `reported (${optIn.reason})`;
    if (!run.dryRun && optIn.optedIn)
      await requestRender(
        run,
        roleArn,
        items.map((i) => i.entry),
      );
    for (const { entry, credential } of items) {
      const reason = `the deny for revoked session ${entry.sessionName} on ${roleArn} was missing from the revocation store`;
      if (!run.dryRun) {
        await auditDrift(run, {
          credential,
          principalArn: roleArn,
          sessionName: entry.sessionName,
          outcome: optIn.optedIn ? 'restored' : 'reported',
          reason,
        });
      }
      find(run, {
        kind: 'missing-deny',
        subject: credential.credentialId,
        workloadId: credential.workloadId,
        principalArn: roleArn,
        action,
        detail: reason,
      });
    }
  }
}

/** 5b. For a page of principals: denies missing from IAM, and deny entries without a credential. */
async function checkPrincipals(run: Run): Promise<void> {
  const { deps } = run;
  const limit = Math.max(1, Math.ceil(run.batch / 10));
  const page = await deps.store.principals({
    limit,
    ...(run.cursors.principals ? { cursor: run.cursors.principals } : {}),
  });
  run.cursors.principals = page.cursor;
  run.report.passes.principals = page.cursor ? 'partial' : 'complete';
  for (const meta of page.items) {
    if (outOfTime(run)) {
      run.report.passes.principals = 'partial';
      return;
    }
    run.report.checked.principals++;
    const principalArn = meta.principalArn;
    const state = await loadPrincipal(run, principalArn);
    run.report.checked.denyEntries += state.entries.length;

    // Denies the store holds but the role's policies in IAM do not.
    const settled = !meta.renderedAt || run.now.getTime() - Date.parse(meta.renderedAt) >= IAM_SETTLE_MS;
    if (principalArn.includes(':role/') && settled) {
      const denied = await deps.denyPolicies.deniedSessions(principalArn);
      const missing = denied ? entriesMissingFromIam(state, denied, run.now) : [];
      if (missing.length > 0) {
        const optIn = await deps.optIn.check(principalArn);
        if (!run.dryRun && optIn.optedIn) await requestRender(run, principalArn, []);
        for (const entry of missing) {
          const credentialId = credentialIdOfEntry(principalArn, entry);
          const credential = credentialId ? await deps.registry.get(credentialId) : undefined;
          const reason = `the deny for session ${entry.sessionName} on ${principalArn} is in the revocation store but missing from the role's policies in IAM`;
          if (!run.dryRun) {
            await auditDrift(run, {
              ...(credential ? { credential } : {}),
              workloadId: entry.workloadId,
              principalArn,
              sessionName: entry.sessionName,
              outcome: optIn.optedIn ? 'restored' : 'reported',
              reason,
            });
          }
          find(run, {
            kind: 'missing-deny',
            subject: credentialId ?? principalArn,
            workloadId: entry.workloadId,
            principalArn,
            action: run.dryRun
              ? 'none (dry run)'
              : optIn.optedIn
                ? 'restored (role rendered again)'
                : `reported (${optIn.reason})`,
            detail: reason,
          });
        }
      }
    }

    // Deny entries whose credential has no registry record: reported once, kept until they expire.
    let afterKey: string | undefined;
    do {
      const entries = await deps.store.entriesPage(principalArn, afterKey, 100);
      afterKey = entries.last;
      const ids = new Map(entries.entries.map((e) => [e, credentialIdOfEntry(principalArn, e)]));
      const known = await deps.registry.existing([...ids.values()].filter((id): id is string => !!id));
      for (const [entry, id] of ids) {
        if (!id || known.has(id) || entry.driftReportedAt) continue;
        const reason = `deny entry for session ${entry.sessionName} on ${principalArn} has no registry record (credential ${id}); kept until it expires at ${entry.expiresAt}`;
        if (!run.dryRun) {
          await auditDrift(run, {
            workloadId: entry.workloadId,
            principalArn,
            sessionName: entry.sessionName,
            outcome: 'reported',
            reason,
          });
          await deps.store.markEntryReported(principalArn, entry.entryKey, run.nowIso);
        }
        find(run, {
          kind: 'orphan-deny',
          subject: principalArn,
          workloadId: entry.workloadId,
          principalArn,
          action: run.dryRun ? 'none (dry run)' : 'reported',
          detail: reason,
        });
      }
    } while (afterKey && !outOfTime(run));
  }
}

const PHASES: [string, (run: Run) => Promise<void>][] = [
  ['expiry', expire],
  ['missed ends and idle keys', reconcile],
  ['pruning', prune],
  ['revoked credentials', checkRevoked],
  ['principals', checkPrincipals],
];

function summaryOf(report: SweepReport, previous: LastSweep | undefined): LastSweep {
  const completedPasses = { ...(previous?.completedPasses ?? {}) };
  for (const pass of PASSES)
    if (report.passes[pass] === 'complete') completedPasses[pass] = report.finishedAt;
  return {
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationMs: report.durationMs,
    dryRun: report.dryRun,
    counts: { ...report.counts },
    findings: report.findings
      .slice(0, 20)
      .map((f) => ({ kind: f.kind, subject: f.subject, action: f.action })),
    errors: report.errors.slice(0, 10),
    completedPasses,
  };
}

/** One sweep run. Never throws for a failing phase: its error is in `errors` (and the next phases run). */
export async function sweep(deps: SweepDeps, request: SweepRequest = {}): Promise<SweepReport> {
  const now = deps.now();
  const preview = request.dryRun === true;
  const report: SweepReport = {
    startedAt: now.toISOString(),
    finishedAt: now.toISOString(),
    durationMs: 0,
    dryRun: deps.config.SUNDOWN_DRY_RUN || preview,
    checked: {
      expiring: 0,
      active: 0,
      workloads: 0,
      accessKeys: 0,
      principalsDue: 0,
      revoked: 0,
      principals: 0,
      denyEntries: 0,
    },
    counts: emptyCounts(),
    findings: [],
    findingsTruncated: false,
    passes: { expiry: 'not-run', active: 'not-run', revoked: 'not-run', principals: 'not-run' },
    errors: [],
  };
  const owner = randomUUID();
  // A preview takes no lease (it writes nothing) and starts from the saved cursors.
  const state = preview ? await deps.sweepState.read() : await deps.sweepState.acquire(owner, now, LEASE_MS);
  if (!state) return { ...report, skipped: 'another sweep is running (its lease has not expired)' };

  const run: Run = {
    deps,
    now,
    nowIso: now.toISOString(),
    dryRun: report.dryRun,
    batch: deps.config.SUNDOWN_SWEEP_BATCH_SIZE,
    cursors: { ...state.cursors },
    report,
    principals: new Map(),
  };
  try {
    for (const [name, phase] of PHASES) {
      if (outOfTime(run)) {
        report.errors.push(`${name}: not started, the invocation is running out of time`);
        continue;
      }
      try {
        await phase(run);
      } catch (err) {
        report.errors.push(
          `${name}: ${(err as Error)?.name ?? 'Error'}: ${String((err as Error)?.message ?? err).slice(0, 300)}`,
        );
      }
    }
  } finally {
    const finished = deps.now();
    report.finishedAt = finished.toISOString();
    report.durationMs = finished.getTime() - now.getTime();
    if (!preview) {
      await deps.sweepState.release(owner, {
        cursors: run.cursors,
        lastSweep: summaryOf(report, state.lastSweep),
      });
    }
  }
  // A preview's findings are counted by the real run that follows it, not twice.
  if (!preview) {
    for (const kind of FINDING_KINDS) {
      if (report.counts[kind] > 0) {
        deps.metricsSink?.('ReconciliationFindings', report.counts[kind], 'Count', { finding: kind });
      }
    }
    if (report.errors.length > 0) deps.metricsSink?.('SweepFailures', report.errors.length, 'Count');
  }
  return report;
}
