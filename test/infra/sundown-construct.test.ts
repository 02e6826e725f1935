/**
 * The `Sundown` construct in someone else's stack, as a consumer of the package uses it:
 * `new Sundown(this, 'Sundown', props)`. (The packaged form is checked by test/integration/package.test.ts.)
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { applySundownNag, Sundown, trustSundownBroker } from '../../lib/sundown.ts';
import { ACCOUNT, REGION, synthNagFindings, TEST_APP_PROPS } from './support.ts';

const env = { account: ACCOUNT, region: REGION };

describe('Sundown construct', () => {
  it('builds the seven functions and the trigger rules inside any stack, named after that stack', () => {
    const app = new App(TEST_APP_PROPS);
    const stack = new Stack(app, 'Platform', { env });

    const sundown = new Sundown(stack, 'Sundown', { cloudTrail: 'existing', dryRun: true });

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 7); // the five of the pipeline, the audit sealer, use-after-revoke
    template.resourceCountIs('AWS::CloudTrail::Trail', 0);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'Platform-bus' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SUNDOWN_DRY_RUN: 'true' }) },
    });
    const rules = Object.keys(template.findResources('AWS::Events::Rule'));
    expect(rules.some((id) => id.startsWith('SundownEndTriggers'))).toBe(true);
    expect(Object.keys(template.toJSON().Outputs)).toContain(
      Stack.of(sundown).getLogicalId(sundown.node.findChild('BrokerRoleArn') as never),
    );
  });

  it("passes cdk-nag (and CDK's CloudFormation validation) with the trust of a consumer role added", () => {
    const app = new App({ ...TEST_APP_PROPS, builtinCloudFormationValidation: true });
    const stack = new Stack(app, 'Platform', { env });
    const sundown = new Sundown(stack, 'Sundown');
    const workers = new iam.Role(stack, 'Workers', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    });
    trustSundownBroker(workers, sundown.brokerRole);
    applySundownNag(app);

    const { findings, error } = synthNagFindings(app);

    expect(error).toBeUndefined();
    expect(findings.filter((f) => !f.paths.every((p) => p.startsWith('Platform/Workers/')))).toEqual([]);
  }, 60_000);

  it('fails on an invalid prop, naming it', () => {
    const stack = new Stack(new App(), 'Platform', { env });
    expect(() => new Sundown(stack, 'Sundown', { brokerMaxDurationSeconds: 7200 })).toThrow(
      /invalid Sundown props: brokerMaxDurationSeconds: must be at most 3600 seconds/,
    );
    expect(() => new Sundown(stack, 'Other', { stackName: 'x' } as never)).toThrow(/invalid Sundown props/);
  });
});
