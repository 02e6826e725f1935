/**
 * The role sessions a burst ends, recorded in Sundown's registry as Sundown records them (setup,
 * not measured), and the registry read back after the run.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { OPEN_ENDED } from '../lambdas/registration/index.ts';
import { workloadIndexItems } from '../lambdas/registry/index.ts';
import { batchWriteAll } from '../lambdas/shared/adapters/dynamo-batch.ts';
import { credentialIdFor, normalizeWorkloadId } from '../lambdas/shared/domain/workload-id.ts';
import { type CredentialRecord, CredentialRecordSchema } from '../lambdas/shared/schemas/credential.ts';
import type { Target } from '../local/aws-env.ts';
import type { BenchEnvironment } from './env.ts';
import { roleIndexOf } from './workloads.ts';

/** Every registry item of the given workloads (a scan: the bench may, Sundown never does). */
export async function registryItems(
  env: BenchEnvironment,
  workloadIds: Set<string>,
): Promise<CredentialRecord[]> {
  const items: CredentialRecord[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await env.clients.doc.send(
      new ScanCommand({ TableName: env.stack.outputs.CredentialsTableName, ExclusiveStartKey: start }),
    );
    for (const item of res.Items ?? []) {
      if (workloadIds.has(String(item.workloadId))) items.push(item as CredentialRecord);
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The registry item Sundown stores for an EC2 instance's role session registered by an event. */
export function sessionRecord(
  target: Pick<Target, 'region' | 'accountId'>,
  instanceId: string,
  roleArn: string,
  issuedAt: string,
): CredentialRecord {
  const workload = normalizeWorkloadId(
    `arn:aws:ec2:${target.region}:${target.accountId}:instance/${instanceId}`,
  );
  return CredentialRecordSchema.parse({
    credentialId: credentialIdFor({
      kind: 'role-session',
      roleArn,
      sessionName: instanceId,
      workloadId: workload.id,
    }),
    kind: 'role-session',
    workloadId: workload.id,
    workloadKind: workload.kind,
    status: 'active',
    issuedAt,
    expiresAt: OPEN_ENDED,
    issuer: 'event',
    account: target.accountId,
    region: target.region,
    roleArn,
    roleName: roleArn.split('/').pop(),
    sessionName: instanceId,
    reusableSessionName: workload.reusableSessionName,
  });
}

/**
 * Records each instance's role session directly in the registry: the item
 * Sundown's `Credential Issued` path would store (credential ID from
 * `credentialIdFor`, validated by `CredentialRecordSchema`), written with
 * BatchWriteItem (with the workload index items Sundown writes in the same transaction), so setting
 * up 1,000 sessions takes seconds. (Setup is not
 * measured; the termination path reads exactly these items.)
 */
export async function registerSessions(
  env: BenchEnvironment,
  ids: readonly string[],
  roleArns: readonly string[],
): Promise<void> {
  const issuedAt = new Date().toISOString();
  const items = ids.map((id, i) =>
    sessionRecord(env.target, id, roleArns[roleIndexOf(i, roleArns.length)] as string, issuedAt),
  );
  await batchWriteAll(
    env.clients.doc,
    env.stack.outputs.CredentialsTableName as string,
    [...items, ...workloadIndexItems(items)].map((Item) => ({ PutRequest: { Item } })),
  );
  const records = await registryItems(env, new Set(items.map((r) => r.workloadId)));
  const active = records.filter((r) => r.status === 'active').length;
  if (active !== ids.length) {
    throw new Error(`expected ${ids.length} active sessions after registration, found ${active}`);
  }
}
