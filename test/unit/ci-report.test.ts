/**
 * The CI gate on Vitest's JSON report (.ci/check-vitest-report.ts): skipped and todo tests fail CI
 * unless .ci/allowed-skips lists them with a reason. The report shape is what Vitest 4 writes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllowedSkips, reportProblems, type VitestReport } from '../../.ci/check-vitest-report.ts';

const ROOT = '/repo';

function report(statuses: [string, string][]): VitestReport {
  const count = (s: string) => statuses.filter(([status]) => status === s).length;
  return {
    numTotalTests: statuses.length,
    numPassedTests: count('passed'),
    numFailedTests: count('failed'),
    numPendingTests: count('skipped') + count('pending'),
    numTodoTests: count('todo'),
    testResults: [
      {
        name: `${ROOT}/test/unit/a.test.ts`,
        assertionResults: statuses.map(([status, fullName]) => ({ status, fullName })),
      },
    ],
  };
}

describe('reportProblems', () => {
  it('passes a report where every test ran', () => {
    expect(reportProblems(report([['passed', 'x works']]), new Set(), ROOT)).toEqual([]);
  });

  it('fails on a skipped or todo test that is not allowed, naming it', () => {
    const problems = reportProblems(
      report([
        ['passed', 'x works'],
        ['skipped', 'x skipIf(no moto)'],
        ['todo', 'x later'],
      ]),
      new Set(),
      ROOT,
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('2 test(s) skipped or todo');
    expect(problems[0]).toContain('test/unit/a.test.ts > x skipIf(no moto) (skipped)');
    expect(problems[0]).toContain('test/unit/a.test.ts > x later (todo)');
  });

  it('lets an allowed skip through', () => {
    const allowed = parseAllowedSkips('test/unit/a.test.ts > x on Windows  # needs POSIX signals\n');
    expect(reportProblems(report([['skipped', 'x on Windows']]), allowed, ROOT)).toEqual([]);
  });

  it('fails when no test ran, or when the counters disagree with the listed tests', () => {
    expect(reportProblems(report([]), new Set(), ROOT)).toEqual(['no test ran']);
    const hidden = { ...report([['passed', 'x']]), numPendingTests: 1 };
    expect(reportProblems(hidden, new Set(), ROOT)).toEqual([
      'the report counts 1 skipped and 0 todo tests but lists 0',
    ]);
  });
});

describe('parseAllowedSkips', () => {
  it('requires a reason for every entry', () => {
    expect(() => parseAllowedSkips('test/unit/a.test.ts > x')).toThrow(/line 1 gives no reason/);
  });

  it('reads the repository list (comments only, for now)', () => {
    expect(parseAllowedSkips(readFileSync('.ci/allowed-skips', 'utf8'))).toEqual(new Set());
  });
});
