import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  HUB_ROLE_PATH,
  type HubFunction,
  hubRoleName,
  roleArnOf,
  SPOKE_READER_ROLE_NAME,
  SPOKE_REVOKER_ROLE_NAME,
  SPOKE_ROLE_PATH,
} from '../../lambdas/shared/contract.ts';
import type { SundownConfig } from '../config.ts';
import { HUB_BUS_REQUESTS, workloadEndPatterns, workloadStartPatterns } from '../event-patterns.ts';
import { EventToQueue } from './event-to-queue.ts';
import type { FixedRoleName } from './sundown-function.ts';

/** A hub's settings (the `hub` setting, validated). */
export type HubConfig = NonNullable<SundownConfig['hub']>;

export interface HubIntakeProps {
  readonly hub: HubConfig;
  readonly stoppedEndsWorkload: boolean;
  readonly encryptionKey: kms.IKey;
  /** Where ends, starts and `sundown` requests from spokes go: the queues of the account's own triggers. */
  readonly serviceEvents: sqs.IQueue;
  readonly discoveryEvents: sqs.IQueue;
  readonly busEvents: sqs.IQueue;
}

/**
 * What a hub receives from its spokes: a bus of its own (`<stack>-hub`) that only the admitted
 * accounts may put events on, and rules that send the forwarded ends, starts and `sundown` requests
 * into the same queues the account's own triggers use. The rules do not filter by `account`: an
 * event from an account the hub does not serve reaches the handler, which rejects and audits it.
 * Its own delivery DLQ: SQS caps a queue policy at 20 statements, and the account's rules nearly fill it.
 */
export class HubIntake extends Construct {
  readonly bus: events.EventBus;
  readonly deliveryDlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: HubIntakeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `${stack.stackName}-hub` });
    this.deliveryDlq = new sqs.Queue(this, 'DeliveryDlq', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    new events.CfnEventBusPolicy(this, 'BusPolicy', {
      eventBusName: this.bus.eventBusName,
      statementId: 'SpokesPutEvents',
      statement: hubBusStatement(props.hub, this.bus.eventBusArn).toStatementJson(),
    });

    const groups = [
      [
        'EndTriggers',
        workloadEndPatterns({ stoppedEndsWorkload: props.stoppedEndsWorkload }),
        props.serviceEvents,
      ],
      ['StartTriggers', workloadStartPatterns(), props.discoveryEvents],
      ['RequestTriggers', { SundownRequests: HUB_BUS_REQUESTS }, props.busEvents],
    ] as const;
    for (const [name, patterns, queue] of groups) {
      new EventToQueue(this, name, {
        eventBus: this.bus,
        patterns,
        queue,
        deliveryDlq: this.deliveryDlq,
        oneStatementPerQueue: true,
      });
    }
  }
}

/**
 * The hub bus's one statement: `events:PutEvents` for the organization's principals
 * (`aws:PrincipalOrgID`) or the listed accounts; with both, the listed accounts, only while in the
 * organization. One statement whatever the number of accounts (the bus policy is capped at 10 KB).
 */
export function hubBusStatement(hub: HubConfig, busArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'SpokesPutEvents',
    principals: hub.accounts
      ? hub.accounts.map((account) => new iam.AccountPrincipal(account))
      : [new iam.AnyPrincipal()],
    actions: ['events:PutEvents'],
    resources: [busArn],
    ...(hub.organizationId
      ? { conditions: { StringEquals: { 'aws:PrincipalOrgID': hub.organizationId } } }
      : {}),
  });
}

/** The fixed name of a hub function's role (`/sundown/SundownHub-<Function>`), or none outside a hub. */
export function hubRole(hub: HubConfig | undefined, fn: HubFunction): FixedRoleName | undefined {
  return hub ? { name: hubRoleName(fn), path: HUB_ROLE_PATH } : undefined;
}

/**
 * The spoke roles a hub function may assume: the Revoker the spoke revoker and reader roles, the
 * others the reader role only. Listed accounts are named; with only an organization, any account
 * (`*`) whose owner is in it (`aws:ResourceOrgID`).
 */
export function spokeAssumeStatement(
  hub: HubConfig,
  fn: HubFunction,
  partition: string,
): iam.PolicyStatement {
  const names =
    fn === 'Revoker' ? [SPOKE_REVOKER_ROLE_NAME, SPOKE_READER_ROLE_NAME] : [SPOKE_READER_ROLE_NAME];
  const accounts = hub.accounts ?? ['*'];
  return new iam.PolicyStatement({
    sid: fn === 'Revoker' ? 'AssumeSpokeRevokerAndReader' : 'AssumeSpokeReader',
    actions: ['sts:AssumeRole'],
    resources: accounts.flatMap((account) =>
      names.map((name) => roleArnOf(partition, account, SPOKE_ROLE_PATH, name)),
    ),
    ...(hub.organizationId
      ? { conditions: { StringEquals: { 'aws:ResourceOrgID': hub.organizationId } } }
      : {}),
  });
}

/**
 * The environment a hub function reads (lambdas/shared/runtime-config.ts): the spoke accounts it
 * serves (JSON: the listed IDs, or "organization") and the external ID. Empty outside a hub.
 */
export function hubEnvironment(hub: HubConfig | undefined): Record<string, string> {
  if (!hub) return {};
  return {
    SUNDOWN_SPOKE_ACCOUNTS: JSON.stringify(hub.accounts ?? 'organization'),
    ...(hub.externalId ? { SUNDOWN_SPOKE_EXTERNAL_ID: hub.externalId } : {}),
  };
}
