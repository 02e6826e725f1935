import { describe, expect, it } from 'vitest';
import { chainComplete, type DrillDeps, type DrillSession, runDrill } from '../../lambdas/canary/index.ts';

function session(workloadId: string): DrillSession {
  return {
    workloadId,
    credentialId: `rs-${workloadId}`,
    sessionName: workloadId,
    issuedAt: '2026-12-02T07:00:00.000Z',
    credentials: { accessKeyId: 'ASIAX', secretAccessKey: 'not-printed', sessionToken: 'not-printed' },
  };
}

/** A fake clock and a deny that arrives `denyAfterMs` after the end (never when undefined). */
function deps(opts: { denyAfterMs?: number; liveDenied?: boolean; audit?: string[] }): DrillDeps {
  let now = 1_000_000;
  let endedAt: number | undefined;
  return {
    issue: async (w) => session(w),
    end: async () => {
      endedAt = now;
    },
    probe: async (s) => {
      if (s.workloadId.endsWith('-live'))
        return opts.liveDenied && endedAt !== undefined ? 'denied' : 'allowed';
      if (endedAt === undefined || opts.denyAfterMs === undefined) return 'allowed';
      return now - endedAt >= opts.denyAfterMs ? 'denied' : 'allowed';
    },
    auditTypes: async () => opts.audit ?? ['issued', 'revocation-requested', 'revoked'],
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
}

const options = { workloadPrefix: 'drill-x', timeoutMs: 10_000, intervalMs: 500 };

describe('runDrill', () => {
  it('reports the time until the ended session is denied, and succeeds', async () => {
    const r = await runDrill(deps({ denyAfterMs: 2_000 }), options);
    expect(r).toMatchObject({ ok: true, timeToDenyMs: 2_000, liveSessionAllowed: true });
    expect(JSON.stringify(r)).not.toContain('not-printed');
  });

  it('fails when the deny does not arrive before the timeout', async () => {
    const r = await runDrill(deps({}), options);
    expect(r.ok).toBe(false);
    expect(r.failure).toMatch(/not denied within 10 s/);
    expect(r.timeToDenyMs).toBeUndefined();
  });

  it('fails when the live session on the same role is denied too', async () => {
    const r = await runDrill(deps({ denyAfterMs: 0, liveDenied: true }), options);
    expect(r).toMatchObject({ ok: false, liveSessionAllowed: false });
  });

  it('fails when the audit chain lacks the revocation', async () => {
    const r = await runDrill(deps({ denyAfterMs: 0, audit: ['issued', 'revocation-requested'] }), options);
    expect(r.ok).toBe(false);
    expect(r.failure).toMatch(/audit trail/);
  });
});

describe('chainComplete', () => {
  it('needs issued, revocation-requested and revoked in this order', () => {
    expect(chainComplete(['issued', 'revocation-requested', 'revoked'])).toBe(true);
    expect(chainComplete(['issued', 'x', 'revocation-requested', 'revoked'])).toBe(true);
    expect(chainComplete(['revoked', 'issued', 'revocation-requested'])).toBe(false);
  });
});
