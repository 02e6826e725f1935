import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { parseSundownProps, type SundownConfig } from '../config.ts';
import { AuditSealing } from '../constructs/audit-sealing.ts';
import { BusPolicy } from '../constructs/bus-policy.ts';
import { RevocationCanary } from '../constructs/canary.ts';
import { DataTables } from '../constructs/data-tables.ts';
import { EventToQueue } from '../constructs/event-to-queue.ts';
import { HubIntake, hubEnvironment, hubRole, spokeAssumeStatement } from '../constructs/hub.ts';
import { ManagementEventsTrail } from '../constructs/management-trail.ts';
import { Monitoring } from '../constructs/monitoring.ts';
import { Reconciliation } from '../constructs/reconciliation.ts';
import { UseAfterRevoke } from '../constructs/use-after-revoke.ts';
import { SUNDOWN_BUS_CATCH_ALL, workloadEndPatterns, workloadStartPatterns } from '../event-patterns.ts';
import type { SundownProps } from '../sundown-props.ts';
import { coreFunctions } from './core-functions.ts';
import { coreOutputs, eventQueues } from './stack-parts.ts';

export interface SundownStackProps extends StackProps {
  readonly config: SundownConfig;
}

/** The audit chain base every function appends to (shards are `main#<k>`). */
const AUDIT_CHAIN = 'main';

/**
 * Sundown: triggers -> queues -> handlers -> registry, IAM, audit. One per stack (its bus, FIFO
 * queue and dashboard are named after the stack). Construct IDs are stable contracts: renaming
 * one replaces the resource.
 *
 * @example
 * const sundown = new Sundown(this, 'Sundown', { cloudTrail: 'existing', alarmEmails: ['ops@example.com'] });
 * trustSundownBroker(workersRole, sundown.brokerRole);
 */
export class Sundown extends Construct {
  /** The broker's execution role: what a role's trust policy names (see trustSundownBroker). */
  readonly brokerRole: iam.IRole;
  /** Sundown's own event bus (`Workload Ended` / `Credential Issued` in, audit events out). */
  readonly eventBus: events.IEventBus;
  /** A hub's bus, which its spokes forward their events to (only with the `hub` setting). */
  readonly hubEventBus?: events.IEventBus;

