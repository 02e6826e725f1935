/**
 * The emulator's speed-ups (local/moto_speedups.py) may change how fast moto answers, never what it
 * answers: the same DynamoDB requests (conditions that hold and fail, key and index attributes,
 * unused or missing placeholders, new items, oversized items, transactions rolled back, filters
 * reusing one expression with other values) get the same responses from moto with and without
 * them; and the same SQS receives and batch deletes (unknown, repeated and superseded receipt handles,
 * standard and FIFO queues) get the same answers; and the same PutEvents (matching and unmatched
 * rules, input transformers, FIFO targets, another bus, invalid entries) deliver the same messages.
 * Each side runs in its own process, since the speed-ups patch moto in place.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const SCRIPT = 'test/emulator/moto_speedups_equivalence.py';
const SQS_SCRIPT = 'test/emulator/moto_speedups_sqs_equivalence.py';
const EVENTS_SCRIPT = 'test/emulator/moto_speedups_events_equivalence.py';

function run(mode: 'raw' | 'patched', script = SCRIPT) {
  const result = spawnSync('python3', [script, mode], { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${script} ${mode} failed: ${result.stderr}`);
  return { lines: result.stdout.trim().split('\n'), stderr: result.stderr };
}

describe('moto speed-ups', () => {
  it('answer every DynamoDB request exactly as moto does, and are used', () => {
    const raw = run('raw');
    const patched = run('patched');
    expect(raw.lines.length).toBeGreaterThan(25);
    expect(patched.lines).toEqual(raw.lines);
    const stats = JSON.parse(patched.stderr.trim().split('\n').at(-1) ?? '{}');
    expect(stats.direct_updates).toBeGreaterThanOrEqual(5);
    expect(stats.conditions_reused).toBeGreaterThanOrEqual(5);
    expect(stats.partition_queries).toBeGreaterThanOrEqual(5);
  }, 60_000);

  it('answer every SQS receive and batch delete exactly as moto does, and are used', () => {
    const raw = run('raw', SQS_SCRIPT);
    const patched = run('patched', SQS_SCRIPT);
    expect(raw.lines.length).toBeGreaterThan(20);
    expect(patched.lines).toEqual(raw.lines);
    // Receipt handles keep moto's shape: 185 lowercase letters.
    expect(patched.lines.join('\n')).toContain('(185 chars, lowercase True)');
    const stats = JSON.parse(patched.stderr.trim().split('\n').at(-1) ?? '{}');
    expect(stats.delete_batches).toBeGreaterThanOrEqual(8);
  }, 60_000);

  it('deliver every EventBridge event exactly as moto does, and are used', () => {
    const raw = run('raw', EVENTS_SCRIPT);
    const patched = run('patched', EVENTS_SCRIPT);
    expect(raw.lines.length).toBeGreaterThan(10);
    expect(patched.lines).toEqual(raw.lines);
    // Events were delivered (through an input transformer too), and some rules were not theirs.
    expect(patched.lines.join('\n')).toContain('{\\"instance\\": \\"i-00000000000000003\\"');
    const stats = JSON.parse(patched.stderr.trim().split('\n').at(-1) ?? '{}');
    expect(stats.rules_skipped).toBeGreaterThanOrEqual(20);
  }, 60_000);
});
