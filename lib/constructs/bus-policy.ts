import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface BusPolicyProps {
  readonly bus: events.EventBus;
  /** Sundown's own function roles: the only publishers of `sundown.audit` events. */
  readonly sundownRoles: readonly iam.IRole[];
  /**
   * Principals (role/user ARNs) allowed to put `sundown` events. Empty: any
   * principal of this account whose IAM policies allow events:PutEvents.
   */
  readonly publishers: readonly string[];
  /**
   * Sundown's own roles that put `sundown` requests (the canary ends its workloads): allowed past
   * the `publishers` restriction, never to publish audit events.
   */
  readonly requesters?: readonly iam.IRole[];
}

/**
 * Who may put what on Sundown's bus, enforced by the bus itself:
 * - only sources `sundown` (requests) and `sundown.audit` (Sundown's own audit events);
 * - `sundown.audit` only from Sundown's roles (nobody can forge an audit event);
 * - with `publishers` configured, `sundown` only from those principals and Sundown's roles.
 * Cross-account publishers are allowed explicitly; everything else is denied.
 */
export class BusPolicy extends Construct {
  constructor(scope: Construct, id: string, props: BusPolicyProps) {
    super(scope, id);
    const roleArns = props.sundownRoles.map((r) => r.roleArn);
    const statements = [
      new iam.PolicyStatement({
        sid: 'OnlySundownSources',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [props.bus.eventBusArn],
        conditions: { StringNotEquals: { 'events:source': ['sundown', 'sundown.audit'] } },
      }),
      new iam.PolicyStatement({
        sid: 'AuditEventsOnlyFromSundown',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [props.bus.eventBusArn],
        conditions: {
          StringEquals: { 'events:source': 'sundown.audit' },
          ArnNotEquals: { 'aws:PrincipalArn': roleArns },
        },
      }),
    ];
    if (props.publishers.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'RequestsOnlyFromConfiguredPublishers',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['events:PutEvents'],
          resources: [props.bus.eventBusArn],
          conditions: {
            ArnNotEquals: {
              'aws:PrincipalArn': [
                ...props.publishers,
                ...roleArns,
                ...(props.requesters ?? []).map((r) => r.roleArn),
              ],
            },
          },
        }),
        new iam.PolicyStatement({
          sid: 'AllowConfiguredPublishers',
          principals: props.publishers.map((arn) => new iam.ArnPrincipal(arn)),
          actions: ['events:PutEvents'],
          resources: [props.bus.eventBusArn],
          conditions: { StringEquals: { 'events:source': 'sundown' } },
        }),
      );
    }
    for (const [i, statement] of statements.entries()) {
      new events.CfnEventBusPolicy(this, `Statement${i}`, {
        eventBusName: props.bus.eventBusName,
        statementId: statement.sid as string,
        statement: statement.toStatementJson(),
      });
    }
  }
}
