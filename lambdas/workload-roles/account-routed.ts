/**
 * Lookups a hub makes in the workload's own account (issue 19): each wraps the single-account adapter,
 * one per account, made by {@link Accounts.perAccount}: at home with the function's own role, in a
 * spoke through the spoke's reader role. (The sweep's liveness checks do the same in
 * lambdas/sweep/account-routed-liveness.ts.)
 */

import { arnAccount, type PerAccount } from '../shared/adapters/accounts.ts';
import type { Workload } from '../shared/domain/workload-id.ts';
import type { RoleHint } from '../triggers/index.ts';
import type { WorkloadRoleResolver } from './workload-roles.ts';

/**
 * Resolves each workload in its own account: at home with the function's role, in a hub's spoke
 * through the spoke's reader role. A workload ID that is not an ARN (custom) belongs to `home`.
 */
export class AccountRoutedRoleResolver implements WorkloadRoleResolver {
  constructor(
    private readonly resolverIn: PerAccount<WorkloadRoleResolver>,
    private readonly home: { account: string; partition: string },
  ) {}

  resolveRole(workload: Workload, hint?: RoleHint): Promise<string | undefined> {
    const where = arnAccount(workload.id) ?? this.home;
    return this.resolverIn(where.account, where.partition).resolveRole(workload, hint);
  }
}
