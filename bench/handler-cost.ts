/**
 * What each bundled Lambda costs before it makes any AWS call:
 * - bundle size: the minified `index.mjs` the synthesized app deploys (and gzipped, for reference);
 * - cold import: time to import the bundle in a fresh Node process with the function's own
 *   environment (NODE_OPTIONS included), median of several runs: a cold-start proxy;
 * - CPU per event: the in-process work one event costs, AWS calls excluded (parsing, trust
 *   check, classification, schema validation of registry items, audit record hashing, policy
 *   rendering), measured with process.cpuUsage over many iterations.
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { buildRecord } from '../lambdas/audit/index.ts';
import { FRESH_ROLE_OPTIONS, pruneEntries, renderDenyPolicies } from '../lambdas/revocation/deny-policy.ts';
import { RevocationMessageSchema } from '../lambdas/revocation/messages.ts';
import type { StoredDenyEntry } from '../lambdas/revocation/store.ts';
import { parseBody, untrustedReason } from '../lambdas/shared/handlers/event-trust.ts';
import type { AuditRecordInput } from '../lambdas/shared/schemas/audit-record.ts';
import { CredentialRecordSchema } from '../lambdas/shared/schemas/credential.ts';
import { classifyEvent } from '../lambdas/triggers/classify.ts';
import type { LocalFunction } from '../local/stack-model.ts';
import { entriesFor, instanceIdFor } from './capacity.ts';
import { median } from './metrics.ts';
import { sessionRecord } from './sundown-burst.ts';

export interface BundleCost {
  function: string;
  logicalId: string;
  /** Minified bundle, bytes. */
  bytes: number;
  gzipBytes: number;
  /** Median ms to import the bundle in a fresh process, with the function's environment. */
  coldImportMs: number;
  coldImportRunsMs: number[];
  /** Median ms from process start until the import finished (Node bootstrap included). */
  processToReadyMs: number;
  /** Median import ms without NODE_OPTIONS=--enable-source-maps, for reference (full run only). */
  coldImportNoSourceMapsMs: number | null;
  /** Packages the bundle leaves external (the AWS SDK, provided by the Lambda runtime), loaded at import. */
  externalPackages: string[];
  /** Median ms to import only those external packages in a fresh process: the SDK's share (full run only). */
  externalImportMs: number | null;
}

/** Imports every specifier given (in order) and reports how long that took. */
const IMPORT_SCRIPT = `
const t0 = performance.now();
for (const specifier of process.argv.slice(1)) await import(specifier);
const t1 = performance.now();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, sinceStartMs: t1 }));
process.exit(0);
`;

function timeImport(
  specifiers: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ importMs: number; sinceStartMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', IMPORT_SCRIPT, ...specifiers], {
      env,
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        reject(new Error(`importing ${specifiers.join(', ')} failed (exit ${code}): ${err.slice(-300)}`));
      else resolve(JSON.parse(out) as { importMs: number; sinceStartMs: number });
    });
  });
}

/**
 * `runs` measured imports per bundle (after one warm-up import). `variants` adds the same number of
 * imports without source maps and of the external SDK packages alone (the quick run skips them).
 */
export async function measureBundles(
  functions: readonly LocalFunction[],
  runs: number,
  variants: boolean,
): Promise<BundleCost[]> {
  const results: BundleCost[] = [];
  for (const fn of functions) {
    const code = await readFile(fn.codeFile);
    // The function's environment as deployed, with dummy credentials and an unroutable endpoint:
    // importing makes no AWS call, and must not find one to make.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...fn.environment,
    };
    const { NODE_OPTIONS: _ignored, ...withoutSourceMaps } = env;
    const bundle = [pathToFileURL(fn.codeFile).href];
    // Bare imports the bundler left external, resolved from the bundle's folder as at run time.
    const externals = [
      ...new Set(
        [...code.toString('utf8').matchAll(/from\s*"(@aws-sdk\/[\w-]+)"/g)].map((m) => m[1] as string),
      ),
    ];
    // Bare specifiers in --eval code resolve from the working directory: the bundle's folder.
    const cwd = path.dirname(fn.codeFile);
    const withMaps: { importMs: number; sinceStartMs: number }[] = [];
    const withoutMaps: number[] = [];
    const sdkOnly: number[] = [];
    if (variants) await timeImport(bundle, env, cwd); // warm the OS file cache: measured runs read from memory
    for (let i = 0; i < runs; i++) {
      withMaps.push(await timeImport(bundle, env, cwd));
      if (!variants) continue;
      withoutMaps.push((await timeImport(bundle, withoutSourceMaps, cwd)).importMs);
      sdkOnly.push((await timeImport(externals, withoutSourceMaps, cwd)).importMs);
    }
    const round = (x: number) => Math.round(x * 10) / 10;
    results.push({
      function: fn.logicalId.replace(/Function[0-9A-F]{8}$/, ''),
      logicalId: fn.logicalId,
      bytes: statSync(fn.codeFile).size,
      gzipBytes: gzipSync(code).length,
      coldImportMs: round(median(withMaps.map((r) => r.importMs))),
      coldImportRunsMs: withMaps.map((r) => round(r.importMs)),
      processToReadyMs: round(median(withMaps.map((r) => r.sinceStartMs))),
      coldImportNoSourceMapsMs: variants ? round(median(withoutMaps)) : null,
      externalPackages: externals,
      externalImportMs: variants ? round(median(sdkOnly)) : null,
    });
  }
  return results;
}

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
