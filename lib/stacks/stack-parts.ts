/**
 * Parts of the Sundown construct (sundown-stack.ts) written out as functions that create their
 * resources directly under the construct's own scope, so every construct ID, and with it every
 * logical ID, stays what it was (test/infra/logical-ids.test.ts).
 */
import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { DataTables } from '../constructs/data-tables.ts';
import type { HubIntake } from '../constructs/hub.ts';
import { QueueWithDlq } from '../constructs/queue-with-dlq.ts';
import type { SundownFunction } from '../constructs/sundown-function.ts';

/** Function timeouts; queue visibility timeouts are 6x these (Lambda's guidance). */
export const EVENT_FUNCTION_TIMEOUT = Duration.seconds(60);
export const REVOKER_TIMEOUT = Duration.seconds(120);

/** The event queues (with their DLQs), the rules' delivery DLQ, and the key policy EventBridge needs. */
export function eventQueues(scope: Construct, key: kms.Key) {
  const deliveryDlq = new sqs.Queue(scope, 'EventDeliveryDlq', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // The event queues: consumed by the 60 s event functions.
  const eventQueue = (id: string) =>
    new QueueWithDlq(scope, id, {
      encryptionKey: key,
      visibilityTimeout: Duration.seconds(EVENT_FUNCTION_TIMEOUT.toSeconds() * 6),
    });
  const serviceEvents = eventQueue('ServiceEvents');
  const busEvents = eventQueue('BusEvents');
  const discoveryEvents = eventQueue('DiscoveryEvents');
  const revocations = new QueueWithDlq(scope, 'Revocations', {
    encryptionKey: key,
    visibilityTimeout: Duration.seconds(REVOKER_TIMEOUT.toSeconds() * 6),
    fifoQueueName: `${Stack.of(scope).stackName}-revocations.fifo`,
  });
  // EventBridge encrypts into the queues; only on behalf of rules in this account.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'EventBridgeDeliversIntoSundownQueues',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
  );
  return { deliveryDlq, serviceEvents, busEvents, discoveryEvents, revocations };
}

export interface CoreOutputsProps {
  bus: events.IEventBus;
  tables: DataTables;
  broker: SundownFunction;
  deliveryDlq: sqs.IQueue;
  hub: HubIntake | undefined;
  queues: Record<'serviceEvents' | 'busEvents' | 'discoveryEvents' | 'revocations', QueueWithDlq>;
}

/** The stack outputs the CLI, the local runtime and operators read (public contract: names kept). */
export function coreOutputs(scope: Construct, props: CoreOutputsProps): void {
  const { bus, tables, broker, deliveryDlq, hub, queues } = props;
  new CfnOutput(scope, 'EventBusName', { value: bus.eventBusName, description: "Sundown's own event bus" });
  new CfnOutput(scope, 'CredentialsTableName', { value: tables.credentials.tableName });
  new CfnOutput(scope, 'RevocationsTableName', { value: tables.revocations.tableName });
  new CfnOutput(scope, 'AuditTableName', { value: tables.audit.tableName });
  new CfnOutput(scope, 'BrokerFunctionName', { value: broker.fn.functionName });
  new CfnOutput(scope, 'BrokerRoleArn', {
    value: broker.role.roleArn,
    description:
      "the broker's role: target roles trust it (trustSundownBroker in lib/constructs/broker-trust.ts)",
  });
  new CfnOutput(scope, 'RevocationQueueUrl', { value: queues.revocations.queue.queueUrl });
  for (const [name, q] of Object.entries(queues)) {
    const label = name.charAt(0).toUpperCase() + name.slice(1);
    new CfnOutput(scope, `${label}DlqUrl`, { value: q.deadLetterQueue.queueUrl });
  }
  new CfnOutput(scope, 'EventDeliveryDlqUrl', { value: deliveryDlq.queueUrl });
  if (hub) {
    new CfnOutput(scope, 'HubEventBusArn', {
      value: hub.bus.eventBusArn,
      description: 'the hub bus: each SundownSpoke forwards its events here',
    });
    new CfnOutput(scope, 'HubEventDeliveryDlqUrl', { value: hub.deliveryDlq.queueUrl });
  }
}
