/**
 * Builds a function's dependencies once per cold start from the standard SDK
 * configuration and the environment the stack sets.
 */
import type { Context } from 'aws-lambda';
import { RevocationStore } from '../revocation/store.ts';
import { AuditLog } from './adapters/audit-log.ts';
import { CredentialRegistry } from './adapters/credential-registry.ts';
import { OptInChecker } from './adapters/opt-in.ts';
import { AwsWorkloadRoleResolver } from './adapters/workload-roles.ts';
import { clients, lazyClients } from './clients.ts';
import { logger, metrics } from './powertools.ts';
import { type RuntimeConfig, readRuntimeConfig } from './runtime-config.ts';
import type { AuditActor } from './schemas/audit-record.ts';
import type { ServiceDeps } from './services/deps.ts';

export function buildDeps(functionName: string): ServiceDeps {
  const config = readRuntimeConfig();
  return depsFromConfig(config, {
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
  who: { account: string; region: string; actor: AuditActor; onAuditPublishError?: (err: unknown) => void },
): ServiceDeps {
  const doc = clients.dynamo();
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
      config.SUNDOWN_AUDIT_SHARDS === undefined ? {} : { shards: config.SUNDOWN_AUDIT_SHARDS },
    ),
    optIn: new OptInChecker(clients.iam(), config.SUNDOWN_ALLOWLIST),
    resolver: new AwsWorkloadRoleResolver({
      ec2: lazyClients.ec2,
      ecs: lazyClients.ecs,
      iam: clients.iam(),
      codebuild: lazyClients.codebuild,
    }),
    sqs: clients.sqs(),
    account: who.account,
    region: who.region,
    actor: who.actor,
    now: () => new Date(),
  };
}

/** Per invocation: who is acting, for the audit trail. */
export function bindInvocation(deps: ServiceDeps, context: Context | undefined): void {
  deps.actor = {
    type: 'function',
    name: context?.functionName || deps.actor.name,
    ...(context?.awsRequestId ? { requestId: context.awsRequestId } : {}),
  };
}
