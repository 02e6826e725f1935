/**
 * `sundown sweep [--dry-run]`: runs the reconciliation sweep now, in the deployed Sweeper function
 * (Lambda Invoke: its permissions and configuration, exactly as the schedule runs it), and prints
 * its report. `--dry-run` reports what it would do and changes nothing.
 */
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import type { Command } from 'commander';
import type { SweepReport } from '../../lambdas/sweep/index.ts';
import { CliError } from '../errors.ts';
import { printJson, printTable } from '../output.ts';
import { type CommonOptions, requireOutput, resolveTarget, withTargetOptions } from '../target.ts';

export async function invokeSweeper(functionName: string, dryRun: boolean): Promise<SweepReport> {
  const lambda = new LambdaClient({});
  let res: InvokeCommandOutput;
  try {
    res = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        Payload: new TextEncoder().encode(JSON.stringify({ dryRun })),
      }),
    );
  } catch (err) {
    throw new CliError(`could not invoke the sweeper ${functionName}: ${(err as Error).message}`);
  }
  const text = new TextDecoder().decode(res.Payload ?? new Uint8Array());
  if (res.FunctionError) {
    const err = JSON.parse(text || '{}') as { errorMessage?: string };
    throw new CliError(`the sweep failed: ${err.errorMessage ?? res.FunctionError}`);
  }
  return JSON.parse(text) as SweepReport;
}

function printReport(report: SweepReport): void {
  if (report.skipped) {
    process.stdout.write(`Sweep skipped: ${report.skipped}.\n`);
    return;
  }
  const c = report.checked;
  process.stdout.write(
    `Sweep ${report.dryRun ? '(dry run: nothing changed) ' : ''}at ${report.startedAt}, ${report.durationMs} ms: ` +
      `${c.active} active credentials on ${c.workloads} workloads, ${c.expiring} past expiry, ${c.accessKeys} access keys, ` +
      `${c.principalsDue} principals due for pruning, ${c.revoked} revoked credentials and ${c.principals} principals (${c.denyEntries} deny entries) checked for drift.\n`,
  );
  const counts = Object.entries(report.counts).filter(([, n]) => n > 0);
  process.stdout.write(
    counts.length ? `Findings: ${counts.map(([k, n]) => `${k} ${n}`).join(', ')}.\n` : 'No findings.\n',
  );
  if (report.findings.length) {
    printTable(
      report.findings.map((f) => ({ ...f })),
      ['kind', 'subject', 'action', 'detail'],
    );
    if (report.findingsTruncated)
      process.stdout.write('(more findings: use --json or "sundown audit query")\n');
  }
  const partial = Object.entries(report.passes)
    .filter(([, v]) => v === 'partial')
    .map(([k]) => k);
  if (partial.length) process.stdout.write(`Continues next run: ${partial.join(', ')}.\n`);
  for (const e of report.errors) process.stdout.write(`error: ${e}\n`);
}

export function registerSweep(program: Command): void {
  withTargetOptions(
    program
      .command('sweep')
      .description(
        'run the reconciliation sweep now: revoke workloads that ended unseen, expire, prune, deactivate idle keys, repair drift',
      )
      .option('--dry-run', 'report what the sweep would do, change nothing'),
  ).action(async (opts: CommonOptions & { dryRun?: boolean }) => {
    const target = await resolveTarget(opts);
    const report = await invokeSweeper(requireOutput(target, 'SweeperFunctionName'), opts.dryRun === true);
    if (opts.json) printJson(report);
    else printReport(report);
    if (report.errors.length > 0)
      throw new CliError(`the sweep finished with ${report.errors.length} error(s)`);
  });
}
