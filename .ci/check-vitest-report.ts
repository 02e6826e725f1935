/**
 * CI gate on Vitest's JSON report: fails when no test ran, or when a test was skipped or left
 * `todo` without being listed in .ci/allowed-skips (a test that silently stops running is a test
 * that stopped telling the truth). Usage: tsx .ci/check-vitest-report.ts <report.json> [allowed-skips]
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface VitestReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: { name: string; assertionResults: { status: string; fullName: string }[] }[];
}

/** `<file relative to the repository> > <full test name>`, as .ci/allowed-skips lists them. */
export type SkipId = string;

/**
 * Parses .ci/allowed-skips: one `<file> > <full test name>  # reason` per line; blank lines and
 * lines starting with `#` are ignored. An entry without a reason is an error.
 */
export function parseAllowedSkips(text: string): Set<SkipId> {
  const allowed = new Set<SkipId>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const hash = line.indexOf('  #');
    if (hash < 0 || line.slice(hash + 3).trim() === '') {
      throw new Error(`allowed-skips line ${i + 1} gives no reason (append "  # why"): ${line}`);
    }
    allowed.add(line.slice(0, hash).trim());
  }
  return allowed;
}

/** The skipped or todo tests of a report that are not allowed, as `<file> > <name> (status)`. */
export function unexpectedSkips(report: VitestReport, allowed: ReadonlySet<SkipId>, root: string): string[] {
  const found: string[] = [];
  for (const file of report.testResults) {
    const rel = path.relative(root, file.name).split(path.sep).join('/');
    for (const test of file.assertionResults) {
      if (test.status === 'passed' || test.status === 'failed') continue;
      const id = `${rel} > ${test.fullName}`;
      if (!allowed.has(id)) found.push(`${id} (${test.status})`);
    }
  }
  return found;
}

/** Every problem with the report; empty when CI may pass. */
export function reportProblems(report: VitestReport, allowed: ReadonlySet<SkipId>, root: string): string[] {
  const problems: string[] = [];
  if (report.numTotalTests === 0) problems.push('no test ran');
  if (report.numFailedTests > 0) problems.push(`${report.numFailedTests} test(s) failed`);
  const skips = unexpectedSkips(report, allowed, root);
  if (skips.length > 0) {
    problems.push(
      `${skips.length} test(s) skipped or todo without an entry in .ci/allowed-skips:\n  ${skips.join('\n  ')}`,
    );
  }
  // The counters must agree with the per-test statuses (a report format change must not hide skips).
  const listed = report.testResults
    .flatMap((f) => f.assertionResults)
    .filter((t) => t.status !== 'passed' && t.status !== 'failed');
  if (report.numPendingTests + report.numTodoTests !== listed.length) {
    problems.push(
      `the report counts ${report.numPendingTests} skipped and ${report.numTodoTests} todo tests but lists ${listed.length}`,
    );
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [reportFile, allowedFile = '.ci/allowed-skips'] = process.argv.slice(2);
  if (!reportFile) throw new Error('usage: tsx .ci/check-vitest-report.ts <report.json> [allowed-skips]');
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as VitestReport;
  const allowed = existsSync(allowedFile)
    ? parseAllowedSkips(readFileSync(allowedFile, 'utf8'))
    : new Set<SkipId>();
  const skipped = report.numPendingTests + report.numTodoTests;
  process.stdout.write(
    `${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped/todo (${allowed.size} allowed)\n`,
  );
  const problems = reportProblems(report, allowed, process.cwd());
  for (const p of problems) process.stderr.write(`${p}\n`);
  process.exit(problems.length > 0 ? 1 : 0);
}
