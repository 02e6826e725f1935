/**
 * Runs every rule over every template and applies suppressions: from the resource's Metadata first,
 * then from a suppression file. Suppressed findings stay in the result, marked with their reason;
 * `invalid-suppression` findings cannot be suppressed.
 */
import { TemplateModel } from './model.ts';
import { RULES } from './rules/index.ts';
import { SUPPRESSIBLE_RULE_IDS } from './rules/invalid-suppression.ts';
import { type FileSuppression, metadataSuppressions } from './suppressions.ts';
import {
  atLeast,
  type Finding,
  type PreflightOptions,
  resolveOptions,
  type Severity,
  severityRank,
  type TemplateInput,
} from './types.ts';

export interface PreflightResult {
  findings: Finding[];
  /** Counts of findings not suppressed, by severity, and of suppressed ones. */
  summary: Record<Severity | 'suppressed', number>;
}

export function runPreflight(
  templates: readonly TemplateInput[],
  options: PreflightOptions = {},
  fileSuppressions: readonly FileSuppression[] = [],
): PreflightResult {
  const resolved = resolveOptions(options);
  const findings: Finding[] = [];
  for (const input of templates) {
    const model = new TemplateModel(input, resolved);
    for (const rule of RULES) {
      for (const f of rule.check(model)) {
        const resource = model.resources[f.resource];
        const finding: Finding = {
          ruleId: rule.id,
          severity: rule.severity,
          template: input.path,
          ...(input.stackName !== undefined ? { stackName: input.stackName } : {}),
          resource: f.resource,
          resourceType: resource?.Type ?? 'unknown',
          ...(input.lines?.[f.resource] !== undefined ? { line: input.lines[f.resource] } : {}),
          message: f.message,
          related: f.related ?? [],
        };
        if (SUPPRESSIBLE_RULE_IDS.has(rule.id)) {
          const fromMetadata = resource
            ? metadataSuppressions(resource, SUPPRESSIBLE_RULE_IDS).entries.find((e) => e.id === rule.id)
            : undefined;
          const fromFile = fileSuppressions.find(
            (s) =>
              s.id === rule.id &&
              s.resource === f.resource &&
              (s.stack === undefined || s.stack === input.stackName || s.stack === input.path),
          );
          if (fromMetadata) finding.suppressed = { source: 'metadata', reason: fromMetadata.reason };
          else if (fromFile) finding.suppressed = { source: 'file', reason: fromFile.reason };
        }
        findings.push(finding);
      }
    }
  }
  return { findings: sortFindings(findings), summary: summarize(findings) };
}

function summarize(findings: readonly Finding[]): PreflightResult['summary'] {
  const summary = { error: 0, warning: 0, note: 0, suppressed: 0 };
  for (const f of findings) {
    if (f.suppressed) summary.suppressed += 1;
    else summary[f.severity] += 1;
  }
  return summary;
}

/** Findings that fail the run: not suppressed, at or above `failOn`. */
export function failing(findings: readonly Finding[], failOn: Severity | 'none'): Finding[] {
  if (failOn === 'none') return [];
  return findings.filter((f) => !f.suppressed && atLeast(f.severity, failOn));
}

/** Most severe first, then by template, rule and resource: a stable order for every report. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      Number(Boolean(a.suppressed)) - Number(Boolean(b.suppressed)) ||
      severityRank(b.severity) - severityRank(a.severity) ||
      a.template.localeCompare(b.template) ||
      a.ruleId.localeCompare(b.ruleId) ||
      a.resource.localeCompare(b.resource),
  );
}
