import {
  BootstraplessSynthesizer,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  HUB_FUNCTIONS,
  HUB_ROLE_PATH,
  type HubFunction,
  hubRoleName,
  roleArnOf,
  SPOKE_READER_ROLE_NAME,
  SPOKE_REVOKER_ROLE_NAME,
  SPOKE_ROLE_PATH,
  SUNDOWN_EVENT_SOURCE,
} from '../../lambdas/shared/contract.ts';
import { dlqNotEmptyAlarm } from '../constructs/dlq-alarm.ts';
import { workloadLookupStatements } from '../constructs/lookup-permissions.ts';
import { livenessStatements } from '../constructs/reconciliation.ts';
import { revocationStatements } from '../constructs/revocation-permissions.ts';
import { workloadEndPatterns, workloadStartPatterns } from '../event-patterns.ts';
import { parseSpokeSettings, type SpokePart } from './config.ts';

/** Settings of a `SundownSpoke`: where its hub is, and how the hub's principals are recognized. */
export interface SundownSpokeProps {
  /** The hub's account ID (12 digits). */
  readonly hubAccount: string;
  /** The hub's region: where its hub bus is. */
  readonly hubRegion: string;
  /**
   * The hub bus's name (`<hub stack name>-hub`, output `HubEventBusArn` of the hub).
   * @default 'Sundown-hub'
   */
  readonly hubEventBusName?: string;
  /**
   * The organization the hub account is in: the spoke roles then trust the hub's roles only while
   * they are in it (`aws:PrincipalOrgID`).
   * @default none
   */
  readonly organizationId?: string;
  /**
   * The `sts:ExternalId` the hub passes (the hub's `hub.externalId`); required by the spoke roles when set.
   * @default none
   */
  readonly externalId?: string;
  /**
   * Forward EC2 `stopped` events too (set it as on the hub: the hub's rules decide in the end).
   * @default false
   */
  readonly stoppedEndsWorkload?: boolean;
  /**
   * IAM is global, EventBridge regional: `roles` (the revoker and reader roles) once per account,
   * `forwarding` (the rules and their role) in every region with workloads, and us-east-1 (IAM and global
   * STS events). `all` is both, for an account that uses one region.
   * @default 'all'
   */
  readonly part?: SpokePart;
}

/**
 * Sundown in a workload account (issue 19): EventBridge rules on the account's default bus that
 * forward workload ends, starts and `sundown` requests to the hub's bus, and two roles the hub's
 * functions assume at `/sundown/`: SundownSpokeRevoker (the hub's Revoker only: the single-account
 * revoker's opt-in-tag-conditioned IAM writes, no Private CA) and SundownSpokeReader (the hub's four
 * functions: read-only lookups). Asset-free: no function, no custom resource, so the template deploys
 * with `cdk deploy`, as a StackSet, or straight through CloudFormation.
 */
