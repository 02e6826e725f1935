import { denyEntryKeysFor, entryKey, roleDenyEntryFor, type StoredDenyEntry } from '../revocation/index.ts';
import type { CredentialRecord } from '../shared/schemas/credential.ts';
import { auditCredential, auditTrigger } from '../shared/services/audit-helpers.ts';
import { credentialIdOfEntry, entriesMissingFromIam } from './decisions.ts';
import { IAM_SETTLE_MS, RECONCILIATION_TRIGGER } from './model.ts';
import { find, loadPrincipal, outOfTime, type Run, requestRender } from './run.ts';

export async function prune(run: Run): Promise<void> {
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

export async function auditDrift(
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
export async function checkRevoked(run: Run): Promise<void> {
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
    const covering = denyEntryKeysFor(expected.sessionName, credential.endedAt);
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
export async function checkPrincipals(run: Run): Promise<void> {
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
