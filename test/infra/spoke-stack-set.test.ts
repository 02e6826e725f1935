/**
 * Spokes for whole OUs as service-managed StackSets, and the app layout that picks hub, spoke or
 * hub + StackSets from the CDK context (bin/app.ts -> lib/app.ts).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { defineSundownApp } from '../../lib/app.ts';
import { SundownSpokeStack } from '../../lib/spoke/spoke.ts';
import {
  MAX_TEMPLATE_BODY_BYTES,
  SundownSpokeStackSet,
  spokeTemplateBody,
} from '../../lib/spoke/stack-set.ts';
import { SundownStack } from '../../lib/stacks/sundown-stack.ts';
import { ACCOUNT, REGION, TEST_APP_PROPS } from './support.ts';

const SPOKE = { hubAccount: '999999999999', hubRegion: 'eu-west-1', organizationId: 'o-a1b2c3d4e5' };
const OUS = ['ou-ab12-cdefgh34', 'r-ab12'];

function stackSets(props: Partial<ConstructorParameters<typeof SundownSpokeStackSet>[2]> = {}) {
  const stack = new Stack(new App(TEST_APP_PROPS), 'Org');
  const construct = new SundownSpokeStackSet(stack, 'Spokes', {
    spoke: SPOKE,
    organizationalUnitIds: OUS,
    regions: ['eu-west-1', 'us-east-1'],
    ...props,
  });
  return { construct, template: Template.fromStack(stack) };
}

type StackSetResource = { Properties: Record<string, unknown> };

describe('SundownSpokeStackSet', () => {
  const { template } = stackSets({ callAs: 'DELEGATED_ADMIN' });
  const sets = Object.values(template.findResources('AWS::CloudFormation::StackSet')) as StackSetResource[];
  const byName = (name: string) => sets.find((s) => s.Properties.StackSetName === name)?.Properties;

  it('is two service-managed StackSets, auto-deployed to the OUs: roles in one region, forwarding in every region', () => {
    expect(sets.map((s) => s.Properties.StackSetName).sort()).toEqual([
      'SundownSpoke-forwarding',
      'SundownSpoke-roles',
    ]);
    for (const s of sets) {
      expect(s.Properties).toMatchObject({
        PermissionModel: 'SERVICE_MANAGED',
        AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
        CallAs: 'DELEGATED_ADMIN',
        Capabilities: ['CAPABILITY_NAMED_IAM'],
      });
    }
    expect(byName('SundownSpoke-roles')?.StackInstancesGroup).toEqual([
      { DeploymentTargets: { OrganizationalUnitIds: OUS }, Regions: ['eu-west-1'] },
    ]);
    expect(byName('SundownSpoke-forwarding')?.StackInstancesGroup).toEqual([
      { DeploymentTargets: { OrganizationalUnitIds: OUS }, Regions: ['eu-west-1', 'us-east-1'] },
    ]);
  });

  it('carries each part of the spoke template inline: asset-free, no metadata, under the TemplateBody cap', () => {
    const parts = { 'SundownSpoke-roles': 'roles', 'SundownSpoke-forwarding': 'forwarding' } as const;
    for (const [name, part] of Object.entries(parts)) {
      const body = byName(name)?.TemplateBody as string;
      expect(typeof body).toBe('string');
      expect(Buffer.byteLength(body)).toBeLessThan(MAX_TEMPLATE_BODY_BYTES);
      const parsed = JSON.parse(body) as { Resources: Record<string, { Type: string; Metadata?: unknown }> };
      expect(body).not.toMatch(/AWS::CDK::Metadata|Custom::|AWS::Lambda|BootstrapVersion|aws:cdk:path/);
      for (const r of Object.values(parsed.Resources)) expect(r.Metadata).toBeUndefined();
      const types = new Set(Object.values(parsed.Resources).map((r) => r.Type));
      expect(types.has('AWS::Events::Rule')).toBe(part === 'forwarding');
      expect(body.includes('SundownSpokeRevoker')).toBe(part === 'roles');
    }
  });

  it('defaults to SELF, and takes the roles region', () => {
    const { template: t } = stackSets({ rolesRegion: 'us-east-1' });
    const roles = Object.values(t.findResources('AWS::CloudFormation::StackSet')).find(
      (s) => s.Properties.StackSetName === 'SundownSpoke-roles',
    );
    expect(roles?.Properties.CallAs).toBe('SELF');
    expect(roles?.Properties.StackInstancesGroup[0].Regions).toEqual(['us-east-1']);
  });

  it('refuses malformed OUs and regions', () => {
    expect(() => stackSets({ organizationalUnitIds: ['123'] })).toThrow(
      /organizationalUnitIds.0: must be an OU ID/,
    );
    expect(() => stackSets({ regions: [] })).toThrow(/regions/);
  });

  it('throws a clear error when a template is over the TemplateBody cap', () => {
    expect(() => spokeTemplateBody(SPOKE, 1000)).toThrow(
      /the spoke template \(all\) is \d+ bytes, over CloudFormation's 1000-byte/,
    );
  });
});

describe('the CDK app (bin/app.ts)', () => {
  const ENV = { account: ACCOUNT, region: REGION };
  const stacksOf = (context: Record<string, unknown>) => {
    const app = new App({ ...TEST_APP_PROPS, context: { ...TEST_APP_PROPS.context, ...context } });
    defineSundownApp(app, ENV);
    return app.node.children.filter((c): c is Stack => c instanceof Stack);
  };

  it('deploys the one Sundown stack by default, and a hub with the hub setting', () => {
    const [only, ...none] = stacksOf({});
    expect(only).toBeInstanceOf(SundownStack);
    expect(only?.stackName).toBe('Sundown');
    expect(none).toEqual([]);
    const [hub] = stacksOf({ sundown: { hub: { organizationId: SPOKE.organizationId } } });
    expect((hub as SundownStack).sundown.hubEventBus).toBeDefined();
  });

  it('deploys only the spoke stack, SundownSpoke, with the sundownSpoke context (JSON from -c too)', () => {
    const stacks = stacksOf({ sundownSpoke: JSON.stringify(SPOKE) });
    expect(stacks.map((s) => [s.constructor.name, s.stackName])).toEqual([
      ['SundownSpokeStack', 'SundownSpoke'],
    ]);
    expect(stacks[0]).toBeInstanceOf(SundownSpokeStack);
  });

  it('adds the StackSets of spokes next to the hub with sundownSpoke.stackSet', () => {
    const stacks = stacksOf({
      sundown: { hub: { organizationId: SPOKE.organizationId } },
      sundownSpoke: { ...SPOKE, stackSet: { organizationalUnitIds: OUS, regions: ['us-east-1'] } },
    });
    expect(stacks.map((s) => s.stackName)).toEqual(['Sundown', 'SundownSpokeStackSet']);
    Template.fromStack(stacks[1] as Stack).resourceCountIs('AWS::CloudFormation::StackSet', 2);
  });

  it('refuses StackSets of spokes that disagree with the hub', () => {
    const stackSet = { organizationalUnitIds: OUS, regions: ['us-east-1'] };
    expect(() => stacksOf({ sundownSpoke: { ...SPOKE, stackSet } })).toThrow(/set sundown.hub as well/);
    expect(() =>
      stacksOf({
        sundown: { hub: { organizationId: 'o-zzzzzzzzzz' } },
        sundownSpoke: { ...SPOKE, stackSet },
      }),
    ).toThrow(/organizationId must be the hub's/);
    expect(() =>
      stacksOf({
        sundown: { stackName: 'Hub', hub: { organizationId: SPOKE.organizationId } },
        sundownSpoke: { ...SPOKE, stackSet },
      }),
    ).toThrow(/hubEventBusName must be the hub's bus, Hub-hub/);
  });
});
