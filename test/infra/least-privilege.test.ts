/**
 * Least privilege, in the directions IAM assertion tests cannot see, and the emulator cannot either
 * (moto does not enforce IAM):
 * - every action granted to one of Sundown's functions is used by the code that function runs;
 * - every AWS call in that code is granted (to some function: see below why not per function).
 * The code a function runs is what esbuild bundles from its handler (project files only). An action
 * counts as used when that code sends the SDK command that needs it (`iam:UpdateAccessKey` <->
 * `new UpdateAccessKeyCommand(`), or the request parameter an extra permission covers. Actions that
 * CDK grant helpers add as a unit, or that AWS uses on the function's behalf, are listed with the
 * reason they are granted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { SundownFunction } from '../../lib/constructs/sundown-function.ts';
import { ACCOUNT, actionsOf, buildSundown, logicalIdOf, REGION, roleStatements } from './support.ts';

/** Every optional grant switched on: allowlisted roles and users, a CA, broker callers. */
const CONFIGURED = {
  allowlist: [
    '/workloads/',
    `arn:aws:iam::${ACCOUNT}:role/fixed-worker`,
    `arn:aws:iam::${ACCOUNT}:user/ci-bot`,
  ],
  certificateAuthorityArns: [
    `arn:aws:acm-pca:${REGION}:${ACCOUNT}:certificate-authority/11111111-2222-3333-4444-555555555555`,
  ],
  brokerCallers: [`arn:aws:iam::${ACCOUNT}:role/caller`],
};

/** Granted, not called by name in Sundown's code, and why that is right. */
const GRANTED_WITHOUT_A_CALL: Readonly<Record<string, string>> = {
  // table.grantReadWriteData: CDK's read/write set for a table and its indexes, granted as one unit.
  'dynamodb:Scan': 'part of grantReadWriteData',
  'dynamodb:DescribeTable': 'part of grantReadWriteData',
  'dynamodb:GetRecords': 'part of grantReadWriteData (streams; Sundown tables have none)',
  'dynamodb:GetShardIterator': 'part of grantReadWriteData (streams; Sundown tables have none)',
  // Event source mappings poll with the function's role (SundownFunction.consume).
  'sqs:ReceiveMessage': 'the SQS event source mapping receives with the function role',
  'sqs:DeleteMessage': 'the SQS event source mapping deletes processed messages with the function role',
  'sqs:ChangeMessageVisibility':
    'the SQS event source mapping returns failed messages with the function role',
  'sqs:GetQueueAttributes': 'the event source mapping and queue.grantSendMessages',
  'sqs:GetQueueUrl': 'part of queue.grantSendMessages',
  // Tables and queues are encrypted with Sundown's customer managed key: DynamoDB and SQS use it on
  // the caller's behalf (key grants from table and queue grants).
  'kms:Decrypt': 'server-side encryption of tables and queues with the customer managed key',
  'kms:Encrypt': 'server-side encryption of tables and queues with the customer managed key',
  'kms:ReEncrypt*': 'server-side encryption of tables and queues with the customer managed key',
  'kms:GenerateDataKey*': 'server-side encryption of tables and queues with the customer managed key',
  'kms:DescribeKey': 'server-side encryption of tables and queues with the customer managed key',
  // tracing: ACTIVE; the Lambda runtime sends the segments.
  'xray:PutTraceSegments': 'active tracing (SundownFunction)',
  'xray:PutTelemetryRecords': 'active tracing (SundownFunction)',
};

/** What in the code shows an action is used, where it is not `<Action>Command`. */
const EVIDENCE: Readonly<Record<string, RegExp>> = {
  // lib-dynamodb's document client names its commands without "Item".
  'dynamodb:GetItem': /\b(GetCommand|GetItemCommand)\b/,
  'dynamodb:PutItem': /\b(PutCommand|PutItemCommand|TransactWriteCommand|BatchWriteCommand)\b/,
  'dynamodb:UpdateItem': /\b(UpdateCommand|UpdateItemCommand|TransactWriteCommand)\b/,
  'dynamodb:DeleteItem': /\b(DeleteCommand|DeleteItemCommand|TransactWriteCommand|BatchWriteCommand)\b/,
  'dynamodb:ConditionCheckItem': /\bTransactWriteCommand\b/,
  'dynamodb:BatchGetItem': /\bBatchGet(Item)?Command\b/,
  'dynamodb:BatchWriteItem': /\bBatchWrite(Item)?Command\b/,
  'sqs:SendMessage': /\bSendMessage(Batch)?Command\b/,
  // AssumeRole with Tags needs sts:TagSession, with SourceIdentity sts:SetSourceIdentity.
  'sts:TagSession': /\bAssumeRoleCommand\b[\s\S]*\bTags\s*:/,
  'sts:SetSourceIdentity': /\bAssumeRoleCommand\b[\s\S]*\bSourceIdentity\s*:/,
};

function evidenceFor(action: string): RegExp {
  const explicit = EVIDENCE[action];
  if (explicit) return explicit;
  const name = action.slice(action.indexOf(':') + 1);
  return new RegExp(String.raw`\b${name}Command\b`);
}

