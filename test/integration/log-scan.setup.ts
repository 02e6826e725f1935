/**
 * Runs in every integration test file: captures everything written to stdout
 * and stderr (the in-process handlers' structured logs, at INFO level) and
 * fails the file if any line holds an AWS secret access key, a session token
 * or a PEM private key. Captured lines are shown only with SUNDOWN_TEST_VERBOSE.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { findSecretMaterial } from '../../lambdas/shared/domain/audit-chain.ts';

const captured: string[] = [];

/** Everything written to stdout/stderr so far in this test file. */
export function capturedOutput(): readonly string[] {
  return captured;
}
const original = {
  out: process.stdout.write.bind(process.stdout),
  err: process.stderr.write.bind(process.stderr),
};

function capture(stream: NodeJS.WriteStream, forward: typeof process.stdout.write): void {
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    if (process.env.SUNDOWN_TEST_VERBOSE)
      return (forward as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
}

beforeAll(() => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
  capture(process.stdout, original.out);
  capture(process.stderr, original.err);
});

afterAll(() => {
  process.stdout.write = original.out;
  process.stderr.write = original.err;
  const hits = captured.flatMap((text, i) =>
    findSecretMaterial(text).map((kind) => `${kind} in output chunk ${i}`),
  );
  expect(hits, 'secret material in the logs').toEqual([]);
});
