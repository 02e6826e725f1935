/**
 * What each Lambda's work costs in CPU, AWS calls excluded (its bundle size and cold import:
 * bundle-cost.ts):
 * - CPU per event: the in-process work one event costs (parsing, trust
 *   check, classification, schema validation of registry items, audit record hashing, policy
 *   rendering), measured with process.cpuUsage over many iterations;
 * - the client-side CPU of one AWS SDK call, measured in process.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { buildRecord } from '../lambdas/audit/index.ts';
import { FRESH_ROLE_OPTIONS, pruneEntries, renderDenyPolicies } from '../lambdas/revocation/deny-policy.ts';
import { RevocationMessageSchema } from '../lambdas/revocation/messages.ts';
import type { StoredDenyEntry } from '../lambdas/revocation/store.ts';
import { parseBody, untrustedReason } from '../lambdas/shared/handlers/event-trust.ts';
import type { AuditRecordInput } from '../lambdas/shared/schemas/audit-record.ts';
import { CredentialRecordSchema } from '../lambdas/shared/schemas/credential.ts';
import { classifyEvent } from '../lambdas/triggers/classify.ts';
import { entriesFor, instanceIdFor } from './capacity.ts';
import { sessionRecord } from './registry-sessions.ts';

/**
 * Client-side CPU of one AWS SDK call (DynamoDB GetItem through the DocumentClient: middleware,
 * SigV4 signing, HTTP, (de)serialization), the part of every AWS call a handler pays in CPU.
 * Measured in this process with Sundown's pollers paused.
 */
export async function measureSdkCallCpu(
  doc: DynamoDBDocumentClient,
  tableName: string,
  calls: number,
): Promise<number> {
  const key = { credentialId: 'rs-000000000000000000000000' };
  for (let i = 0; i < 20; i++) await doc.send(new GetCommand({ TableName: tableName, Key: key }));
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) await doc.send(new GetCommand({ TableName: tableName, Key: key }));
  const used = process.cpuUsage(start);
  return Math.round(((used.user + used.system) / 1000 / calls) * 100) / 100;
}

export interface CpuCost {
  path: string;
  /** What one iteration does. */
  work: string;
  microsPerEvent: number;
  iterations: number;
}

