/**
 * The two reports of `sundown preflight`: JSON (`--json`, field names documented in the README and
 * kept stable) and the human one. Both are built from the same result; every string from a template
 * is escaped for the terminal (human) or written with \u escapes (JSON).
 */
import * as path from 'node:path';
import { failing } from './engine.ts';
import type { InputError } from './input.ts';
import { escapeJsonText, printable } from './sanitize.ts';
import type { Finding, Severity, TemplateInput } from './types.ts';

export const REPORT_VERSION = 1;
export type FailOn = Severity | 'none';

export interface PreflightReport {
  reportVersion: number;
  failOn: FailOn;
  /** 0 clean, 1 findings at or above failOn, 2 some input could not be read. */
  exitCode: 0 | 1 | 2;
  templates: { path: string; stackName: string | null; resources: number }[];
  findings: {
    ruleId: string;
    severity: Severity;
    message: string;
    template: string;
    stackName: string | null;
    resource: string;
    resourceType: string;
    line: number | null;
    relatedResources: string[];
    suppressed: { source: 'metadata' | 'file'; reason: string } | null;
  }[];
  errors: InputError[];
  summary: Record<Severity | 'suppressed' | 'failing', number>;
}

export function buildReport(
  templates: readonly TemplateInput[],
  findings: readonly Finding[],
  errors: readonly InputError[],
  failOn: FailOn,
): PreflightReport {
  const failed = failing(findings, failOn).length;
  const summary = { error: 0, warning: 0, note: 0, suppressed: 0, failing: failed };
  for (const f of findings) summary[f.suppressed ? 'suppressed' : f.severity] += 1;
  return {
    reportVersion: REPORT_VERSION,
    failOn,
    exitCode: errors.length > 0 ? 2 : failed > 0 ? 1 : 0,
    templates: templates.map((t) => ({
      path: t.path,
      stackName: t.stackName ?? null,
      resources: Object.keys(t.resources).length,
    })),
    findings: findings.map((f) => ({
      ruleId: f.ruleId,
      severity: f.severity,
      message: f.message,
      template: f.template,
      stackName: f.stackName ?? null,
      resource: f.resource,
      resourceType: f.resourceType,
      line: f.line ?? null,
      relatedResources: f.related,
      suppressed: f.suppressed ?? null,
    })),
    errors: [...errors],
    summary,
  };
}

/** JSON text safe to print or store: JSON.stringify plus \u escapes for DEL, C1 and bidi controls. */
export function reportJson(value: unknown): string {
  return `${escapeJsonText(JSON.stringify(value, null, 2))}\n`;
}

export function renderHuman(report: PreflightReport): string {
  const out: string[] = [];
  const where = (f: PreflightReport['findings'][number]) => {
    const text = printable(f.stackName ?? path.relative(process.cwd(), f.template), 10_000);
    return text.length > 60 ? `…${text.slice(-59)}` : text; // the end of a path says most
  };
  out.push(`Preflight: ${report.templates.length} template(s) checked.`);
  const open = report.findings.filter((f) => !f.suppressed);
  const suppressed = report.findings.filter((f) => f.suppressed);
  if (open.length > 0) {
    const rows = open.map((f) => [f.severity, f.ruleId, where(f), printable(f.resource, 60)]);
    out.push(
      ...table(
        ['SEVERITY', 'RULE', 'STACK', 'RESOURCE'],
        rows,
        open.map((f) => `  ${printable(f.message, 600)}`),
      ),
    );
  }
  if (suppressed.length > 0) {
    out.push('', `Suppressed (${suppressed.length}):`);
    const rows = suppressed.map((f) => [
      f.ruleId,
      where(f),
      printable(f.resource, 60),
      f.suppressed?.source ?? '',
    ]);
    out.push(
      ...table(
        ['RULE', 'STACK', 'RESOURCE', 'BY'],
        rows,
        suppressed.map((f) => `  reason: ${printable(f.suppressed?.reason ?? '', 300)}`),
      ),
    );
  }
  for (const e of report.errors) out.push(`error: ${printable(e.path, 200)}: ${printable(e.message, 400)}`);
  const s = report.summary;
  out.push(
    '',
    `${s.error} error(s), ${s.warning} warning(s), ${s.note} note(s), ${s.suppressed} suppressed; ` +
      (report.failOn === 'none'
        ? 'not failing on findings (--fail-on none).'
        : `${s.failing} at or above --fail-on ${report.failOn}.`),
  );
  if (report.errors.length > 0) out.push(`${report.errors.length} input(s) could not be read.`);
  return `${out.join('\n')}\n`;
}

/** Aligned columns, each row followed by its detail line. */
function table(header: string[], rows: string[][], details: string[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.flatMap((r, i) => [line(r), details[i] ?? ''])];
}
