import { LIVENESS_LOOKUPS } from '../../constructs/reconciliation.ts';
import { only, type WildcardJustification } from '../statements.ts';

/** The reconciliation sweep's existence checks (lib/constructs/reconciliation.ts). */
const LIVENESS_CHECKS = new Set<string>([...LIVENESS_LOOKUPS]);

export const livenessChecks: WildcardJustification = {
  reason:
    'Read-only existence checks of the workloads that hold active credentials (EC2 DescribeInstances, ECS ' +
    'DescribeTasks, Batch DescribeJobs, CodeBuild BatchGetBuilds) by the reconciliation sweep: the workload can be ' +
    'any in the account, and DescribeInstances and DescribeJobs support no resource-level permissions.',
  applies: (s, f) => f === 'Resource::*' && only(s, LIVENESS_CHECKS),
};
