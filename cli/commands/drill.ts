/**
 * `sundown drill`: a revocation drill against a deployed or local stack (see lambdas/canary/drill.ts).
 * Creates a throwaway opted-in role (or uses `--role`), issues two sessions of it through the
 * broker, ends one workload and measures the time until its session is denied, checks the other
 * session still works and the audit chain is complete. Exit 1 when any check fails. Secret parts of
 * the sessions are only ever handed to the probe, never printed.
 */
import { randomBytes } from 'node:crypto';
import { IAMClient } from '@aws-sdk/client-iam';
import type { Command } from 'commander';
import { AuditLog } from '../../lambdas/audit/index.ts';
import { type DrillReport, type DrillSession, drillSessionOf, runDrill } from '../../lambdas/canary/index.ts';
import { clients } from '../../lambdas/shared/clients.ts';
import { cliDeps } from '../deps.ts';
import {
  awsProbe,
  createDrillRole,
  deleteDrillRole,
  SIMULATOR_NOTE,
  simulatorProbe,
} from '../drill/probes.ts';
import { CliError } from '../errors.ts';
import { printJson } from '../output.ts';
import { type CommonOptions, requireOutput, resolveTarget, withTargetOptions } from '../target.ts';
import { putWorkloadEnded } from './end.ts';
import { invokeBroker } from './issue.ts';

interface DrillCliOptions extends CommonOptions {
  role?: string;
  timeout: string;
  interval: string;
}

function seconds(raw: string, flag: string, max: number): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max)
    throw new CliError(`${flag} must be a number of seconds in (0, ${max}], got "${raw}"`);
  return n;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function printReport(r: DrillReport & { roleArn: string; roleCreated: boolean; note?: string }): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`Drill on role ${r.roleArn}${r.roleCreated ? ' (created for the drill, deleted after it)' : ''}`);
  out(
    `  Issued sessions ${r.endedWorkload.sessionName} and ${r.liveWorkload.sessionName} through the broker.`,
  );
  if (r.endedAt) out(`  Ended workload ${r.endedWorkload.workloadId} at ${r.endedAt}.`);
  if (r.timeToDenyMs !== undefined)
    out(
      `  Its session was denied after ${(r.timeToDenyMs / 1000).toFixed(3)} s (time-to-deny; ${r.probes} probes).`,
    );
  if (r.liveSessionAllowed !== undefined)
    out(
      `  Session ${r.liveWorkload.sessionName} on the same role ${r.liveSessionAllowed ? 'still works' : 'is DENIED'}.`,
    );
  if (r.audit.types.length > 0)
    out(`  Audit of ${r.endedWorkload.workloadId}: ${r.audit.types.join(' -> ')}.`);
  if (r.note) out(`  (${r.note})`);
  out(r.ok ? 'Drill succeeded.' : `Drill FAILED: ${r.failure}`);
}

export function registerDrill(program: Command): void {
  withTargetOptions(
    program
      .command('drill')
      .description('revocation drill: end a canary workload and measure the time until its session is denied')
      .option(
        '--role <name|arn>',
        'opted-in canary role to use (trusts the broker, allows iam:GetRole on itself); default: a throwaway role',
      )
      .option('--timeout <seconds>', 'fail when the deny has not arrived this long after the end', '120')
      .option('--interval <seconds>', 'time between probes', '1'),
  ).action(async (opts: DrillCliOptions) => {
    const timeoutMs = seconds(opts.timeout, '--timeout', 3600) * 1000;
    const intervalMs = seconds(opts.interval, '--interval', 60) * 1000;
    const target = await resolveTarget(opts);
    const deps = await cliDeps(target);
    const iam = new IAMClient({});
    const audit = new AuditLog(clients.dynamo(), requireOutput(target, 'AuditTableName'), 'main');
    // moto (and any emulator) does not enforce IAM: there the deny is evaluated, not observed.
    const simulated = Boolean(target.endpoint);
    const id = `drill-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    const roleCreated = !opts.role;
    const roleName = opts.role ? (opts.role.split('/').pop() as string) : id;
    let roleArn = opts.role ?? '';
    if (roleCreated) {
      roleArn = await createDrillRole(iam, {
        roleName,
        brokerRoleArn: requireOutput(target, 'BrokerRoleArn'),
      });
    }
    let report: DrillReport | undefined;
    let cleanupError: string | undefined;
    try {
      const issue = async (workloadId: string): Promise<DrillSession> => {
        // A new role's trust policy takes a few seconds to reach STS: retry the broker meanwhile.
        for (let attempt = 1; ; attempt++) {
          try {
            const res = await invokeBroker(target, {
              action: 'issue-session',
              role: roleArn,
              workloadId,
              durationSeconds: 900,
              reason: 'sundown drill: a revocation drill session, revoked when the drill ends its workload',
            });
            if (!('session' in res)) throw new CliError('the broker returned no session');
            const record = await deps.registry.get(res.session.credentialId);
            if (!record?.sessionName)
              throw new CliError(`the broker did not record ${res.session.credentialId}`);
            return drillSessionOf({ ...record, sessionName: record.sessionName }, res.session);
          } catch (err) {
            if (!roleCreated || attempt >= 12 || !/not authorized|AccessDenied/i.test(String(err))) throw err;
            await sleep(5_000);
          }
        }
      };
      report = await runDrill(
        {
          issue,
          end: async (workloadId) => {
            await putWorkloadEnded(target, { workloadId, reason: 'sundown drill' });
          },
          probe: simulated ? simulatorProbe(iam, roleName) : awsProbe(roleName, target.region),
          auditTypes: async (workloadId) =>
            (await audit.query({ workloadId, limit: Number.POSITIVE_INFINITY })).map((r) => r.type),
          now: () => Date.now(),
          sleep,
        },
        { workloadPrefix: id, timeoutMs, intervalMs },
      );
    } finally {
      if (roleCreated) {
        try {
          await deleteDrillRole(iam, roleName);
        } catch (err) {
          cleanupError = `could not delete the drill role ${roleName}: ${(err as Error).message}`;
        }
      }
    }
    const result = {
      ...report,
      roleArn,
      roleCreated,
      roleDeleted: roleCreated && !cleanupError,
      evaluation: simulated ? 'simulator' : 'aws-call',
      ...(simulated ? { note: SIMULATOR_NOTE } : {}),
      ...(cleanupError ? { cleanupError } : {}),
    };
    if (opts.json) printJson(result);
    else printReport(result as typeof result & DrillReport);
    if (cleanupError) process.stderr.write(`sundown: ${cleanupError}\n`);
    if (!report?.ok || cleanupError) process.exitCode = 1;
  });
}
