/**
 * Runs in every integration test file: captures everything written to stdout
 * and stderr (the in-process handlers' structured logs, at INFO level) and
 * fails the file if any line holds an AWS secret access key, a session token
 * or a PEM private key. Captured lines are shown only with SUNDOWN_TEST_VERBOSE,
 * except handler errors: when a test fails, the errors the handlers logged
 * (level ERROR or above) and the local runtime reported while it ran are
 * printed, verbose or not.
 */
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { findSecretMaterial } from '../../lambdas/audit/audit-secrets.ts';

const captured: string[] = [];

/** Everything written to stdout/stderr so far in this test file. */
export function capturedOutput(): readonly string[] {
  return captured;
}
/** Prefix of the local runtime's error reports (handler threw, poll failed) in the captured output. */
export const RUNTIME_ERROR_PREFIX = '[sundown runtime] ';

const ERROR_LEVELS = new Set(['ERROR', 'CRITICAL', 'FATAL']);

/**
 * The handler errors in captured chunks `from`..end: Powertools log lines at level ERROR or above,
 * and the local runtime's error reports. Each as one line of text.
 */
export function handlerErrorLines(from = 0): string[] {
  const lines: string[] = [];
  for (const chunk of captured.slice(from)) {
    for (const line of chunk.split('\n')) {
      const text = line.trim();
      if (text.startsWith(RUNTIME_ERROR_PREFIX)) lines.push(text);
      if (!text.startsWith('{')) continue;
      try {
        const entry = JSON.parse(text) as { level?: unknown };
        if (typeof entry.level === 'string' && ERROR_LEVELS.has(entry.level.toUpperCase())) lines.push(text);
      } catch {
        // not a structured log line
      }
    }
  }
  return lines;
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

beforeEach(({ onTestFailed, task }) => {
  const from = captured.length;
  onTestFailed(() => {
    const errors = handlerErrorLines(from);
    if (errors.length === 0 || process.env.SUNDOWN_TEST_VERBOSE) return;
    original.err(
      `\nhandler errors while "${task.name}" ran (${errors.length}):\n${errors.map((e) => `  ${e}`).join('\n')}\n`,
    );
  });
});

afterAll(() => {
  process.stdout.write = original.out;
  process.stderr.write = original.err;
  const hits = captured.flatMap((text, i) =>
    findSecretMaterial(text).map((kind) => `${kind} in output chunk ${i}`),
  );
  expect(hits, 'secret material in the logs').toEqual([]);
});
