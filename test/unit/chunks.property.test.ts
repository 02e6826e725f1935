/**
 * inChunks (lambdas/shared/chunks.ts) cuts a batch into API-sized chunks and runs a few at once:
 * every item is handed over exactly once, in its chunk, results come back in chunk order whatever
 * order the chunks finish in, no more than `concurrency` chunks are ever in flight, and a failing
 * chunk rejects the whole after the chunks under way have settled.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inChunks } from '../../lambdas/shared/chunks.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('inChunks', () => {
  it('hands every item over once, in order, with at most `concurrency` chunks in flight', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer(), { maxLength: 60 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
        async (items, size, concurrency, delays) => {
          let inFlight = 0;
          let maxInFlight = 0;
          const seen: number[][] = [];
          let call = 0;
          const results = await inChunks(
            items,
            size,
            async (chunk) => {
              maxInFlight = Math.max(maxInFlight, ++inFlight);
              seen.push(chunk);
              // Chunks finish out of order.
              await tick(delays[call++ % delays.length] as number);
              inFlight--;
              return chunk.reduce((a, b) => a + b, 0);
            },
            concurrency,
          );
          const chunks: number[][] = [];
          for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
          expect(results).toEqual(chunks.map((c) => c.reduce((a, b) => a + b, 0)));
          expect([...seen].sort()).toEqual([...chunks].sort());
          expect(maxInFlight).toBeLessThanOrEqual(concurrency);
          if (chunks.length >= concurrency) expect(maxInFlight).toBe(concurrency);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rejects with the first failure, after the chunks under way settle, and starts no more', async () => {
    const started: number[] = [];
    let settled = 0;
    const run = inChunks(
      Array.from({ length: 10 }, (_, i) => i),
      1,
      async ([i]) => {
        started.push(i as number);
        await tick(i === 1 ? 1 : 5);
        settled++;
        if (i === 1) throw new Error('chunk 1 failed');
        return i;
      },
      3,
    );
    await expect(run).rejects.toThrow('chunk 1 failed');
    expect(started).toEqual([0, 1, 2]);
    expect(settled).toBe(3);
  });

  it('does nothing for no items', async () => {
    expect(await inChunks([], 25, async () => 1)).toEqual([]);
  });
});
