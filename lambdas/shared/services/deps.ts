import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AuditSink } from '../../audit/index.ts';
import type { OptInChecker } from '../../opt-in/index.ts';
import type { CredentialRegistry } from '../../registry/index.ts';
import type { RevocationStore } from '../../revocation/store.ts';
import type { WorkloadRoleResolver } from '../../workload-roles/index.ts';
import type { Accounts } from '../adapters/accounts.ts';
import type { RuntimeConfig } from '../runtime-config.ts';
import type { AuditActor } from '../schemas/audit-record.ts';

/** Everything a Sundown service needs, injected (handlers build it once per cold start). */
export interface ServiceDeps {
  registry: CredentialRegistry;
  store: RevocationStore;
  audit: AuditSink;
  optIn: OptInChecker;
  resolver: WorkloadRoleResolver;
  sqs: SQSClient;
  config: RuntimeConfig;
  actor: AuditActor;
  account: string;
  /** The accounts Sundown acts in: its own, and a hub's spokes. Unset: its own account only. */
  accounts?: Accounts;
  region: string;
  now: () => Date;
}
