/**
 * The revocation drill, without I/O of its own: issue two sessions of one role through the broker,
 * check both work, end the first one's workload, poll until its session is denied (time-to-deny),
 * then check that the second still works and that the audit trail holds issued -> ended -> revoked.
 * Every outside effect is injected (broker, bus, probe, audit, clock), so the same code runs against
 * AWS (a real call with the session), the local emulator (a policy simulator) and the canary.
 */

/** A session the drill holds. The secret parts never leave the probe. */
export interface DrillSession {
  workloadId: string;
  credentialId: string;
  sessionName: string;
  /** aws:TokenIssueTime of the session (the registry's issuedAt). */
  issuedAt: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

export type ProbeResult = 'allowed' | 'denied';

/** The drill's view of a session the broker issued and recorded (the registry's record of it). */
export function drillSessionOf(
  record: { workloadId: string; credentialId: string; sessionName: string; issuedAt: string },
  session: { accessKeyId: string; secretAccessKey: string; sessionToken: string },
): DrillSession {
  const { accessKeyId, secretAccessKey, sessionToken } = session;
  return {
    workloadId: record.workloadId,
    credentialId: record.credentialId,
    sessionName: record.sessionName,
    issuedAt: record.issuedAt,
    credentials: { accessKeyId, secretAccessKey, sessionToken },
  };
}

export interface DrillDeps {
  issue(workloadId: string): Promise<DrillSession>;
  /** Puts `Workload Ended` for the workload on Sundown's bus. */
  end(workloadId: string): Promise<void>;
  /** The harmless call the deny covers, made (or evaluated) as the session. */
  probe(session: DrillSession): Promise<ProbeResult>;
  /** The audit record types of the workload, in time order. */
  auditTypes(workloadId: string): Promise<string[]>;
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface DrillOptions {
  /** Prefix of the two workload IDs (`<prefix>-ended`, `<prefix>-live`). */
  workloadPrefix: string;
  timeoutMs: number;
  intervalMs: number;
}

export interface DrillReport {
  ok: boolean;
  /** Why the drill failed (absent on success). */
  failure?: string;
  endedWorkload: { workloadId: string; credentialId: string; sessionName: string };
  liveWorkload: { workloadId: string; credentialId: string; sessionName: string };
  endedAt?: string;
  deniedAt?: string;
  timeToDenyMs?: number;
  /** The second session on the same role still works after the first one's revocation. */
  liveSessionAllowed?: boolean;
  /** Audit record types of the ended workload, in time order, and whether the chain is complete. */
  audit: { types: string[]; complete: boolean };
  probes: number;
}

/** The records a revocation leaves: issued by the broker, the end requested, the session revoked. */
export const EXPECTED_CHAIN = ['issued', 'revocation-requested', 'revoked'] as const;

/** True when `types` holds the expected records in this order (others may be in between). */
export function chainComplete(types: readonly string[]): boolean {
  let next = 0;
  for (const t of types) if (t === EXPECTED_CHAIN[next]) next++;
  return next === EXPECTED_CHAIN.length;
}

const summary = (s: DrillSession) => ({
  workloadId: s.workloadId,
  credentialId: s.credentialId,
  sessionName: s.sessionName,
});

export async function runDrill(deps: DrillDeps, opts: DrillOptions): Promise<DrillReport> {
  const ended = await deps.issue(`${opts.workloadPrefix}-ended`);
  const live = await deps.issue(`${opts.workloadPrefix}-live`);
  const report: DrillReport = {
    ok: false,
    endedWorkload: summary(ended),
    liveWorkload: summary(live),
    audit: { types: [], complete: false },
    probes: 0,
  };
  const probe = async (s: DrillSession) => {
    report.probes++;
    return deps.probe(s);
  };
  for (const s of [ended, live]) {
    if ((await probe(s)) !== 'allowed') {
      report.failure = `session ${s.sessionName} is denied before anything was revoked: the probe cannot tell a revocation apart (does the role allow the probe call?)`;
      return report;
    }
  }

  // No wait before the end: a session issued in the very second its workload's end is stamped with
  // is denied too (the deny covers the end's whole second, revocation/intake.ts denyBoundFor), so a
  // drill that ends its workload at once also checks that edge.
  const start = deps.now();
  await deps.end(ended.workloadId);
  report.endedAt = new Date(start).toISOString();
  const deadline = start + opts.timeoutMs;
  let denied = false;
  while (!denied && deps.now() < deadline) {
    denied = (await probe(ended)) === 'denied';
    if (!denied) await deps.sleep(Math.min(opts.intervalMs, Math.max(0, deadline - deps.now())));
  }
  if (!denied) denied = (await probe(ended)) === 'denied';
  if (!denied) {
    report.failure = `the session of ${ended.workloadId} was not denied within ${opts.timeoutMs / 1000} s of its end`;
    report.audit.types = await deps.auditTypes(ended.workloadId);
    return report;
  }
  const deniedAt = deps.now();
  report.deniedAt = new Date(deniedAt).toISOString();
  report.timeToDenyMs = deniedAt - start;

  report.liveSessionAllowed = (await probe(live)) === 'allowed';
  // The revoker audits right after its IAM write: allow the record a little time to land.
  const auditDeadline = Math.max(deadline, deps.now() + 10_000);
  for (;;) {
    report.audit.types = await deps.auditTypes(ended.workloadId);
    report.audit.complete = chainComplete(report.audit.types);
    if (report.audit.complete || deps.now() >= auditDeadline) break;
    await deps.sleep(opts.intervalMs);
  }
  if (!report.liveSessionAllowed) {
    report.failure = `the live session ${live.sessionName} on the same role is denied too: the revocation was not precise`;
  } else if (!report.audit.complete) {
    report.failure = `the audit trail of ${ended.workloadId} lacks ${EXPECTED_CHAIN.join(' -> ')} (has ${report.audit.types.join(', ') || 'nothing'})`;
  } else {
    report.ok = true;
  }
  return report;
}
