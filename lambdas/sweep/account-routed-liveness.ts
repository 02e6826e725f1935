/**
 * The sweep's liveness checks in a hub (issue 19): each workload asked in its own account, like
 * lambdas/workload-roles/account-routed.ts does for role lookups.
 */
import {
  AccountNotServed,
  arnAccount,
  type PerAccount,
  SpokeAccessError,
} from '../shared/adapters/accounts.ts';
import type { Workload } from '../shared/domain/workload-id.ts';
import type { Liveness, WorkloadLiveness } from './workload-liveness.ts';

/**
 * Asks each workload's own account: at home with the function's role, in a hub's spoke through the
 * spoke's reader role. An account Sundown does not serve, or a spoke it cannot enter, answers
 * `unknown` for its workloads: the sweep never revokes on an answer it could not get.
 */
export class AccountRoutedLiveness implements WorkloadLiveness {
  constructor(
    private readonly livenessIn: PerAccount<WorkloadLiveness>,
    private readonly home: { account: string; partition: string },
  ) {}

  async check(workloads: readonly Workload[]): Promise<Map<string, Liveness>> {
    const groups = new Map<
      string,
      { where: { account: string; partition: string }; workloads: Workload[] }
    >();
    for (const w of workloads) {
      const where = arnAccount(w.id) ?? this.home;
      const key = `${where.partition}|${where.account}`;
      const group = groups.get(key) ?? { where, workloads: [] };
      group.workloads.push(w);
      groups.set(key, group);
    }
    const answers = new Map<string, Liveness>();
    for (const { where, workloads: group } of groups.values()) {
      try {
        for (const [id, answer] of await this.livenessIn(where.account, where.partition).check(group)) {
          answers.set(id, answer);
        }
      } catch (err) {
        if (!(err instanceof AccountNotServed || err instanceof SpokeAccessError)) throw err;
        for (const w of group) answers.set(w.id, { state: 'unknown', detail: err.message.slice(0, 300) });
      }
    }
    return answers;
  }
}
