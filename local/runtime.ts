/**
 * Runs a deployed Sundown stack's Lambda handlers in this process against the
 * emulator (moto cannot run Lambda without Docker). The event source mappings
 * are deleted from the emulator and replaced by pollers with Lambda's
 * semantics (see sqs-poller.ts); handlers get the template's environment,
 * resolved to the emulator's physical names.
 */
import { pathToFileURL } from 'node:url';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { applyAwsEnv, awsEnvFor, type Target } from './aws-env.ts';
import type { DeployedStack } from './deploy.ts';
import { queuesReached } from './event-rules.ts';
import type { FunctionUrlOptions } from './function-url.ts';
import { startInvokeServer } from './lambda-invoke-server.ts';
import { type ConsumerOptions, startQueueConsumers } from './queue-consumers.ts';
import { observeSends } from './send-observer.ts';
import { SIMULATOR_NOTE, simulatorProbe } from './simulator-probe.ts';
import type { Handler } from './sqs-poller.ts';
import { type LocalFunction, loadStackModel, type StackModel } from './stack-model.ts';

export interface RuntimeOptions extends ConsumerOptions {
  target: Target;
  stack: DeployedStack;
}

export interface LocalRuntime {
  readonly model: StackModel;
  /** Lambda Invoke API for the stack's functions (point AWS_ENDPOINT_URL_LAMBDA here). */
  readonly lambdaEndpoint: string;
  /** Handlers by function logical ID prefix (e.g. `Revoker`). */
  handlerFor(logicalIdPrefix: string): Handler;
  functionFor(logicalIdPrefix: string): LocalFunction;
  /** Polls every queue now (after sending to one from outside, as a long poll would return). */
  wake(): void;
  /**
   * Stops (or restarts) the polling of every queue the function consumes, as disabling its event
   * source mappings does on AWS: messages wait in the queue. `drain` skips paused queues.
   */
  setConsumerEnabled(logicalIdPrefix: string, enabled: boolean): void;
  /** Resolves once every source queue is empty and no handler is running. */
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  stats(): { invocations: number; received: number; failed: number };
}

export type { InvocationSpan } from './queue-consumers.ts';

export class RuntimeError extends Error {}

/** All functions share this process's environment, so variable names must not clash. */
function mergeEnvironments(functions: LocalFunction[]): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const fn of functions) {
    for (const [key, value] of Object.entries(fn.environment)) {
      if (key in merged && merged[key] !== value) {
        throw new RuntimeError(
          `environment variable ${key} differs between functions (${merged[key]} vs ${value}); give it distinct names`,
        );
      }
      merged[key] = value;
    }
  }
  return merged;
}

/**
 * Function URL authentication against the emulator: the principal of the signing key comes from STS
 * (GetCallerIdentity with that key: moto answers without checking a signature), and the signature is
 * re-computed for the local dummy key, whose secret the runtime knows.
 */
function functionUrlAuth(target: Target): FunctionUrlOptions {
  const local = awsEnvFor(target);
  return {
    async identify(accessKeyId, sessionToken) {
      const sts = new STSClient({
        endpoint: target.endpoint,
        region: target.region,
        credentials: {
          accessKeyId,
          secretAccessKey: 'unknown-to-the-runtime',
          ...(sessionToken ? { sessionToken } : {}),
        },
      });
      const id = await sts.send(new GetCallerIdentityCommand({}));
      if (!id.Arn || !id.Account || !id.UserId) return undefined;
      return { arn: id.Arn, account: id.Account, userId: id.UserId };
    },
    secretFor: (accessKeyId) =>
      accessKeyId === local.AWS_ACCESS_KEY_ID
        ? { accessKeyId, secretAccessKey: local.AWS_SECRET_ACCESS_KEY as string }
        : undefined,
  };
}

/**
 * A function that probes IAM itself (the revocation canary, lambdas/canary/handler.ts) exports
 * `withEmulatorProbe`: moto enforces no IAM, so it gets the IAM simulator's probe instead of a real
 * call (the simulator is a development dependency, loaded here and never bundled into a function),
 * says so in its reports, and calls function URLs served by this runtime.
 */
