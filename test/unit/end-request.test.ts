/**
 * Two ends of one workload in a WorkloadEnded batch (an EC2 `shutting-down`, then `terminated`) are
 * handled once, by the earliest; the later one shares its owner's fate.
 */
import { describe, expect, it } from 'vitest';
import {
  type BatchEndResult,
  emptyOutcome,
  ownersOf,
  settleDuplicates,
  type WorkloadEnded,
} from '../../lambdas/revocation/end-request.ts';

const end = (id: string, endedAt: string) => ({ workload: { id }, endedAt }) as unknown as WorkloadEnded;

describe('ownersOf', () => {
  it('gives each workload to its earliest end, the first in the batch on a tie', () => {
    // Act
    const { owner, duplicateOf } = ownersOf([
      end('i-a', '2024-05-01T12:00:02.000Z'),
      end('i-b', '2024-05-01T12:00:00.000Z'),
      end('i-a', '2024-05-01T12:00:01.000Z'),
      end('i-b', '2024-05-01T12:00:00.000Z'),
    ]);

    // Assess
    expect([...owner]).toEqual([
      ['i-b', 1],
      ['i-a', 2],
    ]);
    expect([...duplicateOf].sort()).toEqual([
      [0, 2],
      [3, 1],
    ]);
  });
});

describe('settleDuplicates', () => {
  it("reports what the owner did as the duplicate's duplicates, and fails it with its owner", () => {
    // Prepare
    const done = { ...emptyOutcome(), requested: ['rs-1'], skipped: ['rs-2'] };
    const error = new Error('registry unavailable');
    const results: BatchEndResult[] = [
      { ok: true, outcome: done },
      { ok: false, error },
      { ok: true, outcome: emptyOutcome() },
      { ok: true, outcome: emptyOutcome() },
    ];

    // Act
    settleDuplicates(
      results,
      new Map([
        [2, 0],
        [3, 1],
      ]),
    );

    // Assess
    expect(results[2]).toEqual({ ok: true, outcome: { ...emptyOutcome(), duplicates: ['rs-1', 'rs-2'] } });
    expect(results[3]).toEqual({ ok: false, error });
  });
});
