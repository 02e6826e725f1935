/**
 * The account an audit record is about (issue 19): a hub's trail holds records about its spokes'
 * workloads and principals, and operators filter it by account.
 */
import { arnAccount } from '../shared/adapters/accounts.ts';
import { workloadAccount } from '../shared/domain/workload-id.ts';
import type { AuditRecordInput } from '../shared/schemas/audit-record.ts';

/**
 * The record's stored `account`; for a record without one (written before the field existed, or
 * not yet stamped), its workload's (ARN, or a spoke's `<account>/` custom ID), else that of the
 * principal its details name, else the deployment's own (`home`).
 */
export function recordAccount(
  record: Pick<AuditRecordInput, 'account' | 'workloadId' | 'details'>,
  home: string,
): string {
  if (record.account) return record.account;
  const fromWorkload = record.workloadId ? workloadAccount(record.workloadId) : undefined;
  if (fromWorkload) return fromWorkload;
  for (const key of ['roleArn', 'principalArn', 'userArn']) {
    const value = record.details?.[key];
    const owner = typeof value === 'string' ? arnAccount(value)?.account : undefined;
    if (owner) return owner;
  }
  return home;
}
