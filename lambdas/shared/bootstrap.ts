/**
 * Builds a function's dependencies once per cold start from the standard SDK
 * configuration and the environment the stack sets.
 */

import type { IAMClient } from '@aws-sdk/client-iam';
import type { Context } from 'aws-lambda';
import { AuditLog } from '../audit/index.ts';
import { OptInChecker } from '../opt-in/index.ts';
import { CredentialRegistry } from '../registry/index.ts';
import { RevocationStore } from '../revocation/index.ts';
import { AccountRoutedRoleResolver, AwsWorkloadRoleResolver } from '../workload-roles/index.ts';
import { Accounts, type PerAccount, type SpokePurpose } from './adapters/accounts.ts';
import { clients, iamClient, lazyClients, makeLazyClients } from './clients.ts';
import { partitionOf } from './domain/iam-arn.ts';
import { logger, metrics } from './powertools.ts';
import { type RuntimeConfig, readRuntimeConfig } from './runtime-config.ts';
import type { AuditActor } from './schemas/audit-record.ts';
import type { ServiceDeps } from './services/deps.ts';

export function buildDeps(
  functionName: string,
  options: { deferAuditPublish?: boolean } = {},
): ServiceDeps & { accounts: Accounts } {
  const config = readRuntimeConfig();
  return depsFromConfig(config, {
    ...(options.deferAuditPublish ? { deferAuditPublish: true } : {}),
    account: config.SUNDOWN_ACCOUNT,
    region: process.env.AWS_REGION ?? 'us-east-1',
    actor: { type: 'function', name: functionName },
    onAuditPublishError: (err) => {
      logger.warn('audit event could not be published', { error: err as Error });
      metrics.addMetric('AuditPublishFailures', 'Count', 1);
    },
  });
}

/** The adapters every service uses, on the shared clients; for the functions and the CLI alike. */
export function depsFromConfig(
  config: RuntimeConfig,
  who: {
    account: string;
    region: string;
    actor: AuditActor;
    onAuditPublishError?: (err: unknown) => void;
    /** Audit events published after the caller's work; it must await `audit.settle()`. */
    deferAuditPublish?: boolean;
  },
): ServiceDeps & { accounts: Accounts } {
  const doc = clients.dynamo();
  const accounts = new Accounts({
    home: who.account,
    spokes: config.SUNDOWN_SPOKE_ACCOUNTS,
    externalId: config.SUNDOWN_SPOKE_EXTERNAL_ID,
    sessionName: `sundown-${who.actor.name}`,
    sts: lazyClients.sts,
  });
  const home = { account: who.account, partition: partitionOf(who.region) };
  // At home the shared clients; in a hub's spoke, clients signed by the spoke's reader role.
  const readIam = iamPerAccount(accounts, 'read');
  const homeResolver = new AwsWorkloadRoleResolver({
    ec2: lazyClients.ec2,
    ecs: lazyClients.ecs,
    iam: clients.iam(),
    codebuild: lazyClients.codebuild,
  });
  const resolverIn = accounts.perAccount('resolver', 'read', (c, account, partition) => {
    if (!c.credentials) return homeResolver;
    const spoke = makeLazyClients(c);
    return new AwsWorkloadRoleResolver({
      ec2: spoke.ec2,
      ecs: spoke.ecs,
      iam: readIam(account, partition),
      codebuild: spoke.codebuild,
    });
  });
  return {
    config,
    registry: new CredentialRegistry(doc, config.SUNDOWN_CREDENTIALS_TABLE),
    store: new RevocationStore(doc, config.SUNDOWN_REVOCATIONS_TABLE),
    audit: new AuditLog(
      doc,
      config.SUNDOWN_AUDIT_TABLE,
      config.SUNDOWN_AUDIT_CHAIN,
      {
        events: lazyClients.events,
        busName: config.SUNDOWN_EVENT_BUS,
        ...(who.onAuditPublishError ? { onError: who.onAuditPublishError } : {}),
      },
      {
        ...(config.SUNDOWN_AUDIT_SHARDS === undefined ? {} : { shards: config.SUNDOWN_AUDIT_SHARDS }),
        ...(who.deferAuditPublish ? { deferPublish: true } : {}),
        account: config.SUNDOWN_ACCOUNT,
      },
    ),
    optIn: new OptInChecker(readIam, config.SUNDOWN_ALLOWLIST),
    resolver: new AccountRoutedRoleResolver(resolverIn, home),
    sqs: clients.sqs(),
    account: who.account,
    accounts,
    region: who.region,
    actor: who.actor,
    now: () => new Date(),
  };
}

/** Per invocation: who is acting, for the audit trail. */
export function bindInvocation(deps: Pick<ServiceDeps, 'actor'>, context: Context | undefined): void {
  deps.actor = {
    type: 'function',
    name: context?.functionName || deps.actor.name,
    ...(context?.awsRequestId ? { requestId: context.awsRequestId } : {}),
  };
}

/** Whether Sundown acts in `account`: its own, or (a hub) one of its spokes. */
export function servesAccount(deps: Pick<ServiceDeps, 'account' | 'accounts'>): (account: string) => boolean {
  return (account) => deps.accounts?.serves(account) ?? account === deps.account;
}

/** A hub also trusts its spokes' events (lambdas/shared/handlers/event-trust.ts); nothing otherwise. */
export function hubTrust(deps: Pick<ServiceDeps, 'account' | 'accounts'>): {
  serves?: (account: string) => boolean;
} {
  return deps.accounts?.isHub ? { serves: servesAccount(deps) } : {};
}

/** IAM clients per account for `purpose`: the shared client at home, a spoke role's session elsewhere. */
export function iamPerAccount(accounts: Accounts, purpose: SpokePurpose): PerAccount<IAMClient> {
  return accounts.perAccount('iam', purpose, (c) => (c.credentials ? iamClient(c) : clients.iam()));
}
