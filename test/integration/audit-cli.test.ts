/**
 * `sundown audit query|timeline|verify` over the records a real pipeline run wrote (EC2 instances
 * ending, a role that is not opted in, a broker-issued session, an event carrying secrets), and
 * the secret hygiene of every stored record and every audit event published on Sundown's bus.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callBroker } from '../../cli/broker-client.ts';
import { verifyChain } from '../../lambdas/audit/audit-chain-verify.ts';
import { AUDIT_EVENT_SOURCE } from '../../lambdas/audit/audit-log.ts';
import { assertNoSecretMaterial, findSecretMaterial } from '../../lambdas/audit/audit-secrets.ts';
import type { AuditRecord } from '../../lambdas/shared/schemas/audit-record.ts';
import { ec2StateEvent, ensureDemoRole, launchInstance } from '../../local/demo.ts';
import { PROJECT_ROOT } from '../../local/deploy.ts';
import { deploySundown, type Sundown } from './harness.ts';

const ACCOUNT = '123456789012';
const arnOf = (instanceId: string) => `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/${instanceId}`;
const FAKE_SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const FAKE_SESSION_TOKEN = `IQoJb3JpZ2luX2VjEHUaCXVzLWVhc3QtMSJHMEUCIQD${'Ab3/Zx9+'.repeat(30)}EXAMPLE==`;
const CI_WORKLOAD = 'ci/pipeline-7/job-3';

let sd: Sundown;
let ended: string; // instance revoked on an opted-in role
let live: string; // instance still running on that role
let notOptedIn: string; // instance on a role that is not opted in
let endedAt: string;
let brokerSecrets: string[] = [];
let stored: Record<string, unknown>[] = [];
let published: { body: string; detail: AuditRecord }[] = [];

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd = PROJECT_ROOT): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'sundown.mjs'), 'audit', ...args], {
      cwd,
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const cli = (...args: string[]) =>
  run([...args, '--endpoint', sd.target.endpoint, '--region', sd.target.region, '--stack', 'Sundown']);

async function json<T = AuditRecord[]>(...args: string[]): Promise<T> {
  const result = await cli(...args, '--json');
  if (result.code !== 0) throw new Error(`sundown audit ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Every item of every audit chain (legacy `main` and the shards), as the CLI returns them (no `dayShard`). */
async function storedItems(): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  const chains = ['main', ...Array.from({ length: Number(sd.outputs.AuditShards) }, (_, k) => `main#${k}`)];
  for (const chainId of chains) {
    let start: Record<string, unknown> | undefined;
    do {
      const res = await sd.doc.send(
        new QueryCommand({
          TableName: sd.outputs.AuditTableName,
          KeyConditionExpression: 'chainId = :c',
          ExpressionAttributeValues: { ':c': chainId },
          ExclusiveStartKey: start,
        }),
      );
      out.push(...(res.Items ?? []).map(({ dayShard: _indexKey, ...item }) => item));
      start = res.LastEvaluatedKey;
    } while (start);
  }
  return out;
}

const recordsOf = (items: Record<string, unknown>[]) =>
  items.filter((item) => item.seq !== 0) as AuditRecord[];

/** A queue that receives every audit event Sundown publishes on its bus. */
async function captureAuditEvents(): Promise<string> {
  const queue = await sd.sqs.send(new CreateQueueCommand({ QueueName: 'audit-events-capture' }));
  const attrs = await sd.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const bus = sd.outputs.EventBusName;
  await sd.events.send(
    new PutRuleCommand({
      Name: 'audit-events-capture',
      EventBusName: bus,
      EventPattern: JSON.stringify({ source: [AUDIT_EVENT_SOURCE] }),
    }),
  );
  await sd.events.send(
    new PutTargetsCommand({
      Rule: 'audit-events-capture',
      EventBusName: bus,
      Targets: [{ Id: 'capture', Arn: attrs.Attributes?.QueueArn }],
    }),
  );
  return queue.QueueUrl as string;
}

async function drainQueue(queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (let empty = 0; empty < 2; ) {
    const res = await sd.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) {
      empty++;
      continue;
    }
    bodies.push(...messages.map((m) => m.Body as string));
    await sd.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return bodies;
}

