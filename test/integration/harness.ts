/**
 * One deployed Sundown per test file: its own moto server holding the synthesized
 * stack deployed through the real CDK CLI (a fork of the emulator the global setup
 * deployed it into), and the handlers running in process with Lambda's SQS
 * semantics. Every test drives real API calls.
 *
 * Tests tell the truth: `stop()` (and `assertQuiet()` wherever a test calls it)
 * fails unless every DLQ is empty and no handler logged an error, other than
 * what the test declares it provokes (`expectedDlq`, `expectedErrors`). The
 * failure message lists the handler errors and the DLQ bodies; no verbose flag
 * is needed to see them.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { AuditLog } from '../../lambdas/audit/audit-log.ts';
import { CredentialRegistry } from '../../lambdas/registry/credential-registry.ts';
import { applyAwsEnv, LOCAL_ACCOUNT, LOCAL_REGION, type Target } from '../../local/aws-env.ts';
import { type DeployedStack, deployStack, describeDeployment } from '../../local/deploy.ts';
import { type Emulator, forkEmulator, startEmulator } from '../../local/emulator.ts';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.ts';
import { synthesizeCached } from '../../local/synth-cache.ts';
import { capturedOutput, handlerErrorLines, RUNTIME_ERROR_PREFIX } from './log-scan.setup.ts';

/**
 * What a test provokes on purpose. Everything else must be quiet: every DLQ empty, no handler error.
 */
export interface QuietExpectations {
  /**
   * Messages that a DLQ must hold, by name (the stack output without `DlqUrl`: ServiceEvents,
   * BusEvents, DiscoveryEvents, Revocations, EventDelivery, SweepTicks). Every DLQ not named
   * here must be empty.
   */
  expectedDlq?: Record<string, number>;
  /**
   * Handler errors the test provokes. Every error logged since the last check must match one of
   * these, and each of these must match at least one error (a stale expectation fails too).
   */
  expectedErrors?: RegExp[];
}

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
  /**
   * Drains, then fails (listing what it found) unless every DLQ holds exactly `expectedDlq` and
   * every handler error since the previous check matches `expectedErrors`. Errors are counted once:
   * the next check looks only at errors logged after this one.
   */
  assertQuiet(expectations?: QuietExpectations): Promise<void>;
  /** Handler errors since the last check (logged at ERROR or above, or reported by the runtime). */
  handlerErrors(): string[];
  /** The DLQs by name and how many messages each holds. */
  dlqDepths(): Promise<Record<string, number>>;
  /** `assertQuiet(expectations)`, then stops the runtime and the emulator (whatever the check found). */
  stop(expectations?: QuietExpectations): Promise<void>;
}

/** DLQ name -> URL, from the stack outputs `<Name>DlqUrl`. */
export function dlqUrls(outputs: Record<string, string>): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const [key, value] of Object.entries(outputs)) {
    const m = /^(\w+)DlqUrl$/.exec(key);
    if (m) urls[m[1] as string] = value;
  }
  return urls;
}

/** How many messages each DLQ holds (visible, in flight and delayed). */
export async function dlqDepths(
  sqs: SQSClient,
  outputs: Record<string, string>,
): Promise<Record<string, number>> {
  const depths: Record<string, number> = {};
  for (const [name, url] of Object.entries(dlqUrls(outputs))) {
    const res = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    const a = res.Attributes ?? {};
    depths[name] =
      Number(a.ApproximateNumberOfMessages ?? 0) +
      Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
  }
  return depths;
}

/**
 * Compares the DLQs with `expectedDlq`; returns the problems, each with the bodies of the
 * messages found (peeked with visibility 0, only when something is wrong).
 */
export async function dlqProblems(
  sqs: SQSClient,
  outputs: Record<string, string>,
  expectedDlq: Record<string, number> = {},
): Promise<string[]> {
  const urls = dlqUrls(outputs);
  const problems: string[] = [];
  if (Object.keys(urls).length === 0) problems.push('the stack has no *DlqUrl outputs');
  for (const name of Object.keys(expectedDlq)) {
    if (!(name in urls))
      problems.push(`expectedDlq names ${name}, which is not a DLQ (${Object.keys(urls).join(', ')})`);
  }
  const depths = await dlqDepths(sqs, outputs);
  for (const [name, depth] of Object.entries(depths)) {
    const expected = expectedDlq[name] ?? 0;
    if (depth === expected) continue;
    const peeked = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: urls[name],
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
      }),
    );
    const bodies = (peeked.Messages ?? []).map((m) => `    ${(m.Body ?? '').slice(0, 500)}`);
    problems.push(`DLQ ${name} holds ${depth} message(s), expected ${expected}:\n${bodies.join('\n')}`);
  }
  return problems;
}

/** Which errors no expectation covers, and which expectations no error matched. */
export function errorProblems(errors: readonly string[], expectedErrors: readonly RegExp[] = []): string[] {
  const problems: string[] = [];
  const unexpected = errors.filter((e) => !expectedErrors.some((re) => re.test(e)));
  if (unexpected.length > 0) {
    problems.push(
      `${unexpected.length} unexpected handler error(s):\n${unexpected.map((e) => `    ${e.slice(0, 2000)}`).join('\n')}`,
    );
  }
  for (const re of expectedErrors) {
    if (!errors.some((e) => re.test(e)))
      problems.push(`expected a handler error matching ${re}, none was logged`);
  }
  return problems;
}

