/**
 * The scheduled canary's service logic (lambdas/canary/canary.ts) with injected deps: which
 * metrics a drill publishes, and that nothing secret reaches its report.
 */
import { describe, expect, it } from 'vitest';
import { CANARY_METRICS, type CanaryDeps, type DrillSession, runCanary } from '../../lambdas/canary/index.ts';

const SECRET = 'secret-never-reported';

function session(workloadId: string): DrillSession {
  return {
    workloadId,
    credentialId: `rs-${workloadId}`,
    sessionName: workloadId,
    issuedAt: '2026-12-02T07:00:00.000Z',
    credentials: { accessKeyId: 'ASIAX', secretAccessKey: SECRET, sessionToken: SECRET },
  };
}

type Recorded = [name: string, unit: string, value: number];

/** A fake clock; the ended session is denied `denyAfterMs` after its end (never when undefined). */
function deps(opts: { denyAfterMs?: number; issueFails?: boolean }): CanaryDeps & { recorded: Recorded[] } {
  let now = 5_000_000;
  let endedAt: number | undefined;
  const recorded: Recorded[] = [];
  return {
    recorded,
    issue: async (w) => {
      if (opts.issueFails) throw new Error('the broker issued no session (HTTP 403, forbidden)');
      return session(w);
    },
    end: async () => {
      endedAt = now;
    },
    probe: async (s) => {
      if (s.workloadId.endsWith('-live') || endedAt === undefined || opts.denyAfterMs === undefined)
        return 'allowed';
      return now - endedAt >= opts.denyAfterMs ? 'denied' : 'allowed';
    },
    auditTypes: async () => ['issued', 'revocation-requested', 'revoked'],
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    record: (name, unit, value) => {
      recorded.push([name, unit, value]);
    },
    evaluation: 'aws-call',
  };
}

const options = { workloadPrefix: 'canary-x', timeoutMs: 120_000, intervalMs: 1_000 };

describe('runCanary', () => {
  it('publishes TimeToRevoke (ms) and DrillFailed 0 when the deny arrives in time', async () => {
    const d = deps({ denyAfterMs: 3_000 });
    const report = await runCanary(d, options);
    expect(report).toMatchObject({ ok: true, timeToDenyMs: 3_000, evaluation: 'aws-call' });
    expect(d.recorded).toEqual([
      [CANARY_METRICS.timeToRevoke, 'Milliseconds', 3_000],
      [CANARY_METRICS.drillFailed, 'Count', 0],
    ]);
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('publishes DrillFailed 1 and no TimeToRevoke when the deny does not arrive before the timeout', async () => {
    const d = deps({});
    const report = await runCanary(d, options);
    expect(report.ok).toBe(false);
    expect(report.failure).toMatch(/not denied within 120 s/);
    expect(d.recorded).toEqual([[CANARY_METRICS.drillFailed, 'Count', 1]]);
  });

  it('publishes DrillFailed 1 when the drill cannot run at all, and never throws', async () => {
    const d = deps({ issueFails: true });
    const report = await runCanary({ ...d, note: 'simulated' }, options);
    expect(report).toMatchObject({
      ok: false,
      failure: 'the drill could not run: Error: the broker issued no session (HTTP 403, forbidden)',
      evaluation: 'aws-call',
      note: 'simulated',
    });
    expect(d.recorded).toEqual([[CANARY_METRICS.drillFailed, 'Count', 1]]);
  });
});
