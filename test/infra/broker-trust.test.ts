/**
 * trustSundownBroker: one call adds exactly the trust the broker needs (AssumeRole with Tags and
 * SourceIdentity) to a user's role, for the broker role of a Sundown stack in the same app or an
 * ARN from another app, and leaves the role's other trust alone.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { trustSundownBroker } from '../../lib/constructs/broker-trust.ts';
import { SundownStack } from '../../lib/stacks/sundown-stack.ts';
import { ACCOUNT, logicalIdOf, REGION, TEST_APP_PROPS } from './support.ts';

const BROKER_ARN = `arn:aws:iam::${ACCOUNT}:role/Sundown-BrokerFunctionServiceRole-ABC123`;

function workloadRole(stack: Stack): iam.Role {
  return new iam.Role(stack, 'Workers', {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
  });
}

function trustStatements(stack: Stack, role: iam.Role): Record<string, unknown>[] {
  const resource = Template.fromStack(stack).toJSON().Resources[logicalIdOf(role)];
  return resource.Properties.AssumeRolePolicyDocument.Statement;
}

describe('trustSundownBroker', () => {
  it("adds exactly AssumeRole, TagSession and SetSourceIdentity for the broker's role, and keeps other trust", () => {
    const stack = new Stack(new App(), 'Workloads', { env: { account: ACCOUNT, region: REGION } });
    const role = workloadRole(stack);

    trustSundownBroker(role, BROKER_ARN);

    const statements = trustStatements(stack, role);
    expect(statements).toHaveLength(2);
    expect(statements).toContainEqual({
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'ec2.amazonaws.com' },
    });
    expect(statements).toContainEqual({
      Sid: 'SundownBrokerIssuesSessions',
      Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
      Effect: 'Allow',
      Principal: { AWS: BROKER_ARN },
    });
  });

  it("trusts a Sundown stack's broker role across stacks of one app (an export, not a copied ARN)", () => {
    const app = new App(TEST_APP_PROPS);
    const env = { account: ACCOUNT, region: REGION };
    const sundown = new SundownStack(app, 'Sundown', { config: parseConfig({}), env });
    const workloads = new Stack(app, 'Workloads', { env });
    const role = workloadRole(workloads);

    trustSundownBroker(role, sundown.brokerRole);

    const broker = trustStatements(workloads, role).find((s) => s.Sid === 'SundownBrokerIssuesSessions');
    expect(broker?.Action).toEqual(['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity']);
    expect(broker?.Principal).toEqual({ AWS: { 'Fn::ImportValue': expect.any(String) } });
    expect(JSON.stringify(broker?.Principal)).toContain(logicalIdOf(sundown.brokerRole));
    Template.fromStack(sundown).hasOutput('BrokerRoleArn', {
      Value: { 'Fn::GetAtt': [logicalIdOf(sundown.brokerRole), 'Arn'] },
    });
  }, 60_000);
});
