/**
 * The reconciliation sweep (lambdas/sweep/). Thin; two ways in:
 *
 * - SQS: the schedule rule's ticks, through the SweepTicks queue. The messages carry no input;
 *   one sweep runs per batch. A run whose phases raised errors fails the batch, so a sweep that
 *   keeps failing ends in the DLQ, which is alarmed.
 * - Lambda Invoke (`sundown sweep`): `{ "dryRun": true | false }`, answered with the report.
 */
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { IamDenyPolicyReader } from '../revocation/index.ts';
import { IamAccessKeyUsage } from '../shared/adapters/access-key-usage.ts';
import { bindInvocation, buildDeps, iamPerAccount } from '../shared/bootstrap.ts';
import { clients, once, RETRY } from '../shared/clients.ts';
import { partitionOf } from '../shared/domain/iam-arn.ts';
import { isSqsEvent } from '../shared/handlers/batch-response.ts';
import { flushMetrics, logger, recordMetric } from '../shared/powertools.ts';
import {
  AccountRoutedLiveness,
  AwsWorkloadLiveness,
  type SweepDeps,
  type SweepReport,
  SweepStateStore,
  sweep,
} from '../sweep/index.ts';

const base = buildDeps('sweeper');
const home = { account: base.account, partition: partitionOf(base.region) };
// Each workload is asked about in its own account: a hub's spokes through their reader role.
const livenessIn = base.accounts.perAccount(
  'liveness',
  'read',
  (c, account) =>
    new AwsWorkloadLiveness(
      // Each platform's SDK is loaded when a sweep first asks about one of its workloads.
      {
        ec2: once(async () => new (await import('@aws-sdk/client-ec2')).EC2Client({ ...RETRY, ...c })),
        ecs: once(async () => new (await import('@aws-sdk/client-ecs')).ECSClient({ ...RETRY, ...c })),
        lambda: once(
          async () => new (await import('@aws-sdk/client-lambda')).LambdaClient({ ...RETRY, ...c }),
        ),
        batch: once(async () => new (await import('@aws-sdk/client-batch')).BatchClient({ ...RETRY, ...c })),
        codebuild: once(
          async () => new (await import('@aws-sdk/client-codebuild')).CodeBuildClient({ ...RETRY, ...c }),
        ),
      },
      { account, region: base.region, stoppedEndsWorkload: base.config.SUNDOWN_STOPPED_ENDS_WORKLOAD },
    ),
);
const readIam = iamPerAccount(base.accounts, 'read');
const deps: SweepDeps = {
  ...base,
  liveness: new AccountRoutedLiveness(livenessIn, home),
  keyUsage: new IamAccessKeyUsage(readIam, home),
  denyPolicies: new IamDenyPolicyReader(readIam),
  sweepState: new SweepStateStore(clients.dynamo(), base.config.SUNDOWN_REVOCATIONS_TABLE),
  metricsSink: (name, value, unit, dimensions) => recordMetric(name, unit, value, dimensions),
};

/** `{}` or `{ "dryRun": boolean }`; anything else is refused (the sweep takes no other input). */
function parseRequest(event: unknown): { dryRun: boolean } {
  const value = event ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('invalid sweep request: expected a JSON object like {"dryRun": true}');
  }
  const keys = Object.keys(value);
  const dryRun = (value as { dryRun?: unknown }).dryRun;
  if (keys.some((k) => k !== 'dryRun') || (dryRun !== undefined && typeof dryRun !== 'boolean')) {
    throw new Error(
      `invalid sweep request: expected only "dryRun" (true or false), got keys ${keys.join(', ')}`,
    );
  }
  return { dryRun: dryRun === true };
}

function logReport(report: SweepReport): void {
  const { findings: _listed, ...summary } = report;
  if (report.errors.length > 0) logger.error('sweep finished with errors', { ...summary });
  else logger.info('sweep finished', { ...summary });
}

export const handler = async (event: unknown, context: Context): Promise<SQSBatchResponse | SweepReport> => {
  bindInvocation(deps, context);
  deps.remainingMs = () => context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
  try {
    if (isSqsEvent(event)) {
      const report = await sweep(deps);
      logReport(report);
      return {
        batchItemFailures:
          report.errors.length > 0 ? event.Records.map((r) => ({ itemIdentifier: r.messageId })) : [],
      };
    }
    const report = await sweep(deps, parseRequest(event));
    logReport(report);
    return report;
  } finally {
    flushMetrics();
  }
};
