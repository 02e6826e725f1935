/**
 * The benchmark's environment: one emulator, the counting proxy in front of
 * it, the real Sundown stack deployed from the synthesized CDK app, and the
 * local runtime (Sundown's bundled handlers in process, with Lambda's SQS
 * semantics) whose every AWS call goes through the proxy.
 */
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import {
  LambdaClient,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RETRY } from '../lambdas/shared/clients.ts';
import { applyAwsEnv, LOCAL_ACCOUNT, LOCAL_REGION, type Target } from '../local/aws-env.ts';
import { type DeployedStack, deployStack, PROJECT_ROOT, synthesize } from '../local/deploy.ts';
import { type Emulator, startEmulator } from '../local/emulator.ts';
import { type InvocationSpan, type LocalRuntime, startLocalRuntime } from '../local/runtime.ts';
import type { StackModel } from '../local/stack-model.ts';
import { emulatorPid } from './process-cpu.ts';
import { BENCH_USER_AGENT, NAIVE_USER_AGENT } from './proxy.ts';
import { type CountingProxy, startProxy } from './proxy-client.ts';

/** The emulator (with the speed-ups every use of it gets: local/moto_speedups.py). */
function startPatchedEmulator(): Promise<Emulator> {
  return startEmulator();
}

export interface BenchClients {
  iam: IAMClient;
  ec2: EC2Client;
  events: EventBridgeClient;
  sqs: SQSClient;
  doc: DynamoDBDocumentClient;
}

export interface BenchEnvironment {
  emulator: Emulator;
  emulatorPid: number | undefined;
  proxy: CountingProxy;
  /** Points at the proxy: every call made through it is counted. */
  target: Target;
  stack: DeployedStack;
  /** The running local runtime (replaced by `resumeRuntime`). */
  runtime(): LocalRuntime;
  /** Stops Sundown's pollers (while the baseline runs, so they neither compete nor count). */
  pauseRuntime(): Promise<void>;
  resumeRuntime(): Promise<void>;
  /** The bench's own clients, tagged with the bench user agent so their calls are told apart. */
  clients: BenchClients;
  /** Errors reported by the local runtime (handler throws, polling failures). */
  runtimeErrors: string[];
  /** Every handler invocation of the local runtime, as it ended. */
  invocations: InvocationSpan[];
  /** Queue URLs the runtime consumes (Sundown's pipeline), the FIFO revocation queue first. */
  sourceQueueUrls: string[];
  /** The deployed stack's functions and event sources, as the local runtime read them. */
  model: StackModel;
  stop(): Promise<void>;
}

