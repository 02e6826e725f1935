import { App, Stack, Tags } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { trustSundownBroker } from '../../lib/constructs/broker-trust.ts';
import { SundownPreflight, suppressPreflight } from '../../lib/preflight/aspect.ts';

const BROKER = 'arn:aws:iam::123456789012:role/Sundown-BrokerFunctionServiceRole';

function workloadStack(configure: (stack: Stack, role: iam.Role) => void = () => {}) {
  const app = new App();
  const stack = new Stack(app, 'Workloads', { env: { account: '123456789012', region: 'us-east-1' } });
  const role = new iam.Role(stack, 'JobRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  new lambda.Function(stack, 'Job', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
    role,
  });
  configure(stack, role);
  return { app, stack, role };
}

const preflight = (id: string) => Match.stringLikeRegexp(`^\\[sundown-preflight ${id}\\]`);

describe('SundownPreflight aspect', () => {
  it('fails synth with an error on a workload role that is not opted in', () => {
    // Prepare
    const { app, stack } = workloadStack();
    // Act
    SundownPreflight.applyTo(app);
    // Assess
    const errors = Annotations.fromStack(stack).findError('*', preflight('workload-role-not-opted-in'));
    expect(errors).toHaveLength(1);
    expect(errors[0]?.id).toBe('/Workloads/JobRole/Resource');
  });

  it('sees tags added by Tags.of on the role itself, and the broker trust trustSundownBroker adds', () => {
    // Prepare
    const { app, stack } = workloadStack((_, role) => {
      Tags.of(role).add('sundown:revoke', 'enabled');
      trustSundownBroker(role, BROKER);
    });
    // Act
    SundownPreflight.applyTo(app, { brokerRoleArn: BROKER });
    // Assess
    expect(Annotations.fromStack(stack).findError('*', preflight('.*'))).toEqual([]);
    expect(Annotations.fromStack(stack).findWarning('*', preflight('.*'))).toEqual([]);
  });

  it('reports findings below failOn as warnings', () => {
    // Prepare
    const { app, stack } = workloadStack((s, role) => {
      Tags.of(s).add('sundown:revoke', 'enabled');
      (role.node.defaultChild as iam.CfnRole).maxSessionDuration = 7200;
    });
    // Act
    SundownPreflight.applyTo(app, { failOn: 'error' });
    // Assess
    const annotations = Annotations.fromStack(stack);
    expect(
      annotations.findWarning('/Workloads/JobRole/Resource', preflight('session-duration-above-max')),
    ).toHaveLength(1);
    expect(annotations.findError('*', preflight('.*'))).toEqual([]);
  });

  it('fails on warnings too with failOn warning', () => {
    // Prepare
    const { app, stack } = workloadStack((s, role) => {
      Tags.of(s).add('sundown:revoke', 'enabled');
      (role.node.defaultChild as iam.CfnRole).maxSessionDuration = 7200;
    });
    // Act
    SundownPreflight.applyTo(app, { failOn: 'warning' });
    // Assess
    expect(Annotations.fromStack(stack).findError('*', preflight('session-duration-above-max'))).toHaveLength(
      1,
    );
  });

  it('turns a suppressed finding into an info carrying its reason', () => {
    // Prepare
    const { app, stack } = workloadStack((_, role) => {
      suppressPreflight(role, [
        { id: 'workload-role-not-opted-in', reason: 'a build tool, revoked by its own TTL' },
      ]);
    });
    // Act
    SundownPreflight.applyTo(app);
    // Assess
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', preflight('.*'))).toEqual([]);
    expect(
      annotations.findInfo('*', Match.stringLikeRegexp('suppressed: a build tool, revoked by its own TTL')),
    ).toHaveLength(1);
  });

  it('fails to suppress without a reason', () => {
    // Prepare
    const { role } = workloadStack();
    // Act / Assess
    expect(() => suppressPreflight(role, [{ id: 'workload-role-not-opted-in', reason: ' ' }])).toThrow(
      /needs a reason/,
    );
  });
});
