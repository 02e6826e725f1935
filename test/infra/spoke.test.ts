/**
 * The spoke (issue 19): an asset-free template (StackSets, `cdk deploy`, plain CloudFormation) with
 * rules forwarding to the hub bus through one role, and two roles only the hub's named roles may
 * assume. The revoker role's IAM writes carry the opt-in condition, so the hub cannot touch a
 * principal of a spoke that did not opt in: checked statement by statement and by an IAM simulator.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { HUB_FUNCTIONS, hubRoleName } from '../../lambdas/shared/contract.ts';
import { workloadEndPatterns, workloadStartPatterns } from '../../lib/event-patterns.ts';
import { applySundownNag } from '../../lib/nag.ts';
import { type SundownSpokeProps, SundownSpokeStack } from '../../lib/spoke/spoke.ts';
import { iamViolations, REVOCATION_WRITES } from './iam-invariants.ts';
import {
  ACCOUNT,
  actionsOf,
  logicalIdOf,
  type PolicyStatement,
  render,
  renderDeep,
  resourcesOf,
  roleStatements,
  synthNagFindings,
  TEST_APP_PROPS,
} from './support.ts';

const HUB = '999999999999';
const ORG = 'o-a1b2c3d4e5';
const BASE: SundownSpokeProps = { hubAccount: HUB, hubRegion: 'eu-west-1', organizationId: ORG };
const hubRoleArn = (fn: string) => `arn:aws:iam::${HUB}:role/sundown/${fn}`;

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; Metadata?: unknown }>;

function spoke(props: Partial<SundownSpokeProps> = {}, app = new App(TEST_APP_PROPS)) {
  const stack = new SundownSpokeStack(app, 'SundownSpoke', { ...BASE, ...props });
  const template = Template.fromStack(stack);
  return { app, stack, template, resources: template.toJSON().Resources as Resources };
}

function trustOf(resources: Resources, roleId: string): PolicyStatement[] {
  const role = resources[roleId];
  if (!role) throw new Error(`no role ${roleId}`);
  return (role.Properties.AssumeRolePolicyDocument as { Statement: PolicyStatement[] }).Statement;
}

describe('the spoke template', () => {
  it('carries no function, custom resource, CDK metadata, bootstrap rule or asset parameter (a StackSet can deploy it)', () => {
    // Even in an app that reports analytics (as the CDK CLI does).
    const { template, resources } = spoke({}, new App({ ...TEST_APP_PROPS, analyticsReporting: true }));
    const json = template.toJSON();
    const types = new Set(Object.values(resources).map((r) => r.Type));
    expect([...types].sort()).toEqual([
      'AWS::CloudWatch::Alarm',
      'AWS::Events::Rule',
      'AWS::IAM::Policy',
      'AWS::IAM::Role',
      'AWS::SQS::Queue',
      'AWS::SQS::QueuePolicy',
    ]);
    expect(json.Parameters).toBeUndefined();
    expect(json.Rules).toBeUndefined();
    expect(json.Conditions).toBeUndefined();
    expect(JSON.stringify(json)).not.toMatch(
      /AWS::CDK::Metadata|Custom::|AWS::Lambda|BootstrapVersion|AssetParameters|cdk-hnb659fds/,
    );
  });

  it('is environment-agnostic: the spoke account is AWS::AccountId wherever it appears', () => {
    const { template } = spoke();
    expect(JSON.stringify(template.toJSON())).not.toContain(ACCOUNT);
  });

  it('refuses invalid settings with the setting named', () => {
    expect(() => spoke({ hubAccount: '1234' })).toThrow(/hubAccount: must be a 12-digit/);
    expect(() => spoke({ hubRegion: 'Ireland' })).toThrow(/hubRegion: must be an AWS region/);
    expect(() => spoke({ organizationId: 'org' })).toThrow(/organizationId: must be an AWS Organizations ID/);
  });

  it('outputs the three role ARNs and the forwarding DLQ', () => {
    const { template } = spoke();
    expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
      'ForwarderRoleArn',
      'ForwardingDlqUrl',
      'SpokeReaderRoleArn',
      'SpokeRevokerRoleArn',
    ]);
  });
});

describe('the spoke roles', () => {
  const { stack, resources, template } = spoke();
  const revokerId = logicalIdOf(stack.spoke.revokerRole as never);
  const readerId = logicalIdOf(stack.spoke.readerRole as never);

  it('are SundownSpokeRevoker and SundownSpokeReader at /sundown/', () => {
    expect(resources[revokerId]?.Properties).toMatchObject({
      RoleName: 'SundownSpokeRevoker',
      Path: '/sundown/',
    });
    expect(resources[readerId]?.Properties).toMatchObject({
      RoleName: 'SundownSpokeReader',
      Path: '/sundown/',
    });
  });

  it("trust only the hub account's Revoker role (by aws:PrincipalArn) in the organization, to the revoker role", () => {
    const trust = trustOf(resources, revokerId);
    expect(trust).toHaveLength(1);
    const [s] = trust as [PolicyStatement];
    expect(s.Effect).toBe('Allow');
    expect(s.Action).toBe('sts:AssumeRole');
    expect(render((s.Principal as { AWS: unknown }).AWS)).toBe(`arn:aws:iam::${HUB}:root`);
    expect(renderDeep(s.Condition)).toEqual({
      ArnEquals: { 'aws:PrincipalArn': [hubRoleArn(hubRoleName('Revoker'))] },
      StringEquals: { 'aws:PrincipalOrgID': ORG },
    });
  });

  it('trust only the four hub roles, to the reader role', () => {
    const [s] = trustOf(resources, readerId) as [PolicyStatement];
    expect(renderDeep(s.Condition)).toEqual({
      ArnEquals: { 'aws:PrincipalArn': HUB_FUNCTIONS.map((fn) => hubRoleArn(hubRoleName(fn))) },
      StringEquals: { 'aws:PrincipalOrgID': ORG },
    });
  });

  it('require the external ID when one is set, and no organization condition without an organization', () => {
    const { stack: other, resources: r } = spoke({ organizationId: undefined, externalId: 'sundown-hub-7' });
    for (const role of [other.spoke.revokerRole, other.spoke.readerRole]) {
      const [s] = trustOf(r, logicalIdOf(role as never)) as [PolicyStatement];
      expect(s.Condition?.StringEquals).toEqual({ 'sts:ExternalId': 'sundown-hub-7' });
    }
  });

  it("give the revoker role the single-account revoker's IAM writes, each on opted-in principals only, and no Private CA", () => {
    const statements = roleStatements(template, revokerId);
    const writes = statements.filter(
      (s) =>
        s.Effect === 'Allow' &&
        actionsOf(s).some((a) => (REVOCATION_WRITES as readonly string[]).includes(a)),
    );
    expect(writes.flatMap(actionsOf).sort()).toEqual([...REVOCATION_WRITES].sort());
    for (const s of writes) {
      expect(s.Condition?.StringEquals, s.Sid).toEqual({ 'aws:ResourceTag/sundown:revoke': 'enabled' });
    }
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('acm-pca:'))).toEqual([]);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('sts:'))).toEqual([]);
    expect(iamViolations(template)).toEqual([]);
  });

  it('give the reader role only reads', () => {
    const actions = roleStatements(template, readerId).flatMap(actionsOf);
    expect(actions.length).toBeGreaterThan(0);
    for (const a of actions)
      expect(a).toMatch(/^(iam|ec2|ecs|lambda|batch|codebuild):(Get|List|Describe|BatchGet)/);
    expect(roleStatements(template, readerId).flatMap(resourcesOf)).toContain(
      `arn:aws:lambda:*:${ACCOUNT}:function:*`,
    );
  });

  describe('evaluated by an IAM simulator: the hub cannot touch a principal of a spoke that did not opt in', () => {
    const policy = { Version: '2012-10-17', Statement: renderDeep(roleStatements(template, revokerId)) };
    async function evaluate(action: string, resource: string, context: Record<string, string> = {}) {
      const response = await runSimulation(
        {
          identityPolicies: [{ name: 'spoke-revoker', policy }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          request: {
            principal: `arn:aws:sts::${ACCOUNT}:assumed-role/SundownSpokeRevoker/hub`,
            action,
            resource: { resource, accountId: ACCOUNT },
            contextVariables: context,
          },
        },
        {},
      );
      if (response.resultType !== 'single')
        throw new Error(`unexpected simulation result ${response.resultType}`);
      return response.result.analysis.result;
    }
    const role = `arn:aws:iam::${ACCOUNT}:role/workers`;
    const user = `arn:aws:iam::${ACCOUNT}:user/ci`;
    const optedIn = { 'aws:ResourceTag/sundown:revoke': 'enabled' };

    it('allows the writes on an opted-in role and user', async () => {
      expect(await evaluate('iam:PutRolePolicy', role, optedIn)).toBe('Allowed');
      expect(await evaluate('iam:UpdateAccessKey', user, optedIn)).toBe('Allowed');
    });

    it.each([...REVOCATION_WRITES])('denies %s without the tag, or with another value', async (action) => {
      const target = action.includes('User') || action.includes('AccessKey') ? user : role;
      const context: Record<string, string> =
        action.includes('Attach') || action.includes('Detach')
          ? { 'iam:PolicyARN': `arn:aws:iam::${ACCOUNT}:policy/sundown/p` }
          : {};
      expect(await evaluate(action, target, context)).toBe('ImplicitlyDenied');
      expect(
        await evaluate(action, target, { ...context, 'aws:ResourceTag/sundown:revoke': 'disabled' }),
      ).toBe('ImplicitlyDenied');
    });

    it('denies writes on service-linked roles, tagged or not', async () => {
      const slr = `arn:aws:iam::${ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`;
      expect(await evaluate('iam:PutRolePolicy', slr, optedIn)).toBe('ExplicitlyDenied');
    });
  });
});

describe('the forwarding rules', () => {
  const { stack, resources, template } = spoke({ hubEventBusName: 'Sundown-hub' });
  const forwarderId = logicalIdOf(stack.spoke.forwarderRole as never);
  const hubBus = `arn:aws:events:eu-west-1:${HUB}:event-bus/Sundown-hub`;

  it('forward every end, start and sundown request from the default bus to the hub bus, with the forwarder role', () => {
    const rules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule');
    const names = [
      ...Object.keys(workloadEndPatterns({ stoppedEndsWorkload: false })),
      ...Object.keys(workloadStartPatterns()),
      'SundownRequests',
    ];
    expect(stack.spoke.rules.map((r) => r.node.id)).toEqual(names);
    expect(rules).toHaveLength(names.length);
    for (const rule of rules) {
      expect(rule.Properties.EventBusName).toBeUndefined(); // the default bus
      const targets = rule.Properties.Targets as { Arn: unknown; RoleArn: unknown }[];
      expect(targets.map((t) => render(t.Arn))).toEqual([hubBus]);
      expect(targets.map((t) => render(t.RoleArn))).toEqual([`<${forwarderId}.Arn>`]);
    }
    const requests = stack.spoke.rules.find((r) => r.node.id === 'SundownRequests');
    expect(resources[logicalIdOf(requests as never)]?.Properties.EventPattern).toEqual({
      source: ['sundown'],
    });
  });

  it('use one forwarder role, trusted by EventBridge for this account only, allowed only PutEvents on the hub bus', () => {
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Role')).toHaveLength(3);
    const [s] = trustOf(resources, forwarderId) as [PolicyStatement];
    expect(s.Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(renderDeep(s.Condition)).toEqual({ StringEquals: { 'aws:SourceAccount': ACCOUNT } });
    expect(s.Condition?.StringEquals?.['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    const statements = roleStatements(template, forwarderId);
    expect(statements.map((x) => [actionsOf(x), resourcesOf(x)])).toEqual([[['events:PutEvents'], [hubBus]]]);
  });

  it('forward EC2 stopped only with stoppedEndsWorkload', () => {
    const { resources: r } = spoke({ stoppedEndsWorkload: true });
    expect(JSON.stringify(r)).toContain('"stopped"');
    expect(JSON.stringify(resources)).not.toContain('"stopped"');
  });
});

describe('spoke parts', () => {
  it('roles: the two roles, no rule; forwarding: the rules and their role, no named role', () => {
    const roles = spoke({ part: 'roles' });
    expect(roles.template.toJSON().Resources).toBeDefined();
    roles.template.resourceCountIs('AWS::Events::Rule', 0);
    roles.template.resourceCountIs('AWS::IAM::Role', 2);
    expect(Object.keys(roles.template.toJSON().Outputs).sort()).toEqual([
      'SpokeReaderRoleArn',
      'SpokeRevokerRoleArn',
    ]);
    const forwarding = spoke({ part: 'forwarding' });
    forwarding.template.resourceCountIs('AWS::IAM::Role', 1);
    expect(JSON.stringify(forwarding.resources)).not.toContain('RoleName');
    expect(Object.keys(forwarding.template.toJSON().Outputs).sort()).toEqual([
      'ForwarderRoleArn',
      'ForwardingDlqUrl',
    ]);
    roles.template.resourceCountIs('AWS::SQS::Queue', 0);
  });
});

describe('the forwarding DLQ', () => {
  const { stack, template, resources } = spoke();
  const dlqId = logicalIdOf(stack.spoke.forwardingDlq as never);

  it('catches what every forwarding rule could not deliver to the hub, kept 14 days and retained', () => {
    const rules = Object.values(resources).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const targets = (rule.Properties as { Targets: { DeadLetterConfig?: { Arn: unknown } }[] }).Targets;
      for (const target of targets) {
        expect(target.DeadLetterConfig?.Arn).toEqual({ 'Fn::GetAtt': [dlqId, 'Arn'] });
      }
    }
    const dlq = resources[dlqId];
    expect(dlq?.Properties).toMatchObject({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
    expect((dlq as { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
  });

  it('lets EventBridge send to it only for the rules of the spoke, and alarms on one message', () => {
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::SQS::QueuePolicy');
    if (!policy) throw new Error('the spoke has no queue policy');
    const statements = (
      policy.Properties as { PolicyDocument: { Statement: Record<string, unknown>[] } }
    ).PolicyDocument.Statement.filter((st) => st.Effect === 'Allow');
    expect(statements.length).toBeGreaterThan(0);
    for (const st of statements) {
      expect(st.Principal).toEqual({ Service: 'events.amazonaws.com' });
      expect(st.Action).toBe('sqs:SendMessage');
      expect(JSON.stringify(st.Condition)).toContain('aws:SourceArn');
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
    });
  });
});

describe('cdk-nag AwsSolutions on a spoke', () => {
  it('leaves no unacknowledged finding, nor a CloudFormation validation finding', () => {
    const app = new App({ ...TEST_APP_PROPS, builtinCloudFormationValidation: true });
    new SundownSpokeStack(app, 'SundownSpoke', { ...BASE, externalId: 'sundown-hub-7' });
    applySundownNag(app);
    const { findings, error } = synthNagFindings(app);
    expect(findings).toEqual([]);
    expect(error).toBeUndefined();
  }, 60_000);
});