function emulatorVariant(mod: Record<string, unknown>, lambdaEndpoint: string): Handler | undefined {
  const make = mod.withEmulatorProbe;
  if (typeof make !== 'function') return undefined;
  const iam = new IAMClient({});
  return make({
    probe: (roleName: string) => simulatorProbe(iam, roleName),
    evaluation: 'simulator',
    note: SIMULATOR_NOTE,
    functionUrl: (functionName: string) =>
      new URL(`/lambda-url/${encodeURIComponent(functionName)}/`, lambdaEndpoint),
  }) as Handler;
}

export async function startLocalRuntime(options: RuntimeOptions): Promise<LocalRuntime> {
  const { target, stack } = options;
  applyAwsEnv(target);
  const model = await loadStackModel(target, stack.stackName, stack.template, stack.cloudAssemblyDir);
  Object.assign(process.env, mergeEnvironments(model.functions));

  // The emulator would try (and fail) to invoke mapped functions itself, on
  // every message sent, bumping receive counts until messages land in the DLQ.
  // Disable, not delete: moto 5.2 keeps a deleted mapping attached to the
  // queue, but skips disabled ones.
  const lambda = new LambdaClient({ endpoint: target.endpoint, region: target.region });
  for (const source of model.eventSources) {
    if (!source.uuid) continue;
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: source.uuid, Enabled: false }));
  }

  const handlers = new Map<string, Handler>();
  const invokeServer = await startInvokeServer(
    model.functions,
    (fn) => handlers.get(fn.logicalId) as Handler,
    target.region,
    target.accountId,
    functionUrlAuth(target),
  );
  for (const fn of model.functions) {
    const mod = (await import(pathToFileURL(fn.codeFile).href)) as Record<string, unknown>;
    const handler = mod[fn.exportName];
    if (typeof handler !== 'function')
      throw new RuntimeError(`${fn.codeFile} does not export ${fn.exportName}`);
    handlers.set(fn.logicalId, emulatorVariant(mod, invokeServer.endpoint) ?? (handler as Handler));
  }
  const sqs = new SQSClient({ endpoint: target.endpoint, region: target.region });
  const stats = { invocations: 0, received: 0, failed: 0 };
  const paused = new Set<string>();
  const consumers = startQueueConsumers({
    model,
    handlers,
    sqs,
    region: target.region,
    options,
    stats,
    paused,
  });
  // A message sent, or an event put, in this process is received at once, as Lambda's
  // long-polling pollers do.
  const stopObserving = observeSends({
    queue: consumers.wakeQueue,
    events: (entries) => {
      for (const queueName of queuesReached(model.queueRules, entries)) consumers.wakeQueue(queueName);
    },
  });

  const queueIsEmpty = async (queueUrl: string) => {
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const a = attrs.Attributes ?? {};
    const visible = Number(a.ApproximateNumberOfMessages ?? 0);
    // Sent from outside this process (a CLI, another tool): its poller may be idle; as a long poll
    // would, it receives them now.
    if (visible > 0) consumers.wakeQueue(queueUrl.slice(queueUrl.lastIndexOf('/') + 1));
    return visible + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) === 0;
  };

  const byPrefix = (prefix: string) => {
    const fn = model.functions.find((f) => f.logicalId.startsWith(prefix));
    if (!fn) throw new RuntimeError(`no function whose logical ID starts with ${prefix}`);
    return fn;
  };

  return {
    model,
    lambdaEndpoint: invokeServer.endpoint,
    functionFor: byPrefix,
    setConsumerEnabled(prefix, enabled) {
      const { logicalId } = byPrefix(prefix);
      if (enabled) paused.delete(logicalId);
      else paused.add(logicalId);
    },
    handlerFor(prefix) {
      return handlers.get(byPrefix(prefix).logicalId) as Handler;
    },
    async drain(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let quietChecks = 0;
      while (quietChecks < 2) {
        if (Date.now() > deadline) throw new RuntimeError(`queues did not drain within ${timeoutMs} ms`);
        const polled = model.eventSources.filter((s) => !paused.has(s.functionLogicalId));
        const empty = (await Promise.all(polled.map((s) => queueIsEmpty(s.queueUrl)))).every(Boolean);
        // A handler sends follow-up messages before its own are deleted, so
        // all-queues-empty twice in a row means the pipeline is idle.
        quietChecks = empty ? quietChecks + 1 : 0;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      stopObserving();
      await consumers.stop();
      await invokeServer.close();
    },
    wake: consumers.wake,
    stats: () => ({ ...stats }),
  };
}
