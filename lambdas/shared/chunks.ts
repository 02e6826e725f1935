/** Work over many items in chunks, a few chunks at a time (batch APIs take at most N items a call). */

/**
 * How many chunks of one batch operation are in flight at once. The chunks of a burst's batch are
 * independent (distinct keys, distinct events), so their round trips overlap instead of adding up:
 * 40 BatchWriteItem calls cost ~10 round trips, not 40. Small enough that a batch never floods a
 * table's partitions or the function's few CPU shares.
 */
export const CHUNK_CONCURRENCY = 4;

/**
 * `items` cut into chunks of `size`, each handed to `work`, at most `concurrency` at once. The
 * results come back in chunk order. Chunks must be independent: none may depend on another's
 * effect (callers pass distinct keys). The first failure rejects, once the chunks under way settle.
 */
export async function inChunks<T, R>(
  items: readonly T[],
  size: number,
  work: (chunk: T[]) => Promise<R>,
  concurrency = CHUNK_CONCURRENCY,
): Promise<R[]> {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  const results: R[] = new Array(chunks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (next < chunks.length && !failure) {
      const index = next++;
      try {
        results[index] = await work(chunks[index] as T[]);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, lane));
  if (failure) throw failure.error;
  return results;
}