/** The project source files esbuild bundles for a handler. */
async function sourcesOf(handlerDir: string): Promise<string[]> {
  const result = await build({
    entryPoints: [path.join('lambdas', handlerDir, 'handler.ts')],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  const files = Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules'));
  return files.map((f) => fs.readFileSync(f, 'utf8'));
}

/** The IAM service prefix of each SDK package Sundown's functions use. */
const SERVICE_OF_PACKAGE: Readonly<Record<string, string>> = {
  '@aws-sdk/client-acm-pca': 'acm-pca',
  '@aws-sdk/client-batch': 'batch',
  '@aws-sdk/client-cloudtrail': 'cloudtrail',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
  '@aws-sdk/client-codebuild': 'codebuild',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/lib-dynamodb': 'dynamodb',
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-ecs': 'ecs',
  '@aws-sdk/client-eventbridge': 'events',
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-lambda': 'lambda',
  '@aws-sdk/client-sqs': 'sqs',
  '@aws-sdk/client-sts': 'sts',
};

/** Commands whose action is not `<service>:<name without "Command">` (document client, batch variants). */
const ACTIONS_OF_COMMAND: Readonly<Record<string, readonly string[]>> = {
  'dynamodb:Get': ['dynamodb:GetItem'],
  'dynamodb:Put': ['dynamodb:PutItem'],
  'dynamodb:Update': ['dynamodb:UpdateItem'],
  'dynamodb:Delete': ['dynamodb:DeleteItem'],
  'dynamodb:BatchGet': ['dynamodb:BatchGetItem'],
  'dynamodb:BatchWrite': ['dynamodb:BatchWriteItem'],
  // A transaction needs the permission of each kind of item operation it holds; Sundown's hold
  // puts, updates and condition checks.
  'dynamodb:TransactWrite': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'],
  'dynamodb:TransactGet': ['dynamodb:GetItem'],
  'sqs:SendMessageBatch': ['sqs:SendMessage'],
  'sqs:DeleteMessageBatch': ['sqs:DeleteMessage'],
  'sqs:ChangeMessageVisibilityBatch': ['sqs:ChangeMessageVisibility'],
};

/** The exported names of each SDK package (filled before the tests run). */
const exportsOf = new Map<string, Set<string>>();

/**
 * The actions the AWS calls in `source` need: each `new XCommand(` of an SDK package the file
 * imports, statically or on first use (`import('@aws-sdk/...')`), that exports `XCommand`.
 */
function actionsCalledIn(source: string): string[] {
  const packages = [...new Set([...source.matchAll(/'(@aws-sdk\/[\w-]+)'/g)].map((m) => m[1] ?? ''))];
  const called: string[] = [];
  for (const name of new Set([...source.matchAll(/new (\w+Command)\(/g)].map((m) => m[1] ?? ''))) {
    for (const pkg of packages.filter((p) => exportsOf.get(p)?.has(name))) {
      const key = `${SERVICE_OF_PACKAGE[pkg]}:${name.slice(0, -'Command'.length)}`;
      called.push(...(ACTIONS_OF_COMMAND[key] ?? [key]));
    }
  }
  return called;
}

/** IAM action matching: `*` in a granted action is a wildcard, case-insensitive like IAM. */
function grantCovers(granted: string, action: string): boolean {
  const pattern = granted.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${pattern}$`, 'i').test(action);
}

interface Grant {
  fn: string;
  action: string;
}

let grants: Grant[];
const code = new Map<string, string>();
const calls = new Map<string, Set<string>>();

beforeAll(async () => {
  for (const pkg of Object.keys(SERVICE_OF_PACKAGE))
    exportsOf.set(pkg, new Set(Object.keys(await import(pkg))));
  const { stack } = buildSundown(CONFIGURED);
  const template = Template.fromStack(stack);
  const functions = stack.node.findAll().filter((c): c is SundownFunction => c instanceof SundownFunction);
  grants = [];
  for (const fn of functions) {
    const sources = await sourcesOf(fn.handlerDir);
    code.set(fn.node.path, sources.join('\n'));
    calls.set(fn.node.path, new Set(sources.flatMap(actionsCalledIn)));
    const statements = roleStatements(template, logicalIdOf(fn.role)).filter((s) => s.Effect === 'Allow');
    for (const action of new Set(statements.flatMap(actionsOf))) grants.push({ fn: fn.node.path, action });
  }
}, 120_000);

describe('least privilege', () => {
  it("grants each of Sundown's functions only actions its own code uses", () => {
    expect(new Set(grants.map((g) => g.fn)).size).toBeGreaterThanOrEqual(5);
    const unused = grants
      .filter((g) => !(g.action in GRANTED_WITHOUT_A_CALL))
      .filter((g) => !evidenceFor(g.action).test(code.get(g.fn) ?? ''))
      .map((g) => `${g.fn}: ${g.action}`);
    expect(unused).toEqual([]);
  });

  // Across functions, not per function: every bundle holds the adapters of the shared dependency
  // builder (lambdas/shared/bootstrap.ts), so a bundle also holds calls that function never makes.
  it("grants every AWS call in the functions' code to at least one function", () => {
    const called = new Set([...calls.values()].flatMap((c) => [...c]));
    // The parser sees calls of statically imported clients and of clients imported on first use.
    expect(called.has('iam:UpdateAccessKey')).toBe(true);
    expect(called.has('ec2:DescribeInstances')).toBe(true);
    const missing = [...called].filter((action) => !grants.some((g) => grantCovers(g.action, action)));
    expect(missing).toEqual([]);
  });

  it('never grants iam:DeleteAccessKey: revocation deactivates keys (reversible), it never deletes them', () => {
    expect(grants.filter((g) => g.action === 'iam:DeleteAccessKey')).toEqual([]);
  });

  it('keeps its list of call-less grants honest: each one is still granted somewhere', () => {
    const granted = new Set(grants.map((g) => g.action));
    expect(Object.keys(GRANTED_WITHOUT_A_CALL).filter((a) => !granted.has(a))).toEqual([]);
  });
});
