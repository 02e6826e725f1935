import { describe, expect, it } from 'vitest';
import { CliError } from '../../cli/errors.ts';
import { parseTimeFlag, parseTimeRange } from '../../cli/time-range.ts';

const NOW = new Date('2024-05-10T12:00:00.000Z');

describe('parseTimeFlag', () => {
  it.each([
    ['30s', '2024-05-10T11:59:30.000Z'],
    ['30m', '2024-05-10T11:30:00.000Z'],
    ['2h', '2024-05-10T10:00:00.000Z'],
    ['7d', '2024-05-03T12:00:00.000Z'],
    ['1w', '2024-05-03T12:00:00.000Z'],
  ])('reads the duration %s back from now', (raw, expected) => {
    expect(parseTimeFlag('--since', raw, NOW)).toBe(expected);
  });

  it.each([
    ['2024-05-01T12:34:56.789Z', '2024-05-01T12:34:56.789Z'],
    ['2024-05-01T12:34:56Z', '2024-05-01T12:34:56.000Z'],
    ['2024-05-01T12:34Z', '2024-05-01T12:34:00.000Z'],
    ['2024-05-01T14:34:56+02:00', '2024-05-01T12:34:56.000Z'],
    ['2024-05-01T14:34:56+0200', '2024-05-01T12:34:56.000Z'],
    ['2024-05-01', '2024-05-01T00:00:00.000Z'],
    ['2024-05-01T12:34:56', '2024-05-01T12:34:56.000Z'],
    ['2024-05-01 12:34:56', '2024-05-01T12:34:56.000Z'],
  ])('reads the ISO time %s as %s (no zone means UTC)', (raw, expected) => {
    expect(parseTimeFlag('--since', raw, NOW)).toBe(expected);
  });

  it.each([
    'yesterday',
    '',
    '2h ago',
    '-2h',
    '0h',
    '2y',
    '2024-02-30',
    '2024-13-01',
    '2024-05-01T25:00:00Z',
    '2024-05-01T12:61Z',
    '1714564800',
  ])('rejects %j with one sentence naming the flag and the value', (raw) => {
    expect(() => parseTimeFlag('--until', raw, NOW)).toThrow(CliError);
    expect(() => parseTimeFlag('--until', raw, NOW)).toThrow(
      new RegExp(`^--until must be an ISO time .* got "${raw.replace(/[+]/g, '\\+')}"$`),
    );
  });
});

describe('parseTimeRange', () => {
  it('returns only the flags given', () => {
    expect(parseTimeRange({}, NOW)).toEqual({});
    expect(parseTimeRange({ since: '2h' }, NOW)).toEqual({ since: '2024-05-10T10:00:00.000Z' });
  });

  it('rejects a range that ends before it starts', () => {
    expect(() => parseTimeRange({ since: '1h', until: '2h' }, NOW)).toThrow(
      /--since \(2024-05-10T11:00:00.000Z\) must not be later than --until \(2024-05-10T10:00:00.000Z\)/,
    );
  });
});
