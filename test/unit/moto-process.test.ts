/**
 * The emulator's server process (local/moto_process.py) runs Python's full garbage collections between
 * requests: a full collection walks everything moto ever stored, and every request would wait behind it.
 * The check runs in its own Python process, since it changes the collector's thresholds.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('the emulator process', () => {
  it('defers full garbage collections while requests run, and runs them when idle or long overdue', () => {
    // Act
    const result = spawnSync('python3', ['test/emulator/moto_process_gc_check.py'], {
      encoding: 'utf8',
      timeout: 30_000,
    });

    // Assess
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toEqual([
      'ok   no automatic full collections',
      'ok   a due full collection waits while requests run',
      'ok   and runs once the server is idle',
      'ok   under load that never pauses, it runs anyway',
    ]);
    expect(result.status).toBe(0);
  });
});
