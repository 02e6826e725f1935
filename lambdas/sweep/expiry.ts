import { auditCredential, auditTrigger } from '../shared/services/audit-helpers.ts';
import { hasExpired } from './decisions.ts';
import { MAX_EXPIRY_PAGES, RECONCILIATION_TRIGGER } from './model.ts';
import { find, outOfTime, type Run } from './run.ts';

export async function expire(run: Run): Promise<void> {
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