beforeAll(async () => {
  sd = await deploySundown();
  const queueUrl = await captureAuditEvents();

  // Two instances on an opted-in role, one ends; one instance on a role that is not opted in ends.
  await ensureDemoRole(sd.iam, 'audited');
  await ensureDemoRole(sd.iam, 'unaudited', false);
  [ended, live, notOptedIn] = [
    await launchInstance(sd.ec2, 'audited'),
    await launchInstance(sd.ec2, 'audited'),
    await launchInstance(sd.ec2, 'unaudited'),
  ];
  await sd.putEvents([ended, live, notOptedIn].map((id) => ec2StateEvent(id, 'running', sd.target)));
  await sd.drain();
  const end = new Date(Math.floor(Date.now() / 1000) * 1000);
  endedAt = end.toISOString();
  await sd.putEvents([
    ec2StateEvent(ended, 'terminated', sd.target, end),
    ec2StateEvent(notOptedIn, 'terminated', sd.target, end),
  ]);
  await sd.drain();

  // A broker-issued session: the secrets go to the caller only.
  // Through the broker's function URL, signed, as a workload calls it.
  const response = await callBroker(
    {
      region: sd.target.region,
      stackName: sd.stack.stackName,
      outputs: sd.outputs,
      lambdaEndpoint: sd.runtime.lambdaEndpoint,
    },
    {
      action: 'issue-session',
      role: 'audited',
      workloadId: CI_WORKLOAD,
      purpose: 'deploy',
      reason: 'deploy the CI build',
    },
  );
  if (!response.ok || !('session' in response)) throw new Error(`broker failed: ${JSON.stringify(response)}`);
  brokerSecrets = [response.session.secretAccessKey, response.session.sessionToken];

  // An event that carries secret material where none belongs, then the CI workload's end.
  await sd.putEvents([
    {
      EventBusName: sd.outputs.EventBusName,
      Source: 'sundown',
      DetailType: 'Credential Issued',
      Detail: JSON.stringify({
        kind: 'access-key',
        userName: 'ci-user',
        accessKeyId: 'AKIAEXAMPLE1A2B3C4D5',
        secretAccessKey: FAKE_SECRET_KEY,
        sessionToken: FAKE_SESSION_TOKEN,
        workloadId: CI_WORKLOAD,
      }),
    },
    {
      EventBusName: sd.outputs.EventBusName,
      Source: 'sundown',
      DetailType: 'Workload Ended',
      Detail: JSON.stringify({ workloadId: CI_WORKLOAD, reason: 'pipeline finished' }),
    },
  ]);
  await sd.drain();

  stored = await storedItems();
  published = (await drainQueue(queueUrl)).map((body) => ({
    body,
    detail: (JSON.parse(body) as { detail: AuditRecord }).detail,
  }));
});
afterAll(async () => {
  await sd?.stop();
});

