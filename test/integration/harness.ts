/**
 * One deployed Sundown per test file: a fresh moto server, the synthesized
 * stack deployed through the real CDK CLI, and the handlers running in
 * process with Lambda's SQS semantics. Every test drives real API calls.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { AuditLog } from '../../lambdas/shared/adapters/audit-log.ts';
import { CredentialRegistry } from '../../lambdas/shared/adapters/credential-registry.ts';
import { applyAwsEnv, LOCAL_ACCOUNT, LOCAL_REGION, type Target } from '../../local/aws-env.ts';
import { type DeployedStack, deployStack, synthesize } from '../../local/deploy.ts';
import { type Emulator, startEmulator } from '../../local/emulator.ts';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.ts';

export interface Sundown {
  emulator: Emulator;
  target: Target;
  stack: DeployedStack;
  runtime: LocalRuntime;
  outputs: Record<string, string>;
  iam: IAMClient;
  ec2: EC2Client;
  events: EventBridgeClient;
  sqs: SQSClient;
  doc: DynamoDBDocumentClient;
  registry: CredentialRegistry;
  audit: AuditLog;
  /** Puts events and fails the test when EventBridge refuses any. */
  putEvents(entries: PutEventsRequestEntry[]): Promise<void>;
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface DeployOptions {
  /** CDK context `sundown` (deployment configuration); synthesizes a dedicated assembly. */
  config?: Record<string, unknown>;
}

export async function deploySundown(options: DeployOptions = {}): Promise<Sundown> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const emulator = await startEmulator();
  const target: Target = { endpoint: emulator.endpoint, region: LOCAL_REGION, accountId: LOCAL_ACCOUNT };
  applyAwsEnv(target);
  try {
    const context = options.config ? { sundown: JSON.stringify(options.config) } : undefined;
    const cloudAssemblyDir = context
      ? await synthesize({ target, outDir: `${inject('assemblyDir')}-${process.pid}-${Date.now()}`, context })
      : inject('assemblyDir');
    const stack = await deployStack({ target, cloudAssemblyDir });
    const runtime = await startLocalRuntime({
      target,
      stack,
      retryDelaySeconds: 0,
      pollIntervalMs: 20,
      ...(process.env.SUNDOWN_TEST_VERBOSE ? { onError: (m: string) => console.error(m) } : {}),
    });
    const config = { endpoint: target.endpoint, region: target.region };
    const events = new EventBridgeClient(config);
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(config), {
      marshallOptions: { removeUndefinedValues: true },
    });
    return {
      emulator,
      target,
      stack,
      runtime,
      outputs: stack.outputs,
      iam: new IAMClient(config),
      ec2: new EC2Client(config),
      events,
      sqs: new SQSClient({ ...config, useQueueUrlAsEndpoint: false }),
      doc,
      registry: new CredentialRegistry(doc, stack.outputs.CredentialsTableName as string),
      audit: new AuditLog(doc, stack.outputs.AuditTableName as string, 'main'),
      async putEvents(entries) {
        for (let i = 0; i < entries.length; i += 10) {
          const res = await events.send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
          if (res.FailedEntryCount) throw new Error(`PutEvents refused ${res.FailedEntryCount} entries`);
        }
      },
      drain: (timeoutMs) => runtime.drain(timeoutMs),
      async stop() {
        await runtime.stop();
        await emulator.stop();
      },
    };
  } catch (err) {
    await emulator.stop();
    throw err;
  }
}
