/**
 * Every IAM wildcard Sundown accepts, one justification per file (cdk-nag's one-rule-per-file
 * layout). The first that applies to a statement explains it; the order is the order of the reasons
 * in the acknowledgement.
 */
import type { WildcardJustification } from '../statements.ts';
import { allowlistedPaths } from './allowlisted-paths.ts';
import { functionExists } from './function-exists.ts';
import { iamReads } from './iam-reads.ts';
import { keyUse } from './key-use.ts';
import { livenessChecks } from './liveness-checks.ts';
import { optInBrokerAssume } from './opt-in-broker-assume.ts';
import { optInRevocationWrites } from './opt-in-revocation-writes.ts';
import { sealArchiveObjects } from './seal-archive-objects.ts';
import { spokeRoleAssume } from './spoke-role-assume.ts';
import { sundownPolicies } from './sundown-policies.ts';
import { tableIndexes } from './table-indexes.ts';
import { workloadLookups } from './workload-lookups.ts';
import { xrayWrites } from './xray-writes.ts';

export const WILDCARD_JUSTIFICATIONS: readonly WildcardJustification[] = [
  sealArchiveObjects,
  xrayWrites,
  workloadLookups,
  livenessChecks,
  functionExists,
  keyUse,
  tableIndexes,
  iamReads,
  optInRevocationWrites,
  optInBrokerAssume,
  sundownPolicies,
  allowlistedPaths,
  spokeRoleAssume,
];
