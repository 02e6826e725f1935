/**
 * Service dependencies for CLI commands that act directly (register, list),
 * built on the same adapters the functions use. The operator's identity is
 * the audit actor.
 */
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { AuditLog } from '../lambdas/shared/adapters/audit-log.ts';
import { CredentialRegistry } from '../lambdas/shared/adapters/credential-registry.ts';
import { OptInChecker } from '../lambdas/shared/adapters/opt-in.ts';
import { RevocationStore } from '../lambdas/shared/adapters/revocation-store.ts';
import { AwsWorkloadRoleResolver } from '../lambdas/shared/adapters/workload-roles.ts';
import { clients } from '../lambdas/shared/clients.ts';
import { readRuntimeConfig } from '../lambdas/shared/runtime-config.ts';
import type { ServiceDeps } from '../lambdas/shared/services/deps.ts';
import { CliError } from './errors.ts';
import { type ResolvedTarget, requireOutput } from './target.ts';

export async function callerIdentity(target: ResolvedTarget): Promise<{ account: string; arn: string }> {
  try {
    const me = await clients.sts().send(new GetCallerIdentityCommand({}));
    return { account: target.accountId ?? (me.Account as string), arn: me.Arn ?? 'unknown' };
  } catch (err) {
    if (target.accountId)
      return { account: target.accountId, arn: `local:${process.env.USER ?? 'operator'}` };
    throw new CliError(
      `could not determine the AWS account (sts:GetCallerIdentity failed: ${(err as Error).message})`,
    );
  }
}

export async function cliDeps(target: ResolvedTarget): Promise<ServiceDeps> {
  const me = await callerIdentity(target);
  const doc = clients.dynamo();
  const config = readRuntimeConfig({
    SUNDOWN_CREDENTIALS_TABLE: requireOutput(target, 'CredentialsTableName'),
    SUNDOWN_REVOCATIONS_TABLE: requireOutput(target, 'RevocationsTableName'),
    SUNDOWN_AUDIT_TABLE: requireOutput(target, 'AuditTableName'),
    SUNDOWN_EVENT_BUS: requireOutput(target, 'EventBusName'),
    SUNDOWN_ACCOUNT: me.account,
  });
  return {
    config,
    registry: new CredentialRegistry(doc, config.SUNDOWN_CREDENTIALS_TABLE),
    store: new RevocationStore(doc, config.SUNDOWN_REVOCATIONS_TABLE),
    audit: new AuditLog(doc, config.SUNDOWN_AUDIT_TABLE, config.SUNDOWN_AUDIT_CHAIN, {
      events: clients.events(),
      busName: config.SUNDOWN_EVENT_BUS,
    }),
    optIn: new OptInChecker(clients.iam(), []),
    resolver: new AwsWorkloadRoleResolver({
      ec2: clients.ec2(),
      ecs: clients.ecs(),
      iam: clients.iam(),
      codebuild: clients.codebuild(),
    }),
    sqs: clients.sqs(),
    account: me.account,
    region: target.region,
    actor: { type: 'cli', name: me.arn.slice(0, 256) },
    now: () => new Date(),
  };
}