export class SundownSpoke extends Construct {
  readonly revokerRole?: iam.Role;
  readonly readerRole?: iam.Role;
  readonly forwarderRole?: iam.Role;
  /** Events EventBridge could not deliver to the hub's bus after its retries (with the forwarding rules). */
  readonly forwardingDlq?: sqs.Queue;
  /** The forwarding rules, by pattern name. */
  readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: SundownSpokeProps) {
    super(scope, id);
    const settings = parseSpokeSettings(props);
    const { account, partition } = Stack.of(this);

    if (settings.part !== 'forwarding') {
      const hubRoleArn = (fn: HubFunction) =>
        roleArnOf(partition, settings.hubAccount, HUB_ROLE_PATH, hubRoleName(fn));
      // The hub account as principal, narrowed to the hub's roles by ARN (a role ARN as principal
      // would break silently when the hub role is re-created), to the organization and the external ID.
      const trustedHub = (fns: readonly HubFunction[]) =>
        new iam.AccountPrincipal(settings.hubAccount).withConditions({
          ArnEquals: { 'aws:PrincipalArn': fns.map(hubRoleArn) },
          ...(settings.organizationId || settings.externalId
            ? {
                StringEquals: {
                  ...(settings.organizationId ? { 'aws:PrincipalOrgID': settings.organizationId } : {}),
                  ...(settings.externalId ? { 'sts:ExternalId': settings.externalId } : {}),
                },
              }
            : {}),
        });

      this.revokerRole = new iam.Role(this, 'RevokerRole', {
        roleName: SPOKE_REVOKER_ROLE_NAME,
        path: SPOKE_ROLE_PATH,
        description:
          "Sundown: the hub's Revoker writes deny policies and deactivates keys of opted-in principals",
        assumedBy: trustedHub(['Revoker']),
      });
      const revocation = revocationStatements({
        partition,
        account,
        allowlist: [],
        certificateAuthorityArns: [],
      });
      for (const statement of revocation) this.revokerRole.addToPrincipalPolicy(statement);

      this.readerRole = new iam.Role(this, 'ReaderRole', {
        roleName: SPOKE_READER_ROLE_NAME,
        path: SPOKE_ROLE_PATH,
        description:
          "Sundown: the hub's functions look up workloads, principals and Sundown's policies (read-only)",
        assumedBy: trustedHub(HUB_FUNCTIONS),
      });
      const reads = [
        ...workloadLookupStatements(partition, account),
        // Lambda workloads may be in any region of the account; the role is global.
        ...livenessStatements({ partition, account, region: '*' }),
      ];
      for (const statement of reads) this.readerRole.addToPrincipalPolicy(statement);
    }

    if (settings.part !== 'roles') {
      const hubBusArn = `arn:${partition}:events:${settings.hubRegion}:${settings.hubAccount}:event-bus/${settings.hubEventBusName}`;
      // Cross-account bus targets need a role: one for every rule, allowed only PutEvents on the hub bus.
      this.forwarderRole = new iam.Role(this, 'ForwarderRole', {
        description: "Sundown: EventBridge forwards this account's workload events to the hub bus",
        assumedBy: new iam.ServicePrincipal('events.amazonaws.com').withConditions({
          StringEquals: { 'aws:SourceAccount': account },
        }),
      });
      // An event EventBridge cannot deliver to the hub (the hub bus gone, its policy refusing this
      // account) is kept here, not dropped: 14 days, alarmed, redriven with `aws events put-events`.
      this.forwardingDlq = new sqs.Queue(this, 'ForwardingDlq', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy: RemovalPolicy.RETAIN,
      });
      dlqNotEmptyAlarm(
        this,
        'ForwardingDlqAlarm',
        this.forwardingDlq,
        'Sundown spoke: workload events could not be forwarded to the hub; their revocations wait in the forwarding DLQ',
      );
      const target = new targets.EventBus(events.EventBus.fromEventBusArn(this, 'HubBus', hubBusArn), {
        role: this.forwarderRole,
        deadLetterQueue: this.forwardingDlq,
      });
      const groups = {
        Ends: workloadEndPatterns({ stoppedEndsWorkload: settings.stoppedEndsWorkload }),
        Starts: workloadStartPatterns(),
        Requests: { SundownRequests: { source: [SUNDOWN_EVENT_SOURCE] } },
      };
      for (const [group, patterns] of Object.entries(groups)) {
        const scope = new Construct(this, group);
        for (const [name, eventPattern] of Object.entries(patterns)) {
          this.rules.push(
            new events.Rule(scope, name, {
              description: `Sundown spoke: ${name} -> hub`,
              eventPattern,
              targets: [target],
            }),
          );
        }
      }
    }
  }
}

export interface SundownSpokeStackProps extends StackProps, SundownSpokeProps {}

/**
 * A `SundownSpoke` as a stack of its own, ready for StackSets: no CDK metadata resource, no
 * bootstrap version rule or parameter, no assets (`BootstraplessSynthesizer` refuses any), and
 * environment-agnostic unless `env` is given (account and region come from the pseudo parameters).
 */
export class SundownSpokeStack extends Stack {
  readonly spoke: SundownSpoke;

  constructor(scope: Construct, id: string, props: SundownSpokeStackProps) {
    super(scope, id, {
      description: 'Sundown spoke: forwards workload events to the Sundown hub, roles the hub assumes',
      ...props,
      synthesizer: props.synthesizer ?? new BootstraplessSynthesizer(),
      analyticsReporting: false,
    });
    this.spoke = new SundownSpoke(this, 'Default', props);
    if (this.spoke.revokerRole) {
      new CfnOutput(this, 'SpokeRevokerRoleArn', { value: this.spoke.revokerRole.roleArn });
    }
    if (this.spoke.readerRole) {
      new CfnOutput(this, 'SpokeReaderRoleArn', { value: this.spoke.readerRole.roleArn });
    }
    if (this.spoke.forwarderRole) {
      new CfnOutput(this, 'ForwarderRoleArn', { value: this.spoke.forwarderRole.roleArn });
    }
    if (this.spoke.forwardingDlq) {
      new CfnOutput(this, 'ForwardingDlqUrl', { value: this.spoke.forwardingDlq.queueUrl });
    }
  }
}
