/**
 * `--account`: which account's credentials and audit records to show (a hub serves several, issue 19).
 */
import { arnAccount } from '../lambdas/shared/adapters/accounts.ts';
import { workloadAccount } from '../lambdas/shared/domain/workload-id.ts';
import type { AuditRecord } from '../lambdas/shared/schemas/audit-record.ts';
import { CliError } from './errors.ts';

/** The 12-digit account of `--account`, or undefined when the flag is not given. */
export function parseAccount(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const account = raw.trim();
  if (!/^\d{12}$/.test(account))
    throw new CliError(`--account must be a 12-digit AWS account ID, got "${raw}"`);
  return account;
}

/**
 * The account an audit record is about: its workload's (ARN, or a spoke's `<account>/` custom ID),
 * else that of the principal its details name, else the deployment's own (`home`).
 */
export function recordAccount(record: Pick<AuditRecord, 'workloadId' | 'details'>, home: string): string {
  const fromWorkload = record.workloadId ? workloadAccount(record.workloadId) : undefined;
  if (fromWorkload) return fromWorkload;
  for (const key of ['roleArn', 'principalArn', 'userArn']) {
    const value = record.details?.[key];
    const owner = typeof value === 'string' ? arnAccount(value)?.account : undefined;
    if (owner) return owner;
  }
  return home;
}
