/**
 * `sundown preflight <cdk.out | template.json...>`: checks synthesized templates for ephemeral
 * workloads whose credentials Sundown would not revoke (lib/preflight). Reads files only: no AWS
 * call. Exit code 0 clean, 1 findings at or above --fail-on, 2 an input could not be read.
 */
import * as fs from 'node:fs';
import { type Command, Option } from 'commander';
import { runPreflight } from '../../lib/preflight/engine.ts';
import { loadInputs } from '../../lib/preflight/input.ts';
import { buildReport, type FailOn, renderHuman, reportJson } from '../../lib/preflight/report.ts';
import { SUPPRESSIBLE_RULE_IDS } from '../../lib/preflight/rules/invalid-suppression.ts';
import { printable } from '../../lib/preflight/sanitize.ts';
import { toSarif } from '../../lib/preflight/sarif.ts';
import { type FileSuppression, parseSuppressionFile } from '../../lib/preflight/suppressions.ts';
import { CliError } from '../errors.ts';

interface PreflightCliOptions {
  json?: boolean;
  sarif?: string;
  failOn: FailOn;
  maxSessionDuration?: string;
  brokerRoleArn?: string;
  allowlist?: string[];
  suppress?: string;
}

export function registerPreflight(program: Command): void {
  program
    .command('preflight')
    .description(
      'check synthesized templates (a cdk.out folder or template files) for workloads whose credentials Sundown would not revoke',
    )
    .argument('<inputs...>', 'cdk.out folders (cloud assemblies) or CloudFormation template files (JSON)')
    .option('--json', 'machine-readable JSON report on stdout')
    .option('--sarif <file>', 'also write the findings as SARIF 2.1.0 to this file')
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when a finding at or above this severity is not suppressed')
        .choices(['error', 'warning', 'note', 'none'])
        .default('error'),
    )
    .option(
      '--max-session-duration <seconds>',
      "longest MaxSessionDuration of a workload's role (default 3600)",
    )
    .option(
      '--broker-role-arn <arn>',
      "Sundown's BrokerRoleArn output: only trust statements naming it count as the broker's",
    )
    .option(
      '--allowlist <entry>',
      "an IAM path prefix or role ARN in Sundown's allowlist setting (repeatable)",
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option(
      '--suppress <file>',
      'suppressions: { "suppressions": [{ "id", "resource", "stack"?, "reason" }] }',
    )
    .action((inputs: string[], opts: PreflightCliOptions) => {
      const suppressions = opts.suppress ? readSuppressions(opts.suppress) : [];
      const maxSessionDurationSeconds =
        opts.maxSessionDuration === undefined ? undefined : Number(opts.maxSessionDuration);
      const { templates, errors } = loadInputs(inputs);
      let result: ReturnType<typeof runPreflight>;
      try {
        result = runPreflight(
          templates,
          {
            ...(maxSessionDurationSeconds !== undefined ? { maxSessionDurationSeconds } : {}),
            ...(opts.brokerRoleArn ? { brokerRoleArn: opts.brokerRoleArn } : {}),
            allowlist: opts.allowlist ?? [],
          },
          suppressions,
        );
      } catch (err) {
        throw new CliError((err as Error).message, 2);
      }
      const report = buildReport(templates, result.findings, errors, opts.failOn);
      if (opts.sarif) {
        try {
          fs.writeFileSync(opts.sarif, reportJson(toSarif(result.findings)));
        } catch (err) {
          throw new CliError(`could not write ${printable(opts.sarif)}: ${(err as Error).message}`, 2);
        }
      }
      process.stdout.write(opts.json ? reportJson(report) : renderHuman(report));
      for (const e of errors)
        process.stderr.write(`sundown: ${printable(e.path)}: ${printable(e.message, 400)}\n`);
      process.exitCode = report.exitCode;
    });
}

function readSuppressions(file: string): FileSuppression[] {
  try {
    return parseSuppressionFile(JSON.parse(fs.readFileSync(file, 'utf8')), SUPPRESSIBLE_RULE_IDS);
  } catch (err) {
    throw new CliError(`suppression file ${printable(file)}: ${printable((err as Error).message, 300)}`, 2);
  }
}