describe('audit query', () => {
  it('normalizes a bare instance ID and prints the full stored records as JSON', async () => {
    const [byInstanceId, byArn] = await Promise.all([
      json('query', '--workload', ended),
      json('query', '--workload', arnOf(ended)),
    ]);

    expect(byInstanceId.map((r) => r.type)).toEqual(['issued', 'revocation-requested', 'revoked']);
    expect(byArn).toEqual(byInstanceId);
    for (const record of byInstanceId) {
      expect(record).toMatchObject({
        workloadId: arnOf(ended),
        chainId: expect.stringMatching(/^main#\d+$/),
        credentialKind: 'role-session',
      });
      expect(record).toEqual(expect.objectContaining({ type: expect.any(String), at: expect.any(String) }));
      expect(record.credentialId).toMatch(/^rs-[0-9a-f]{24}$/);
      expect(record).toEqual(
        stored.find((item) => item.chainId === record.chainId && item.seq === record.seq),
      );
    }
  });

  it('filters by credential, by type, and by both workload and type', async () => {
    const [issued] = await json('query', '--workload', ended, '--type', 'issued');
    const credentialId = issued?.credentialId as string;

    const [byCredential, revoked, skipped] = await Promise.all([
      json('query', '--credential', credentialId),
      json('query', '--type', 'revoked'),
      json('query', '--type', 'skipped', '--workload', notOptedIn),
    ]);

    expect(byCredential.map((r) => [r.type, r.credentialId])).toEqual([
      ['issued', credentialId],
      ['revocation-requested', credentialId],
      ['revoked', credentialId],
    ]);
    expect(revoked.length).toBeGreaterThanOrEqual(2);
    expect(revoked.every((r) => r.type === 'revoked')).toBe(true);
    expect(revoked.map((r) => r.workloadId)).toEqual(expect.arrayContaining([arnOf(ended), CI_WORKLOAD]));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ type: 'skipped', workloadId: arnOf(notOptedIn) });
    expect(skipped[0]?.reason).toMatch(/not opted in/);
  });

  it('filters by time with ISO times and durations, inclusive at both ends', async () => {
    const all = await json('query', '--workload', ended);
    const [issued, requested] = all as [AuditRecord, AuditRecord, AuditRecord];

    const [fromRequest, untilIssue, between, lastHour, beforeLastHour] = await Promise.all([
      json('query', '--workload', ended, '--since', requested.at),
      json('query', '--workload', ended, '--until', issued.at),
      json('query', '--workload', ended, '--since', requested.at, '--until', requested.at),
      json('query', '--workload', ended, '--since', '1h'),
      json('query', '--workload', ended, '--until', '1h'),
    ]);

    expect(fromRequest.map((r) => r.type)).toEqual(['revocation-requested', 'revoked']);
    expect(untilIssue.map((r) => r.type)).toEqual(['issued']);
    expect(between.map((r) => r.type)).toEqual(['revocation-requested']);
    expect(lastHour).toEqual(all);
    expect(beforeLastHour).toEqual([]);
  });

  it('returns at most --limit records, oldest first, from the whole chain without filters', async () => {
    const [everything, firstTwo] = await Promise.all([
      json('query', '--limit', '1000'),
      json('query', '--limit', '2'),
    ]);

    expect(everything).toHaveLength(recordsOf(stored).length);
    expect(firstTwo).toEqual(everything.slice(0, 2));
  });

  it('prints a readable table by default', async () => {
    const result = await cli('query', '--workload', ended);

    expect(result.code).toBe(0);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^CHAIN +SEQ +AT +TYPE +ACCOUNT +WORKLOAD +CREDENTIAL +OUTCOME +REASON$/);
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatch(
      / revoked +123456789012 +arn:aws:ec2:us-east-1:123456789012:instance\/i-[0-9a-f]+ +rs-[0-9a-f]{24} +success /,
    );
  });

  it.each([
    [
      ['--type', 'deleted'],
      /^sundown: --type must be one of issued, revocation-requested, .*, got "deleted"$/,
    ],
    [['--limit', '0'], /^sundown: --limit must be a positive integer, got "0"$/],
    [['--limit', '2.5'], /^sundown: --limit must be a positive integer, got "2.5"$/],
    [['--since', 'yesterday'], /^sundown: --since must be an ISO time .* got "yesterday"$/],
    [
      ['--until', '2024-02-30T00:00:00Z'],
      /^sundown: --until must be an ISO time .* got "2024-02-30T00:00:00Z"$/,
    ],
    [['--since', '1h', '--until', '2h'], /^sundown: --since \(.*\) must not be later than --until \(.*\)$/],
    [
      ['--credential', 'not-a-credential'],
      /^sundown: --credential must be a credential ID .* got "not-a-credential"$/,
    ],
    [['--workload', 'has spaces'], /^sundown: --workload: workload id "has spaces" is invalid/],
  ])('rejects %j with one line on stderr and exit 1', async (args, message) => {
    const result = await cli('query', ...args);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr.trimEnd()).toMatch(message);
  });

  it('works with --local from a .sundown/local.json', async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'sundown-audit-'));
    try {
      await mkdir(path.join(cwd, '.sundown'));
      writeFileSync(
        path.join(cwd, '.sundown', 'local.json'),
        JSON.stringify({
          endpoint: sd.target.endpoint,
          region: sd.target.region,
          accountId: ACCOUNT,
          stackName: 'Sundown',
          outputs: sd.outputs,
        }),
      );

      const result = await run(['query', '--local', '--workload', ended, '--json'], cwd);

      expect(result.code).toBe(0);
      expect((JSON.parse(result.stdout) as AuditRecord[]).map((r) => r.type)).toEqual([
        'issued',
        'revocation-requested',
        'revoked',
      ]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('audit timeline', () => {
  it("shows each of a workload's credentials from issue to revocation with time-to-revoke", async () => {
    const [timeline, records] = await Promise.all([
      json<{ workloadId: string; credentials: Record<string, unknown>[]; events: unknown[] }>(
        'timeline',
        ended,
      ),
      json('query', '--workload', ended),
    ]);

    expect(timeline.workloadId).toBe(arnOf(ended));
    expect(timeline.events).toEqual([]);
    expect(timeline.credentials).toHaveLength(1);
    const [issued, requested, revoked] = records as [AuditRecord, AuditRecord, AuditRecord];
    expect(timeline.credentials[0]).toEqual({
      credentialId: issued.credentialId,
      credentialKind: 'role-session',
      status: 'revoked',
      issuedAt: issued.at,
      endedAt,
      revocationRequestedAt: requested.at,
      revokedAt: revoked.at,
      timeToRevokeMs: Date.parse(revoked.at) - Date.parse(endedAt),
      reason: revoked.reason,
      seqs: [issued.seq, requested.seq, revoked.seq],
    });
    expect(timeline.credentials[0]?.timeToRevokeMs).toBeGreaterThanOrEqual(0);
  });

  it('covers skipped and broker-issued credentials, and prints a table by default', async () => {
    type Timeline = { credentials: { status: string; skippedAt?: string; timeToRevokeMs?: number }[] };
    const [skipped, brokered, text, stillLive] = await Promise.all([
      json<Timeline>('timeline', notOptedIn),
      json<Timeline>('timeline', CI_WORKLOAD),
      cli('timeline', ended),
      cli('timeline', live),
    ]);

    expect(skipped.credentials).toEqual([
      expect.objectContaining({ status: 'skipped', skippedAt: expect.any(String) }),
    ]);
    expect(brokered.credentials).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ status: 'revoked', timeToRevokeMs: expect.any(Number) }),
      ]),
    );
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^Workload ${arnOf(ended)}\nCREDENTIAL +KIND +STATUS +ISSUED +ENDED +REQUESTED +SETTLED +TIME-TO-REVOKE +REQUESTED-BY +SOURCE-IP +REASON\n`,
      ),
    );
    expect(text.stdout).toMatch(/ revoked .* \d+\.\d{3}s\n$/);
    expect(stillLive.stdout).toMatch(/ active /);
  });
});

describe('audit verify after a pipeline run', () => {
  it('finds the chain the functions wrote intact', async () => {
    const result = await json<{ ok: boolean; count: number; headSeq: number }>('verify');

    const count = recordsOf(stored).length;
    expect(result).toMatchObject({ ok: true, status: 'verified', count, headSeq: count });
  });
});

describe('secret material', () => {
  it('the pipeline run handled real secrets (the broker returned some) and a poisoned event', () => {
    expect(brokerSecrets.map((secret) => findSecretMaterial(secret).length > 0)).toEqual([true, true]);
    const rejected = stored.filter((item) => item.type === 'rejected') as AuditRecord[];
    expect(rejected.map((r) => r.trigger?.detailType)).toContain('Credential Issued');
    expect(stored.some((item) => item.workloadId === CI_WORKLOAD && item.type === 'revoked')).toBe(true);
  });

  it('is in no stored audit item', () => {
    expect(stored.length).toBeGreaterThan(10);
    for (const item of stored) {
      expect(() => assertNoSecretMaterial(item)).not.toThrow();
      const text = JSON.stringify(item);
      expect(findSecretMaterial(text)).toEqual([]);
      for (const secret of [...brokerSecrets, FAKE_SECRET_KEY, FAKE_SESSION_TOKEN])
        expect(text).not.toContain(secret);
    }
  });

  it('is in no audit event published on the bus, and the events match the chain one for one', () => {
    const bySeq = (a: AuditRecord, b: AuditRecord) =>
      a.chainId === b.chainId ? a.seq - b.seq : a.chainId < b.chainId ? -1 : 1;
    const records = recordsOf(stored).sort(bySeq);
    const events = published.map((p) => p.detail).sort(bySeq);

    expect(events).toEqual(records);
    for (const head of stored.filter((item) => item.seq === 0) as {
      chainId: string;
      headSeq: number;
      headHash: string;
    }[]) {
      const chain = events.filter((e) => e.chainId === head.chainId);
      expect(verifyChain(chain, { seq: head.headSeq, hash: head.headHash })).toMatchObject({ ok: true });
    }
    for (const { body, detail } of published) {
      expect(() => assertNoSecretMaterial(JSON.parse(body))).not.toThrow();
      expect(findSecretMaterial(body)).toEqual([]);
      for (const secret of [...brokerSecrets, FAKE_SECRET_KEY, FAKE_SESSION_TOKEN])
        expect(body).not.toContain(secret);
      expect(JSON.parse(body)).toMatchObject({ source: AUDIT_EVENT_SOURCE, detail: { seq: detail.seq } });
    }
  });
});
