/**
 * Service dependencies for CLI commands that act directly (register, list),
 * built on the same adapters the functions use. The operator's identity is
 * the audit actor.
 */
import { depsFromConfig } from '../lambdas/shared/bootstrap.ts';
import { lazyClients } from '../lambdas/shared/clients.ts';
import { readRuntimeConfig } from '../lambdas/shared/runtime-config.ts';
import type { ServiceDeps } from '../lambdas/shared/services/deps.ts';
import { CliError } from './errors.ts';
import { type ResolvedTarget, requireOutput } from './target.ts';

export async function callerIdentity(target: ResolvedTarget): Promise<{ account: string; arn: string }> {
  try {
    const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
    const me = await (await lazyClients.sts()).send(new GetCallerIdentityCommand({}));
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
  const config = readRuntimeConfig({
    SUNDOWN_CREDENTIALS_TABLE: requireOutput(target, 'CredentialsTableName'),
    SUNDOWN_REVOCATIONS_TABLE: requireOutput(target, 'RevocationsTableName'),
    SUNDOWN_AUDIT_TABLE: requireOutput(target, 'AuditTableName'),
    SUNDOWN_EVENT_BUS: requireOutput(target, 'EventBusName'),
    SUNDOWN_ACCOUNT: me.account,
  });
  return depsFromConfig(config, {
    account: me.account,
    region: target.region,
    actor: { type: 'cli', name: me.arn.slice(0, 256) },
  });
}
