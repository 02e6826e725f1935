/**
 * The core pipeline's four functions: WorkloadEnded (ends -> revocation requests), WorkloadStarted
 * (starts -> registry), Revoker (the FIFO queue -> IAM, keys, certificates) and Broker (issues
 * credentials, recorded first), each with the queues it consumes and only the permissions it uses.
 * Created in the Sundown construct's scope, so their construct IDs (and logical IDs) are unchanged.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { SundownSettings } from '../config.ts';
import { grantBrokerPermissions } from '../constructs/broker-permissions.ts';
import { addBrokerUrl } from '../constructs/broker-url.ts';
import type { DataTables } from '../constructs/data-tables.ts';
import { hubRole } from '../constructs/hub.ts';
import { grantWorkloadLookups } from '../constructs/lookup-permissions.ts';
import { RevocationPermissions } from '../constructs/revocation-permissions.ts';
import { SundownFunction } from '../constructs/sundown-function.ts';
import { EVENT_FUNCTION_TIMEOUT, type eventQueues, REVOKER_TIMEOUT } from './stack-parts.ts';

/**
 * Workload ends per WorkloadEnded invocation, and how long Lambda may wait to fill a batch. Each
 * batch sends one revocation message per role, so the batch size bounds the IAM writes of a burst:
 * at 100, 1,000 ends on 10 roles took 10 batches and 100 writes; at 1,000 one or two batches and
 * 10-20 (bench/results). A batch never waits past the window, and Lambda cuts it at 6 MB.
 */
const ENDED_BATCH_SIZE = 1000;
const ENDED_BATCHING_WINDOW = Duration.seconds(1);

type Queues = ReturnType<typeof eventQueues>;

export interface CoreFunctionsProps {
  config: SundownSettings;
  /** The environment every function gets (tables, bus, audit chain, limits). */
  common: Record<string, string>;
  /** A hub's spoke settings, for the functions that reach into spokes (empty outside a hub). */
  hubEnv: Record<string, string>;
  tables: DataTables;
  bus: events.IEventBus;
  queues: Pick<Queues, 'serviceEvents' | 'busEvents' | 'discoveryEvents' | 'revocations'>;
}

export function coreFunctions(scope: Construct, props: CoreFunctionsProps) {
  const { config, common, hubEnv, tables, bus } = props;
  const { serviceEvents, busEvents, discoveryEvents, revocations } = props.queues;
  const stack = Stack.of(scope);
  const ended = new SundownFunction(scope, 'WorkloadEnded', {
    handlerDir: 'workload-ended',
    description: 'Sundown: workload-end events -> revocation requests',
    timeout: EVENT_FUNCTION_TIMEOUT,
    environment: {
      ...common,
      SUNDOWN_REVOCATION_QUEUE_URL: revocations.queue.queueUrl,
      SUNDOWN_BUS_QUEUE_ARN: busEvents.queue.queueArn,
      SUNDOWN_STOPPED_ENDS_WORKLOAD: String(config.stoppedEndsWorkload),
      ...hubEnv,
    },
    roleName: hubRole(config.hub, 'WorkloadEnded'),
  });
  // Ends are handled in batches (one registry read, one revocation message per role per batch):
  // Lambda gathers up to 100 events for at most one second before invoking.
  ended.consume(serviceEvents.queue, {
    batchSize: ENDED_BATCH_SIZE,
    maxBatchingWindow: ENDED_BATCHING_WINDOW,
  });
  ended.consume(busEvents.queue, { batchSize: ENDED_BATCH_SIZE, maxBatchingWindow: ENDED_BATCHING_WINDOW });

  const started = new SundownFunction(scope, 'WorkloadStarted', {
    handlerDir: 'workload-started',
    description: 'Sundown: workload-start events -> credential registry',
    timeout: EVENT_FUNCTION_TIMEOUT,
    environment: { ...common, ...hubEnv },
    roleName: hubRole(config.hub, 'WorkloadStarted'),
  });
  started.consume(discoveryEvents.queue, { batchSize: 10 });

  const revoker = new SundownFunction(scope, 'Revoker', {
    handlerDir: 'revoker',
    description: 'Sundown: renders deny policies, deactivates keys, revokes certificates',
    timeout: REVOKER_TIMEOUT,
    environment: {
      ...common,
      SUNDOWN_REVOCATION_MAX_RECEIVE: String(revocations.maxReceiveCount),
      ...hubEnv,
    },
    roleName: hubRole(config.hub, 'Revoker'),
  });
  revoker.consume(revocations.queue, { batchSize: 10 });

  const broker = new SundownFunction(scope, 'Broker', {
    handlerDir: 'broker',
    description: 'Sundown: issues role sessions and certificates to workloads, recorded before returned',
    timeout: Duration.seconds(30),
    environment: {
      ...common,
      SUNDOWN_BROKER_MAX_DURATION_SECONDS: String(config.brokerMaxDurationSeconds),
      SUNDOWN_CA_ARNS: JSON.stringify(config.certificateAuthorityArns),
    },
  });
  addBrokerUrl(broker.fn, config.brokerCallers);

  // Each function gets only the tables it uses.
  const uses = [
    [ended, [tables.credentials, tables.revocations, tables.audit]],
    [started, [tables.credentials, tables.audit]],
    [revoker, [tables.credentials, tables.revocations, tables.audit]],
    [broker, [tables.credentials, tables.audit]],
  ] as const;
  for (const [fn, used] of uses) {
    for (const table of used) table.grantReadWriteData(fn.fn);
    bus.grantPutEventsTo(fn.fn); // audit events
  }
  revocations.queue.grantSendMessages(ended.fn);
  grantWorkloadLookups(ended.role);
  grantWorkloadLookups(started.role);
  grantBrokerPermissions({
    role: broker.role,
    allowlist: config.allowlist,
    certificateAuthorityArns: config.certificateAuthorityArns,
  });
  broker.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadOptInTags',
      actions: ['iam:GetRole'],
      resources: [`arn:${stack.partition}:iam::${stack.account}:role/*`],
    }),
  );
  new RevocationPermissions(scope, 'RevokerPermissions', {
    role: revoker.role,
    allowlist: config.allowlist,
    certificateAuthorityArns: config.certificateAuthorityArns,
  });

  return { ended, started, revoker, broker };
}