/** CPU µs per call of `fn`, over at least `minCpuMs` of CPU after a warm-up. */
function cpuPerCall(fn: () => void, minCpuMs = 400): { micros: number; iterations: number } {
  for (let i = 0; i < 50; i++) fn();
  let iterations = 0;
  const start = process.cpuUsage();
  let used = 0;
  while (used < minCpuMs * 1000) {
    for (let i = 0; i < 10; i++) fn();
    iterations += 10;
    const d = process.cpuUsage(start);
    used = d.user + d.system;
  }
  return { micros: Math.round((used / iterations) * 10) / 10, iterations };
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/bench-cpu`;
const HEAD = { seq: 123_456, hash: 'a'.repeat(64) };

function ec2EventBody(instanceId: string, state: string): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: ACCOUNT,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: [`arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${instanceId}`],
    detail: { 'instance-id': instanceId, state },
  });
}

function auditInput(
  type: AuditRecordInput['type'],
  outcome: AuditRecordInput['outcome'],
  item: ReturnType<typeof sessionRecord>,
): AuditRecordInput {
  return {
    type,
    outcome,
    at: new Date().toISOString(),
    actor: { type: 'function', name: 'Sundown-Function', requestId: randomUUID() },
    workloadId: item.workloadId,
    credentialId: item.credentialId,
    credentialKind: 'role-session',
    reason: `sessions of ${item.sessionName} issued before ${new Date().toISOString()} are denied on the role`,
    trigger: {
      kind: 'event',
      eventId: randomUUID(),
      source: 'aws.ec2',
      detailType: 'EC2 Instance State-change Notification',
    },
    details: {
      roleArn: ROLE_ARN,
      sessionName: item.sessionName ?? '',
      endedAt: new Date().toISOString(),
      timeToRevokeMs: 1234,
    },
  } as AuditRecordInput;
}

/** `minCpuMs`: CPU time to spend per path (the render of 1,000 entries gets at least twice that). */
export function measureCpu(minCpuMs = 400): CpuCost[] {
  const instanceId = instanceIdFor(0xabcdef);
  const item = sessionRecord(
    { region: REGION, accountId: ACCOUNT },
    instanceId,
    ROLE_ARN,
    new Date().toISOString(),
  );
  const stored = {
    ...item,
    status: 'revoking',
    endedAt: new Date().toISOString(),
    revokeRequestedAt: new Date().toISOString(),
  };
  const endedBody = ec2EventBody(instanceId, 'terminated');
  const runningBody = ec2EventBody(instanceId, 'running');
  const ctx = { account: ACCOUNT, region: REGION, busName: 'default' };
  const results: CpuCost[] = [];
  const add = (path: string, work: string, fn: () => void, cpuMs = minCpuMs) => {
    const { micros, iterations } = cpuPerCall(fn, cpuMs);
    results.push({ path, work, microsPerEvent: micros, iterations });
  };

  add(
    'WorkloadEnded: one EC2 termination',
    'parse body, trust check, classifyEvent, 2 registry item parses, 1 audit record (build + hash), revocation message + dedup hash',
    () => {
      const parsed = parseBody(endedBody);
      if (!parsed.ok) throw new Error(parsed.reason);
      untrustedReason(parsed.value, { fromSundownBus: false, account: ACCOUNT });
      const c = classifyEvent(parsed.value, ctx);
      if (c.kind !== 'workload-ended') throw new Error(`unexpected ${c.kind}`);
      CredentialRecordSchema.parse(item);
      CredentialRecordSchema.parse(stored);
      buildRecord(auditInput('revocation-requested', 'requested', item), HEAD, 'main');
      const body = JSON.stringify({
        target: 'role',
        roleArn: ROLE_ARN,
        version: 7,
        credentialIds: [item.credentialId],
      });
      createHash('sha256').update(body).digest('hex');
    },
  );
  add(
    'WorkloadStarted: one EC2 running event',
    'parse body, trust check, classifyEvent, 1 registry item parse, 1 audit record (build + hash)',
    () => {
      const parsed = parseBody(runningBody);
      if (!parsed.ok) throw new Error(parsed.reason);
      untrustedReason(parsed.value, { fromSundownBus: false, account: ACCOUNT });
      classifyEvent(parsed.value, ctx);
      CredentialRecordSchema.parse(item);
      buildRecord(auditInput('issued', 'recorded', item), HEAD, 'main');
    },
  );
  const messageBody = JSON.stringify({
    target: 'role',
    roleArn: ROLE_ARN,
    version: 7,
    credentialIds: [item.credentialId],
  });
  const revokerCommon = () => {
    const parsed = parseBody(messageBody);
    if (!parsed.ok) throw new Error(parsed.reason);
    RevocationMessageSchema.parse(parsed.value);
    CredentialRecordSchema.parse(stored);
    CredentialRecordSchema.parse({ ...stored, status: 'revoked', revokedAt: new Date().toISOString() });
    buildRecord(auditInput('revoked', 'success', item), HEAD, 'main');
  };
  add(
    'Revoker: one message, render skipped (coalesced)',
    'parse + validate message, 2 registry item parses, 1 audit record',
    revokerCommon,
  );
  for (const n of [1, 100, 1000]) {
    const entries: StoredDenyEntry[] = entriesFor('burst', n, Date.now()).map((e) => ({
      ...e,
      workloadId: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${e.sessionName}`,
    }));
    add(
      `Revoker: one message, render of ${n} entr${n === 1 ? 'y' : 'ies'}`,
      'as above + pruneEntries + renderDenyPolicies (real budgets) + JSON of the documents',
      () => {
        revokerCommon();
        const { kept } = pruneEntries(entries, new Date());
        const rendered = renderDenyPolicies(kept, FRESH_ROLE_OPTIONS);
        JSON.stringify(rendered.inline);
        for (const doc of rendered.managed) JSON.stringify(doc);
      },
      n >= 1000 ? 2 * minCpuMs : minCpuMs,
    );
  }
  return results;
}