/** `credentials`: sign as another account (moto: assumed-role credentials act in the role's account). */
export function benchClients(
  target: Target,
  userAgent = BENCH_USER_AGENT,
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): BenchClients {
  const config = {
    endpoint: target.endpoint,
    region: target.region,
    customUserAgent: userAgent,
    credentials,
    // Sundown's own retry policy: under IAM throttling (a rationed scenario) the baseline retries
    // as patiently as Sundown does.
    ...RETRY,
  };
  return {
    iam: new IAMClient(config),
    ec2: new EC2Client(config),
    events: new EventBridgeClient(config),
    sqs: new SQSClient({ ...config, useQueueUrlAsEndpoint: false }),
    doc: DynamoDBDocumentClient.from(new DynamoDBClient(config), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  };
}

/** Clients of the naive baseline: counted as its own calls. */
export function naiveClients(target: Target): BenchClients {
  return benchClients(target, NAIVE_USER_AGENT);
}

/** A deployment other than the default single-account one (the multi-account scenarios' hub). */
export interface BenchDeployOptions {
  /** CDK context `sundown` (deployment configuration), e.g. `{ hub: { accounts: [...] } }`. */
  config?: Record<string, unknown>;
  /** Where to synthesize (default `cdk.out/bench-assembly`). */
  outDir?: string;
}

/**
 * `assemblyDir`: deploy this already synthesized cloud assembly instead of
 * synthesizing the app (for iterating on the bench; a results file records it).
 */
export async function startBenchEnvironment(
  log: (line: string) => void,
  assemblyDir?: string,
  options: BenchDeployOptions = {},
): Promise<BenchEnvironment> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const emulator = await startPatchedEmulator();
  const proxy = await startProxy(emulator.endpoint).catch(async (err) => {
    await emulator.stop();
    throw err;
  });
  const direct: Target = { endpoint: emulator.endpoint, region: LOCAL_REGION, accountId: LOCAL_ACCOUNT };
  const target: Target = { ...direct, endpoint: proxy.endpoint };
  applyAwsEnv(target);
  try {
    let cloudAssemblyDir = assemblyDir;
    if (!cloudAssemblyDir) {
      log('synthesizing the CDK app (cdk synth)...');
      cloudAssemblyDir = await synthesize({
        target: direct,
        outDir: options.outDir ?? path.join(PROJECT_ROOT, 'cdk.out', 'bench-assembly'),
        context: options.config ? { sundown: JSON.stringify(options.config) } : undefined,
      });
    }
    log('deploying it into the emulator (cdk bootstrap + cdk deploy --method=direct)...');
    const stack = await deployStack({ target: direct, cloudAssemblyDir });
    await disableEmulatorEventSourceMappings(direct);
    const runtimeErrors: string[] = [];
    const invocations: InvocationSpan[] = [];
    // Defaults of the local runtime (idle queues polled at most once a second, woken by what this
    // process sends or puts), so the numbers match `sundown local`.
    const start = () =>
      startLocalRuntime({
        target,
        stack,
        retryDelaySeconds: 1,
        onError: (message) => runtimeErrors.push(message),
        onInvocation: (span) => invocations.push(span),
      });
    let runtime: LocalRuntime | undefined = await start();
    // The FIFO revocation queue first: it is the last to empty, so a busy check costs one call.
    const sourceQueueUrls = runtime.model.eventSources
      .map((s) => s.queueUrl)
      .sort((a, b) => Number(b.endsWith('.fifo')) - Number(a.endsWith('.fifo')));
    return {
      emulator,
      emulatorPid: emulatorPid(emulator.port),
      proxy,
      target,
      stack,
      runtime: () => {
        if (!runtime) throw new Error('the local runtime is paused');
        return runtime;
      },
      async pauseRuntime() {
        await runtime?.stop();
        runtime = undefined;
      },
      async resumeRuntime() {
        runtime ??= await start();
      },
      clients: benchClients(target),
      runtimeErrors,
      invocations,
      sourceQueueUrls,
      model: runtime.model,
      async stop() {
        await runtime?.stop();
        await proxy.stop();
        await emulator.stop();
      },
    };
  } catch (err) {
    await proxy.stop();
    await emulator.stop();
    throw err;
  }
}

/**
 * Works around an emulator bug that loses messages under bursts. The local
 * runtime deletes the stack's event source mappings (it polls the queues
 * itself), but moto's DeleteEventSourceMapping leaves the mapping attached to
 * the queue: every SendMessage then makes moto receive up to a batch of
 * visible messages, fail to invoke the function (no Docker) and release them,
 * and each of those receives counts toward the redrive policy's
 * maxReceiveCount (5), so older messages move to the DLQ unprocessed.
 * moto skips disabled mappings, so disable them before the runtime deletes them.
 */
async function disableEmulatorEventSourceMappings(target: Target): Promise<void> {
  const lambda = new LambdaClient({ endpoint: target.endpoint, region: target.region });
  const res = await lambda.send(new ListEventSourceMappingsCommand({}));
  for (const m of res.EventSourceMappings ?? []) {
    if (m.UUID) await lambda.send(new UpdateEventSourceMappingCommand({ UUID: m.UUID, Enabled: false }));
  }
}

/**
 * Waits until every queue is empty (visible + in flight) on two checks in a
 * row, with the bench's own (uncounted) client. Like `runtime.drain`, but
 * cheap, so waiting does not load the one-request-at-a-time emulator: a check
 * every `intervalMs`, queue by queue, stopping at the first non-empty one
 * (pass the busiest queue first).
 */
export async function drainQueues(
  sqs: SQSClient,
  queueUrls: readonly string[],
  options: { timeoutMs?: number; intervalMs?: number; busy?: () => boolean } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 1_800_000);
  const interval = options.intervalMs ?? 500;
  const isEmpty = async (QueueUrl: string) => {
    const res = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const a = res.Attributes ?? {};
    return (
      Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) === 0
    );
  };
  let quiet = 0;
  while (quiet < 2) {
    if (Date.now() > deadline)
      throw new Error(`queues did not drain within ${options.timeoutMs ?? 1_800_000} ms`);
    await new Promise((r) => setTimeout(r, interval));
    let empty = !(options.busy?.() ?? false);
    for (const url of queueUrls) {
      if (!empty) break;
      empty = await isEmpty(url);
    }
    quiet = empty ? quiet + 1 : 0;
  }
}
