/**
 * `sundown end <workload>` and `sundown revoke --credential <id>`: put a
 * `Workload Ended` event on Sundown's bus. The revocation itself runs in the
 * deployed functions (with their IAM permissions and configuration), exactly
 * as for an automatic trigger; the operator needs only events:PutEvents.
 */
import { randomUUID } from 'node:crypto';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Command } from 'commander';
import { lazyClients } from '../../lambdas/shared/clients.ts';
import { CREDENTIAL_ID_PATTERN, normalizeWorkloadId } from '../../lambdas/shared/domain/workload-id.ts';
import { WorkloadEndedDetailSchema } from '../../lambdas/triggers/index.ts';
import { cliDeps } from '../deps.ts';
import { CliError } from '../errors.ts';
import { printJson } from '../output.ts';
import {
  type CommonOptions,
  type ResolvedTarget,
  requireOutput,
  resolveTarget,
  withTargetOptions,
} from '../target.ts';

interface EndOptions extends CommonOptions {
  reason?: string;
  compromised?: boolean;
  dryRun?: boolean;
}

export async function putWorkloadEnded(
  target: ResolvedTarget,
  detail: Record<string, unknown>,
): Promise<string> {
  const parsed = WorkloadEndedDetailSchema.safeParse(detail);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(
      `invalid request: ${issue?.path.join('.') || 'detail'} ${issue?.message ?? 'is invalid'}`,
    );
  }
  const res = await (await lazyClients.events()).send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: requireOutput(target, 'EventBusName'),
          Source: 'sundown',
          DetailType: 'Workload Ended',
          Detail: JSON.stringify(parsed.data),
          Resources: [],
        },
      ],
    }),
  );
  const entry = res.Entries?.[0];
  if ((res.FailedEntryCount ?? 0) > 0 || !entry?.EventId) {
    throw new CliError(
      `EventBridge refused the event: ${entry?.ErrorCode ?? ''} ${entry?.ErrorMessage ?? ''}`.trim(),
    );
  }
  return entry.EventId ?? randomUUID();
}

function report(opts: EndOptions, eventId: string, what: string): void {
  if (opts.json) printJson({ eventId, ...JSON.parse(what) });
  else
    process.stdout.write(
      `Sent Workload Ended (event ${eventId}) for ${JSON.parse(what).workloadId}${opts.dryRun ? ' as a dry run' : ''}.\n`,
    );
}

export function registerEnd(program: Command): void {
  withTargetOptions(
    program
      .command('end')
      .description('end a workload: revoke every credential recorded for it')
      .argument('<workloadId>', 'workload ID (ARN, i-..., or custom)')
      .option('--reason <text>', 'why it ended (recorded in the audit trail)')
      .option('--compromised', 'treat as a compromise (certificates revoked with KEY_COMPROMISE)')
      .option('--dry-run', 'compute and audit what would be revoked, change nothing'),
  ).action(async (workloadId: string, opts: EndOptions) => {
    const target = await resolveTarget(opts);
    const deps = await cliDeps(target);
    let id: string;
    try {
      id = normalizeWorkloadId(workloadId, { account: deps.account, region: deps.region }).id;
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const detail = {
      workloadId: id,
      ...(opts.reason ? { reason: opts.reason } : {}),
      ...(opts.compromised ? { compromised: true } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
    };
    report(opts, await putWorkloadEnded(target, detail), JSON.stringify(detail));
  });

  withTargetOptions(
    program
      .command('revoke')
      .description('revoke one recorded credential by hand (also retries a failed or skipped one)')
      .requiredOption('--credential <id>', 'credential ID (rs-..., ak-..., ct-...)')
      .option('--reason <text>', 'why (recorded in the audit trail)', 'manual revocation')
      .option('--compromised', 'treat as a compromise (certificates revoked with KEY_COMPROMISE)')
      .option('--dry-run', 'compute and audit what would be revoked, change nothing'),
  ).action(async (opts: EndOptions & { credential: string }) => {
    if (!CREDENTIAL_ID_PATTERN.test(opts.credential)) {
      throw new CliError(
        `--credential must be a Sundown credential ID like rs-0123456789abcdef01234567, got "${opts.credential.slice(0, 80)}"`,
      );
    }
    const target = await resolveTarget(opts);
    const deps = await cliDeps(target);
    const credential = await deps.registry.get(opts.credential);
    if (!credential) throw new CliError(`no credential ${opts.credential} is recorded`);
    const detail = {
      workloadId: credential.workloadId,
      credentialIds: [credential.credentialId],
      ...(opts.reason ? { reason: opts.reason } : {}),
      ...(opts.compromised ? { compromised: true } : {}),
      ...(opts.dryRun ? { dryRun: true } : {}),
    };
    report(opts, await putWorkloadEnded(target, detail), JSON.stringify(detail));
  });
}
