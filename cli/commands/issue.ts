/**
 * `sundown issue session|certificate`: calls the broker's function URL with a SigV4-signed request
 * (the same AWS_IAM-authenticated call a workload makes), with the required `--reason`.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BrokerReasonSchema } from '../../lambdas/shared/schemas/broker.ts';
import { callBroker as invokeBroker } from '../broker-client.ts';

/** The signed broker call, for other commands (`sundown drill`). */
export { invokeBroker };

import { CliError } from '../errors.ts';
import { printJson } from '../output.ts';
import { type CommonOptions, resolveTarget, withTargetOptions } from '../target.ts';

const REASON_HELP =
  'why the credential is needed (required; 1-256 characters, one line, recorded and audited)';

/** Checked before any AWS call, with the broker's own schema. */
function reasonOf(raw: string | undefined): string {
  const parsed = BrokerReasonSchema.safeParse(raw ?? '');
  if (!parsed.success) throw new CliError(`--reason ${parsed.error.issues[0]?.message ?? 'is invalid'}`);
  return parsed.data;
}

function positiveInt(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(`${flag} must be a positive whole number, got "${raw}"`);
  return n;
}

export function registerIssue(program: Command): void {
  const issue = program.command('issue').description('issue credentials to a workload through the broker');
  withTargetOptions(
    issue
      .command('session')
      .description('assume a role for a workload; the session is recorded before it is returned')
      .requiredOption('--role <name|arn>', 'role to assume (must be opted in)')
      .requiredOption('--workload <id>', 'workload ID (ARN, i-..., or custom)')
      .option('--duration <seconds>', 'session duration (clamped to the configured maximum)')
      .option('--purpose <text>', 'free text recorded with the credential')
      .option('--reason <text>', REASON_HELP),
  ).action(
    async (
      opts: CommonOptions & {
        role: string;
        workload: string;
        duration?: string;
        purpose?: string;
        reason?: string;
      },
    ) => {
      const reason = reasonOf(opts.reason);
      const durationSeconds = positiveInt(opts.duration, '--duration');
      const target = await resolveTarget(opts);
      const response = await invokeBroker(target, {
        action: 'issue-session',
        role: opts.role,
        workloadId: opts.workload,
        ...(durationSeconds ? { durationSeconds } : {}),
        ...(opts.purpose ? { purpose: opts.purpose } : {}),
        reason,
      });
      if (!('session' in response)) throw new CliError('the broker returned no session');
      const s = response.session;
      if (opts.json) {
        printJson(s);
        return;
      }
      process.stdout.write(
        `Issued session ${s.assumedRoleId} (credential ${s.credentialId}), expires ${s.expiration}.\n` +
          `export AWS_ACCESS_KEY_ID=${s.accessKeyId}\nexport AWS_SECRET_ACCESS_KEY=${s.secretAccessKey}\nexport AWS_SESSION_TOKEN=${s.sessionToken}\n`,
      );
    },
  );
  withTargetOptions(
    issue
      .command('certificate')
      .description('issue an ACM Private CA certificate for a workload from a CSR')
      .requiredOption('--ca <arn>', 'certificate authority ARN')
      .requiredOption('--workload <id>', 'workload ID (ARN, i-..., or custom)')
      .requiredOption('--csr <file>', 'PEM certificate signing request')
      .option('--days <n>', 'validity in days', '1')
      .option('--purpose <text>', 'free text recorded with the credential')
      .option('--reason <text>', REASON_HELP),
  ).action(
    async (
      opts: CommonOptions & {
        ca: string;
        workload: string;
        csr: string;
        days: string;
        purpose?: string;
        reason?: string;
      },
    ) => {
      const reason = reasonOf(opts.reason);
      const days = positiveInt(opts.days, '--days') ?? 1;
      let csr: string;
      try {
        csr = readFileSync(opts.csr, 'utf8');
      } catch {
        throw new CliError(`cannot read the CSR file "${opts.csr}"`);
      }
      if (!csr.includes('-----BEGIN CERTIFICATE REQUEST-----')) {
        throw new CliError(`"${opts.csr}" is not a PEM certificate signing request`);
      }
      const target = await resolveTarget(opts);
      const response = await invokeBroker(target, {
        action: 'issue-certificate',
        caArn: opts.ca,
        workloadId: opts.workload,
        csr,
        days,
        ...(opts.purpose ? { purpose: opts.purpose } : {}),
        reason,
      });
      if (!('certificate' in response)) throw new CliError('the broker returned no certificate');
      const c = response.certificate;
      if (opts.json) printJson(c);
      else
        process.stdout.write(
          `Issued certificate ${c.serial} (credential ${c.credentialId})\n${c.certificate ?? ''}\n`,
        );
    },
  );
}
