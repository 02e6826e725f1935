/**
 * `sundown status`: queue and DLQ depths with the oldest message's age, active credentials per
 * kind, revocations and failures in the last 24 hours with p50/p99 time-to-revoke, the principals
 * nearest their policy capacity, and the last sweep.
 */

import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { Command } from 'commander';
import { AuditLog } from '../../lambdas/audit/index.ts';
import { CredentialRegistry } from '../../lambdas/registry/index.ts';
import { RevocationStore } from '../../lambdas/revocation/index.ts';
import { clients } from '../../lambdas/shared/clients.ts';
import { SweepStateStore } from '../../lambdas/sweep/index.ts';
import { printJson, printTable } from '../output.ts';
import { cloudWatch, type QueueFigures, queueFigures, sundownDlqs } from '../queues.ts';
import {
  type CloudTrailCheck,
  cloudTrailCheck,
  type RegistryStatus,
  registryStatus,
} from '../status-report.ts';
import { type CommonOptions, requireOutput, resolveTarget, withTargetOptions } from '../target.ts';
import { readTrails } from '../trail-status.ts';

export interface QueueStatus {
  name: string;
  queue: QueueFigures | null;
  dlq: QueueFigures;
}

export interface Status extends RegistryStatus {
  generatedAt: string;
  queues: QueueStatus[];
  /** Whether a trail delivers the management events the Lambda triggers match. */
  cloudTrail: CloudTrailCheck;
  /** The use-after-revoke alarm works only on CloudTrail events (and in stacks that have it). */
  useAfterRevoke: { active: boolean; detail: string };
}

export function useAfterRevokeStatus(c: CloudTrailCheck, deployed: boolean): Status['useAfterRevoke'] {
  if (!deployed) return { active: false, detail: 'the stack has no use-after-revoke detection (redeploy)' };
  if (c.state === 'logging')
    return { active: true, detail: `CloudTrail access-denied events of ${c.region}` };
  return {
    active: false,
    detail: `inactive: no trail is confirmed to log management events in ${c.region}, so no access-denied event arrives`,
  };
}

/** One line on the CloudTrail trail the Lambda triggers need; a warning unless one is logging. */
export function cloudTrailLine(c: CloudTrailCheck): string {
  const consequence =
    'Lambda function deletions (CloudTrail events) never reach Sundown: deploy with cloudTrail "create" or start a trail';
  if (c.state === 'logging')
    return `CloudTrail: management events of ${c.region} are logged (${c.trails.join(', ')})`;
  if (c.state === 'missing')
    return `WARNING: no CloudTrail trail logs write management events in ${c.region} (${c.detail}). ${consequence}.`;
  return `CloudTrail: unknown (${c.detail}). Without a trail logging management events in ${c.region}, ${consequence}.`;
}

function age(f: QueueFigures | null): string {
  if (!f || f.oldestMessageAgeSeconds === null) return '';
  return `${f.oldestMessageAgeSeconds} (${f.ageSource})`;
}

function printStatus(s: Status): void {
  process.stdout.write(`Sundown status at ${s.generatedAt}\n\n${cloudTrailLine(s.cloudTrail)}\n`);
  const uar = s.useAfterRevoke;
  process.stdout.write(
    `${uar.active ? 'Use-after-revoke alarm: active' : 'WARNING: use-after-revoke alarm'} (${uar.detail})\n`,
  );
  process.stdout.write('\nQueues (oldest message age in seconds)\n');
  printTable(
    s.queues.map((q) => ({
      queue: q.name,
      messages: q.queue?.messages ?? '',
      inFlight: q.queue?.inFlight ?? '',
      oldest: age(q.queue),
      dlq: q.dlq.messages,
      dlqOldest: age(q.dlq),
    })),
    ['queue', 'messages', 'inFlight', 'oldest', 'dlq', 'dlqOldest'],
  );
  const a = s.activeCredentials;
  process.stdout.write(
    `\nActive credentials: ${a.total}${a.truncated ? '+' : ''} (role sessions ${a['role-session']}, access keys ${a['access-key']}, certificates ${a.certificate})\n`,
  );
  const d = s.last24h;
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
  process.stdout.write(
    `Last 24 h: ${d.revoked} revoked, ${d.failed} failed${d.truncated ? ' (at least)' : ''}; time to revoke p50 ${ms(d.timeToRevokeMs.p50)}, p99 ${ms(d.timeToRevokeMs.p99)} (${d.timeToRevokeMs.samples} samples)\n`,
  );
  process.stdout.write(
    `\nPolicy capacity (fullest of ${s.policyCapacity.principals} principals with deny entries)\n`,
  );
  printTable(
    s.policyCapacity.nearest.map((r) => ({ ...r, usedPercent: `${r.usedPercent}%` })),
    ['principalArn', 'usedPercent', 'charsUsed', 'charsCapacity', 'unplaced', 'nextExpiry'],
  );
  const sweep = s.lastSweep;
  if (!sweep) {
    process.stdout.write('\nLast sweep: none recorded\n');
    return;
  }
  const found = Object.entries(sweep.counts).filter(([, n]) => n > 0);
  process.stdout.write(
    `\nLast sweep: ${sweep.finishedAt}${sweep.dryRun ? ' (dry run)' : ''}, ${sweep.durationMs} ms; findings: ${
      found.length ? found.map(([k, n]) => `${k} ${n}`).join(', ') : 'none'
    }${sweep.errors.length ? `; ${sweep.errors.length} error(s)` : ''}\n`,
  );
}

export function registerStatus(program: Command): void {
  withTargetOptions(
    program
      .command('status')
      .description(
        'queues and DLQs, active credentials, the last 24 h of revocations, policy capacity, last sweep',
      ),
  ).action(async (opts: CommonOptions) => {
    const target = await resolveTarget(opts);
    const doc = clients.dynamo();
    const sqs = clients.sqs();
    const cw = cloudWatch();
    const now = new Date();
    const revocationsTable = requireOutput(target, 'RevocationsTableName');
    const readQueues = async (): Promise<QueueStatus[]> => {
      const queues: QueueStatus[] = [];
      for (const dlq of await sundownDlqs(sqs, target)) {
        queues.push({
          name: dlq.name,
          queue: dlq.sourceUrl ? await queueFigures(sqs, cw, dlq.sourceUrl, { peek: false, now }) : null,
          // A DLQ has no redrive policy: peeking (receive with visibility 0) cannot move its messages.
          dlq: await queueFigures(sqs, cw, dlq.url, { peek: true, now }),
        });
      }
      return queues;
    };
    // The Lambda triggers are part of every deployment, so the trail is always checked.
    const trails = readTrails(new CloudTrailClient({ maxAttempts: 3 }), target.region);
    const [registry, queues, trailsRead] = await Promise.all([
      registryStatus({
        registry: new CredentialRegistry(doc, requireOutput(target, 'CredentialsTableName')),
        audit: new AuditLog(doc, requireOutput(target, 'AuditTableName'), 'main'),
        store: new RevocationStore(doc, revocationsTable),
        sweepState: new SweepStateStore(doc, revocationsTable),
        now: () => now,
      }),
      readQueues(),
      trails,
    ]);
    const status: Status = {
      generatedAt: now.toISOString(),
      queues,
      ...registry,
      cloudTrail: cloudTrailCheck(trailsRead, target.region),
      useAfterRevoke: useAfterRevokeStatus(
        cloudTrailCheck(trailsRead, target.region),
        Boolean(target.outputs.UseAfterRevokeTopicArn),
      ),
    };
    if (opts.json) printJson(status);
    else printStatus(status);
  });
}
