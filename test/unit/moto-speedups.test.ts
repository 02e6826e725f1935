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

function run(mode: 'raw' | 'patched', script: string) {
  const result = spawnSync('python3', [script, mode], { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${script} ${mode} failed: ${result.stderr}`);
  return { lines: result.stdout.trim().split('\n'), stderr: result.stderr };
}

/** Runs `script` on both sides, requires the same answers, and returns them with the speed-ups' counts. */
function sameAnswers(script: string, minCases: number): { text: string; stats: Record<string, number> } {
  const raw = run('raw', script);
  const patched = run('patched', script);
  expect(raw.lines.length).toBeGreaterThan(minCases);
  expect(patched.lines).toEqual(raw.lines);
  return {
    text: patched.lines.join('\n'),
    stats: JSON.parse(patched.stderr.trim().split('\n').at(-1) ?? '{}'),
  };
}

describe('moto speed-ups', () => {
  it('answer every DynamoDB request exactly as moto does, and are used', () => {
    const { stats } = sameAnswers(SCRIPT, 25);
    expect(stats.direct_updates).toBeGreaterThanOrEqual(5);
    expect(stats.conditions_reused).toBeGreaterThanOrEqual(5);
    expect(stats.partition_queries).toBeGreaterThanOrEqual(5);
  }, 60_000);

  it('answer every SQS receive and batch delete exactly as moto does, and are used', () => {
    const { text, stats } = sameAnswers(SQS_SCRIPT, 20);
    // Receipt handles keep moto's shape: 185 lowercase letters.
    expect(text).toContain('(185 chars, lowercase True)');
    expect(stats.delete_batches).toBeGreaterThanOrEqual(8);
  }, 60_000);

  it('deliver every EventBridge event exactly as moto does, and are used', () => {
    const { text, stats } = sameAnswers(EVENTS_SCRIPT, 10);
    // Events were delivered (through an input transformer too), and some rules were not theirs.
    expect(text).toContain('{\\"instance\\": \\"i-00000000000000003\\"');
    expect(stats.rules_skipped).toBeGreaterThanOrEqual(20);
  }, 60_000);
});