export interface DeployOptions {
  /** CDK context `sundown` (deployment configuration); synthesizes a dedicated assembly. */
  config?: Record<string, unknown>;
  /**
   * Puts something between Sundown's runtime (its handlers and pollers) and the emulator: given
   * the emulator's endpoint, returns the one the runtime uses (e.g. fault-proxy.ts). The test's own
   * clients and the deployment talk to the emulator directly.
   */
  interpose?: (endpoint: string) => Promise<string>;
}

/**
 * A deployed Sundown of this test file's own. The default configuration is a fork of the emulator
 * the global setup deployed the synthesized stack into (a process of its own, with its own state:
 * nothing another file does reaches it); a `config` is synthesized and deployed into a fresh
 * emulator.
 */
export async function deploySundown(options: DeployOptions = {}): Promise<Sundown> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const deployed = options.config ? undefined : inject('deployment');
  const emulator = deployed ? await forkEmulator(deployed.endpoint) : await startEmulator();
  const target: Target = { endpoint: emulator.endpoint, region: LOCAL_REGION, accountId: LOCAL_ACCOUNT };
  applyAwsEnv(target);
  try {
    const stack = deployed
      ? await describeDeployment(target, inject('assemblyDir'), deployed.stackName)
      : await deployStack({
          target,
          cloudAssemblyDir: await synthesizeCached({
            target,
            context: { sundown: JSON.stringify(options.config) },
          }),
        });
    // Handler errors are checked from here on: the runtime's reports and the captured log lines.
    let checkedFrom = capturedOutput().length;
    let failedRecordsChecked = 0;
    const runtimeTarget = options.interpose
      ? { ...target, endpoint: await options.interpose(target.endpoint) }
      : target;
    const runtime = await startLocalRuntime({
      target: runtimeTarget,
      stack,
      retryDelaySeconds: 0,
      pollIntervalMs: 20,
      // Idle queues are polled at most every 2 s (the default is 400 ms): each empty receive holds
      // the emulator, which serves one request at a time, so idle polling slowed every call a test
      // made. Nothing waits on it: putEvents and drain wake the pollers, and every handler that ran
      // wakes them too (it may have sent to their queues).
      maxPollIntervalMs: 2000,
      // Straight to the stream (Vitest intercepts console.*): the log-scan setup captures it and
      // shows it when a test fails (and always with SUNDOWN_TEST_VERBOSE).
      onError: (m: string) => {
        process.stderr.write(`${RUNTIME_ERROR_PREFIX}${m}\n`);
      },
    });
    const config = { endpoint: target.endpoint, region: target.region };
    const events = new EventBridgeClient(config);
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(config), {
      marshallOptions: { removeUndefinedValues: true },
    });
    const sqs = new SQSClient({ ...config, useQueueUrlAsEndpoint: false });
    const handlerErrors = () => {
      const errors = handlerErrorLines(checkedFrom);
      // Partial batch failures are not logged by the batch processor: count them from the runtime.
      const failed = runtime.stats().failed - failedRecordsChecked;
      if (failed > 0) {
        errors.push(`${RUNTIME_ERROR_PREFIX}${failed} SQS record(s) failed and went back to their queue`);
      }
      return errors;
    };
    const assertQuiet = async (expectations: QuietExpectations = {}) => {
      const problems: string[] = [];
      try {
        await runtime.drain();
      } catch (err) {
        problems.push(`the queues did not drain: ${(err as Error).message}`);
      }
      const errors = handlerErrors();
      checkedFrom = capturedOutput().length;
      failedRecordsChecked = runtime.stats().failed;
      problems.push(...errorProblems(errors, expectations.expectedErrors));
      problems.push(...(await dlqProblems(sqs, stack.outputs, expectations.expectedDlq)));
      if (problems.length > 0) {
        throw new Error(`the deployment is not quiet:\n  ${problems.join('\n  ')}`);
      }
    };
    return {
      emulator,
      target,
      stack,
      runtime,
      outputs: stack.outputs,
      iam: new IAMClient(config),
      ec2: new EC2Client(config),
      events,
      sqs,
      doc,
      registry: new CredentialRegistry(doc, stack.outputs.CredentialsTableName as string),
      audit: new AuditLog(doc, stack.outputs.AuditTableName as string, 'main'),
      async putEvents(entries) {
        for (let i = 0; i < entries.length; i += 10) {
          const res = await events.send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
          if (res.FailedEntryCount) throw new Error(`PutEvents refused ${res.FailedEntryCount} entries`);
        }
        runtime.wake();
      },
      drain: (timeoutMs) => {
        runtime.wake();
        return runtime.drain(timeoutMs);
      },
      assertQuiet,
      handlerErrors,
      dlqDepths: () => dlqDepths(sqs, stack.outputs),
      async stop(expectations) {
        try {
          await assertQuiet(expectations);
        } finally {
          await runtime.stop();
          await emulator.stop();
        }
      },
    };
  } catch (err) {
    await emulator.stop();
    throw err;
  }
}
