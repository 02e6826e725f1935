/**
 * What `sundown status` computes from what it reads (percentiles, the principals nearest their
 * policy capacity), and the metrics the functions emit in embedded metric format: the dimension
 * sets the stack's alarms and dashboard name (lib/constructs/monitoring.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nearestCapacity, percentile } from '../../cli/status-report.ts';
import type { PrincipalMeta } from '../../lambdas/revocation/store.ts';
import { recordMetric } from '../../lambdas/shared/powertools.ts';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../lib/constructs/monitoring.ts';

describe('percentile', () => {
  it('is the nearest-rank percentile, null without samples', () => {
    const samples = [500, 100, 400, 200, 300];
    expect(percentile(samples, 50)).toBe(300);
    expect(percentile(samples, 99)).toBe(500);
    expect(percentile(samples, 0)).toBe(100);
    expect(percentile([42], 99)).toBe(42);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('nearestCapacity', () => {
  const meta = (principalArn: string, charsUsed: number, charsCapacity: number): PrincipalMeta => ({
    principalArn,
    charsUsed,
    charsCapacity,
    version: 1,
    renderedVersion: 1,
    nextExpiry: '2024-05-01T17:00:00.000Z',
    iamWrites: 1,
    unplaced: 0,
  });

  it('lists the fullest principals first, as a percentage of their own capacity', () => {
    const rows = nearestCapacity(
      [
        meta('arn:aws:iam::123456789012:role/a', 1_000, 10_000),
        meta('arn:aws:iam::123456789012:role/b', 9_000, 10_000),
        meta('arn:aws:iam::123456789012:user/c', 1_024, 2_048),
        meta('arn:aws:iam::123456789012:role/never-rendered', 0, 0),
      ],
      2,
    );
    expect(rows.map((r) => [r.principalArn.split(':').pop(), r.usedPercent])).toEqual([
      ['role/b', 90],
      ['user/c', 50],
    ]);
  });
});

describe('recordMetric', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** The EMF documents Powertools writes (it logs them as JSON lines). */
  function emitted(write: () => void): Record<string, unknown>[] {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    });
    write();
    spy.mockRestore();
    return lines
      .join('')
      .split('\n')
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l));
  }

  it('publishes the total under service only (what alarms watch) and the breakdown with its dimensions', async () => {
    const { flushMetrics } = await import('../../lambdas/shared/powertools.ts');
    const docs = emitted(() => {
      recordMetric('Revocations', 'Count', 1, { kind: 'role-session', outcome: 'revoked' });
      flushMetrics();
    });

    const sets = docs.map((d) => {
      const [cw] = (d._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] })
        .CloudWatchMetrics;
      return [cw?.Namespace, cw?.Dimensions, d.service, d.Revocations];
    });
    expect(sets).toEqual(
      expect.arrayContaining([
        [METRICS_NAMESPACE, [['service', 'kind', 'outcome']], METRICS_SERVICE, 1],
        [METRICS_NAMESPACE, [['service']], METRICS_SERVICE, 1],
      ]),
    );
    expect(sets).toHaveLength(2);
  });
});