  constructor(scope: Construct, id: string, props: SundownProps = {}) {
    super(scope, id);
    const config = parseSundownProps(props);
    const stack = Stack.of(this);

    const key = new kms.Key(this, 'Key', {
      description: 'Sundown: encrypts the registry, audit trail and queues',
      enableKeyRotation: true,
    });
    const tables = new DataTables(this, 'Data', { encryptionKey: key });
    const bus = new events.EventBus(this, 'Bus', { eventBusName: `${stack.stackName}-bus` });
    this.eventBus = bus;

    // Queues. EventBridge must be able to encrypt into them.
    const { deliveryDlq, serviceEvents, busEvents, discoveryEvents, revocations } = eventQueues(this, key);

    // Triggers.
    new EventToQueue(this, 'EndTriggers', {
      patterns: workloadEndPatterns({ stoppedEndsWorkload: config.stoppedEndsWorkload }),
      queue: serviceEvents.queue,
      deliveryDlq,
    });
    // The Lambda triggers are CloudTrail events: EventBridge sees them only while a trail logs.
    if (config.cloudTrail === 'create') new ManagementEventsTrail(this, 'ManagementEvents');
    new EventToQueue(this, 'StartTriggers', {
      patterns: workloadStartPatterns(),
      queue: discoveryEvents.queue,
      deliveryDlq,
    });
    new EventToQueue(this, 'BusTriggers', {
      eventBus: bus,
      patterns: { SundownBusEvents: SUNDOWN_BUS_CATCH_ALL },
      queue: busEvents.queue,
      deliveryDlq,
    });

    // A hub (issue 19) also takes its spokes' ends, starts and requests, into the same queues.
    const hub = config.hub
      ? new HubIntake(this, 'Hub', {
          hub: config.hub,
          stoppedEndsWorkload: config.stoppedEndsWorkload,
          encryptionKey: key,
          serviceEvents: serviceEvents.queue,
          discoveryEvents: discoveryEvents.queue,
          busEvents: busEvents.queue,
        })
      : undefined;
    this.hubEventBus = hub?.bus;
    // Only the functions that reach into spokes read these (empty outside a hub).
    const hubEnv = hubEnvironment(config.hub);

    const common = {
      SUNDOWN_AUDIT_CHAIN: AUDIT_CHAIN,
      SUNDOWN_AUDIT_SHARDS: String(config.auditShards),
      SUNDOWN_ACCOUNT: stack.account,
      SUNDOWN_CREDENTIALS_TABLE: tables.credentials.tableName,
      SUNDOWN_REVOCATIONS_TABLE: tables.revocations.tableName,
      SUNDOWN_AUDIT_TABLE: tables.audit.tableName,
      SUNDOWN_EVENT_BUS: bus.eventBusName,
      SUNDOWN_DRY_RUN: String(config.dryRun),
      SUNDOWN_ALLOWLIST: JSON.stringify(config.allowlist),
      SUNDOWN_MAX_SESSION_HOURS: JSON.stringify(config.maxSessionHours),
      SUNDOWN_RETENTION_DAYS: String(config.retentionDays),
    };

    const { ended, started, revoker, broker } = coreFunctions(this, {
      config,
      common,
      hubEnv,
      tables,
      bus,
      queues: { serviceEvents, busEvents, discoveryEvents, revocations },
    });
    this.brokerRole = broker.role;

    coreOutputs(this, {
      bus,
      tables,
      broker,
      deliveryDlq,
      hub,
      queues: { serviceEvents, busEvents, discoveryEvents, revocations },
    });

    // --- Operations (issue 8): reconciliation sweep, alarms, dashboard. ---
    const reconciliation = new Reconciliation(this, 'Reconciliation', {
      config,
      encryptionKey: key,
      tables: [tables.credentials, tables.revocations, tables.audit],
      bus,
      deliveryDlq,
      revocationQueue: revocations.queue,
      environment: { ...common, ...hubEnv },
      sweeperRoleName: hubRole(config.hub, 'Sweeper'),
    });
    if (config.hub) {
      const hubFunctions = { WorkloadEnded: ended, WorkloadStarted: started, Revoker: revoker };
      for (const [name, fn] of Object.entries({ ...hubFunctions, Sweeper: reconciliation.sweeper })) {
        fn.role.addToPrincipalPolicy(
          spokeAssumeStatement(config.hub, name as keyof typeof hubFunctions | 'Sweeper', stack.partition),
        );
      }
    }
    // --- Audit at scale (issue 16): sealing of the sharded audit chains. ---
    const sealing = new AuditSealing(this, 'AuditSealing', {
      config,
      encryptionKey: key,
      auditTable: tables.audit,
      chain: AUDIT_CHAIN,
      deliveryDlq,
    });
    new CfnOutput(this, 'AuditShards', {
      value: String(config.auditShards),
      description: 'audit chains main#0..N-1 (sharded by workload) besides the legacy chain main',
    });
    new CfnOutput(this, 'AuditSealKeyArn', {
      value: sealing.key.keyArn,
      description: 'the KMS key that signs audit seals (GetPublicKey verifies them offline)',
    });
    new CfnOutput(this, 'AuditSealerFunctionName', { value: sealing.sealer.fn.functionName });
    new CfnOutput(this, 'AuditSealTicksDlqUrl', { value: sealing.ticks.deadLetterQueue.queueUrl });
    if (sealing.bucket) new CfnOutput(this, 'AuditSealBucketName', { value: sealing.bucket.bucketName });

    const monitoring = new Monitoring(this, 'Monitoring', {
      encryptionKey: key,
      alarmEmails: config.alarmEmails,
      timeToRevokeP99AlarmSeconds: config.timeToRevokeP99AlarmSeconds,
      dashboardName: `${stack.stackName}-operations`,
      queues: {
        ServiceEvents: serviceEvents.queue,
        BusEvents: busEvents.queue,
        DiscoveryEvents: discoveryEvents.queue,
        Revocations: revocations.queue,
        SweepTicks: reconciliation.ticks.queue,
        SealTicks: sealing.ticks.queue,
      },
      deadLetterQueues: {
        ServiceEvents: serviceEvents.deadLetterQueue,
        BusEvents: busEvents.deadLetterQueue,
        DiscoveryEvents: discoveryEvents.deadLetterQueue,
        Revocations: revocations.deadLetterQueue,
        EventDelivery: deliveryDlq,
        SweepTicks: reconciliation.ticks.deadLetterQueue,
        SealTicks: sealing.ticks.deadLetterQueue,
        ...(hub ? { HubEventDelivery: hub.deliveryDlq } : {}),
      },
      functions: {
        WorkloadEnded: ended,
        WorkloadStarted: started,
        Revoker: revoker,
        Broker: broker,
        Sweeper: reconciliation.sweeper,
        Sealer: sealing.sealer,
      },
    });
    new CfnOutput(this, 'SweeperFunctionName', { value: reconciliation.sweeper.fn.functionName });
    new CfnOutput(this, 'SweepTicksDlqUrl', { value: reconciliation.ticks.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: monitoring.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: `${stack.stackName}-operations` });

    // Use-after-revoke (issue 18): CloudTrail access-denied events by revoked sessions -> one alert each.
    const useAfterRevoke = new UseAfterRevoke(this, 'UseAfterRevoke', {
      encryptionKey: key,
      bus,
      deliveryDlq,
      revocations: tables.revocations,
      audit: tables.audit,
      environment: common,
      windowMinutes: config.useAfterRevokeWindowMinutes,
      allManagementEvents: config.useAfterRevokeReadOnlyEvents,
      alarmTopic: monitoring.topic,
      dashboard: monitoring.dashboard,
      cloudTrail: config.cloudTrail,
    });
    new CfnOutput(this, 'UseAfterRevokeDlqUrl', { value: useAfterRevoke.queue.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'UseAfterRevokeTopicArn', { value: useAfterRevoke.topic.topicArn });

    // The scheduled revocation canary (issue 18), only when enabled: nothing of it exists otherwise.
    const canary = config.canary.enabled
      ? new RevocationCanary(this, 'Canary', {
          config: config.canary,
          encryptionKey: key,
          bus,
          deliveryDlq,
          credentials: tables.credentials,
          audit: tables.audit,
          broker: broker.fn,
          brokerRole: broker.role,
          alarmTopic: monitoring.topic,
          dashboard: monitoring.dashboard,
        })
      : undefined;
    if (canary) {
      new CfnOutput(this, 'CanaryFunctionName', { value: canary.fn.fn.functionName });
      new CfnOutput(this, 'CanaryRoleArn', { value: canary.role.roleArn });
      new CfnOutput(this, 'CanaryTicksDlqUrl', { value: canary.ticks.deadLetterQueue.queueUrl });
    }

    // Last: the bus policy names every role that publishes audit events.
    new BusPolicy(this, 'BusPolicy', {
      bus,
      sundownRoles: [
        ended.role,
        started.role,
        revoker.role,
        broker.role,
        reconciliation.sweeper.role,
        useAfterRevoke.fn.role,
      ],
      publishers: config.eventPublishers,
      ...(canary ? { requesters: [canary.fn.role] } : {}),
    });
    // --- End of operations. ---
  }
}

/**
 * The Sundown deployment as a stack: bin/app.ts deploys this. Everything is in the `Sundown`
 * construct, added under the ID `Default`, which CDK leaves out of logical IDs: the resources keep
 * the logical IDs they had when the stack built them itself (test/infra/logical-ids.test.ts).
 */
export class SundownStack extends Stack {
  /** Everything Sundown deploys. */
  readonly sundown: Sundown;
  /** The broker's execution role: what a role's trust policy names (see trustSundownBroker). */
  readonly brokerRole: iam.IRole;

  constructor(scope: Construct, id: string, props: SundownStackProps) {
    super(scope, id, props);
    const { stackName: _stackName, ...settings } = props.config;
    this.sundown = new Sundown(this, 'Default', settings);
    this.brokerRole = this.sundown.brokerRole;
  }
}
