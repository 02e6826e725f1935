import { endWorkload, endWorkloads } from '../revocation/index.ts';
import { partitionOf } from '../shared/domain/iam-arn.ts';
import type { Workload } from '../shared/domain/workload-id.ts';
import type { CredentialRecord } from '../shared/schemas/credential.ts';
import { hasExpired, idleDecision, reconcileDecision } from './decisions.ts';
import { IDLE_KEY_TRIGGER, RECONCILIATION_TRIGGER } from './model.ts';
import { find, outOfTime, type Run, workloadOf } from './run.ts';

export async function reconcile(run: Run): Promise<void> {
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

export async function checkIdleKey(
  run: Run,
  workload: Workload,
  credential: CredentialRecord,
): Promise<void> {
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
