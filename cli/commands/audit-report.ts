/**
 * `sundown audit report --out report.html`: the audit trail as one self-contained HTML page a person
 * reads offline: per workload, each credential from issue through end to revocation with its
 * time-to-revoke, the time-to-revoke distribution, skipped and failed revocations highlighted,
 * refused broker requests, and the chain's verification result.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  AuditLog,
  buildAuditReport,
  fromChainVerification,
  verifyAuditChain,
} from '../../lambdas/audit/index.ts';
import { clients } from '../../lambdas/shared/clients.ts';
import { CliError } from '../errors.ts';
import { printJson } from '../output.ts';
import { renderAuditReportHtml } from '../report-html.ts';
import { type CommonOptions, requireOutput, resolveTarget, withTargetOptions } from '../target.ts';
import { parseTimeRange } from '../time-range.ts';

/** The chain every Sundown function appends to (`SUNDOWN_AUDIT_CHAIN` in the stack). */
const AUDIT_CHAIN = 'main';
const DEFAULT_MAX_RECORDS = 50_000;
const TIME_HELP = 'ISO time (2024-05-01T12:00:00Z) or duration back from now (30m, 2h, 7d)';

interface ReportOptions extends CommonOptions {
  out: string;
  since?: string;
  until?: string;
  maxRecords?: string;
}

function parseMax(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_MAX_RECORDS;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) {
    throw new CliError(`--max-records must be a positive integer, got "${raw}"`);
  }
  return Number(raw);
}

async function report(opts: ReportOptions): Promise<void> {
  // Every flag is checked before any AWS call.
  const range = parseTimeRange(opts);
  const max = parseMax(opts.maxRecords);
  if (!opts.out.trim()) throw new CliError('--out must name the HTML file to write');
  const target = await resolveTarget(opts);
  const log = new AuditLog(clients.dynamo(), requireOutput(target, 'AuditTableName'), AUDIT_CHAIN);
  // As stored (unvalidated): a tampered record is shown, and the verification below says so.
  const records = await log.query({ ...range, limit: max }, { validate: false });
  const checkedAt = new Date().toISOString();
  const verification = fromChainVerification(
    await verifyAuditChain(log, range.since ? { since: range.since } : {}),
    checkedAt,
  );
  const model = buildAuditReport(records, verification, { generatedAt: checkedAt, ...range });
  try {
    writeFileSync(opts.out, renderAuditReportHtml(model));
  } catch (err) {
    throw new CliError(`cannot write the report to "${opts.out}": ${(err as Error).message}`);
  }
  if (records.length === max) {
    process.stderr.write(
      `(the report holds the first ${max} records of the window: narrow it or raise --max-records)\n`,
    );
  }
  const summary = {
    out: opts.out,
    records: records.length,
    workloads: model.workloads.length,
    revoked: model.totals.revoked,
    failed: model.totals.failed,
    skipped: model.totals.skipped,
    refused: model.totals.refused,
    verified: verification.ok,
    verification: verification.status,
  };
  if (opts.json) printJson(summary);
  else
    process.stdout.write(
      `wrote ${opts.out}: ${summary.workloads} workloads, ${summary.records} records; audit chain ${verification.status}\n`,
    );
  if (!verification.ok) throw new CliError(`audit chain ${verification.status} (the report shows it)`);
}

/** Adds `report` to the `audit` command group. */
export function registerAuditReport(audit: Command): void {
  withTargetOptions(
    audit
      .command('report')
      .description(
        'write a self-contained HTML report: per-workload timelines, time-to-revoke chart, failures, verification',
      )
      .requiredOption('--out <file>', 'HTML file to write')
      .option('--since <time>', `records at or after (${TIME_HELP})`)
      .option('--until <time>', `records at or before (${TIME_HELP})`)
      .option('--max-records <n>', `at most n records, oldest first (default ${DEFAULT_MAX_RECORDS})`),
  ).action((opts: ReportOptions) => report(opts));
}
