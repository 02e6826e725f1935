/**
 * Hub mode (issue 19): the `hub` setting adds a bus its spokes forward to, with a policy that admits
 * only the organization or the listed accounts; rules from it into the same queues; fixed names for
 * the four functions the spoke roles trust, and their sts:AssumeRole on exactly Sundown's spoke roles.
 * Without `hub`, none of it exists (logical-ids.test.ts checks the rest of the template is unchanged).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { HUB_FUNCTIONS, type HubFunction, hubRoleName } from '../../lambdas/shared/contract.ts';
import type { EventToQueue } from '../../lib/constructs/event-to-queue.ts';
import type { SundownFunction } from '../../lib/constructs/sundown-function.ts';
import { workloadEndPatterns, workloadStartPatterns } from '../../lib/event-patterns.ts';
import type { SundownStack } from '../../lib/stacks/sundown-stack.ts';
import { iamViolations } from './iam-invariants.ts';
import {
  actionsOf,
  buildSundown,
  everyStatement,
  logicalIdOf,
  type PolicyStatement,
  render,
  resourcesOf,
  roleStatements,
  sundownTemplate,
  synthNagFindings,
} from './support.ts';

const ORG = 'o-a1b2c3d4e5';
const SPOKES = ['111111111111', '222222222222'];

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

function hubFunction(stack: SundownStack, fn: HubFunction | 'Broker'): SundownFunction {
  const path = fn === 'Sweeper' ? ['Reconciliation', 'Sweeper'] : [fn];
  let node = stack.sundown.node.findChild(path[0] as string);
  for (const id of path.slice(1)) node = node.node.findChild(id);
  return node as SundownFunction;
}

function hubBusPolicy(template: Template): PolicyStatement {
  const policies = Object.values(template.findResources('AWS::Events::EventBusPolicy')).filter(
    (p) => p.Properties.StatementId === 'SpokesPutEvents',
  );
  expect(policies).toHaveLength(1);
  return policies[0]?.Properties.Statement as PolicyStatement;
}

describe('hub settings', () => {
  it('needs organizationId or accounts, and refuses malformed ones', () => {
    expect(() => sundownTemplate({ hub: {} })).toThrow(/hub: needs organizationId .* or accounts/);
    expect(() => sundownTemplate({ hub: { organizationId: 'org-1' } })).toThrow(
      /hub.organizationId: must be an AWS Organizations ID/,
    );
    expect(() => sundownTemplate({ hub: { accounts: ['1234'] } })).toThrow(
      /hub.accounts.0: must be a 12-digit/,
    );
    expect(() => sundownTemplate({ hub: { accounts: SPOKES, extra: 1 } })).toThrow(/hub/);
  });
});

describe('a single-account stack (no hub setting)', () => {
  const { template } = sundownTemplate();
  const resources = template.toJSON().Resources as Resources;

  it('has no hub bus, no fixed role names, no spoke variables and no HubEventBusArn output', () => {
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('HubEventBusArn');
    for (const r of Object.values(resources)) {
      if (r.Type === 'AWS::IAM::Role') expect(r.Properties.RoleName).toBeUndefined();
      if (r.Type === 'AWS::Events::EventBus') expect(render(r.Properties.Name)).not.toMatch(/-hub$/);
      const variables = (r.Properties.Environment as { Variables?: object } | undefined)?.Variables ?? {};
      expect(Object.keys(variables).filter((k) => k.startsWith('SUNDOWN_SPOKE_'))).toEqual([]);
    }
    const assumes = everyStatement(template).filter(({ statement }) =>
      actionsOf(statement).includes('sts:AssumeRole'),
    );
    expect(
      assumes.flatMap(({ statement }) => resourcesOf(statement)).filter((r) => r.includes('Spoke')),
    ).toEqual([]);
  });
});

describe('turning a single-account deployment into a hub', () => {
  it('keeps every resource under its logical ID and type (tables, key and queues are not replaced)', () => {
    const single = sundownTemplate().template.toJSON().Resources as Resources;
    const hub = sundownTemplate({ hub: { organizationId: ORG } }).template.toJSON().Resources as Resources;
    for (const [id, r] of Object.entries(single)) expect(hub[id]?.Type, id).toBe(r.Type);
  });
});

describe.each([
  ['an organization', { organizationId: ORG }],
  ['listed accounts', { accounts: SPOKES, externalId: 'sundown-hub-7' }],
  ['listed accounts of an organization', { organizationId: ORG, accounts: SPOKES }],
])('a hub serving %s', (_, hub: { organizationId?: string; accounts?: string[]; externalId?: string }) => {
  const { stack, template } = sundownTemplate({ hub });
  const resources = template.toJSON().Resources as Resources;
  const hubBusId = logicalIdOf(stack.sundown.hubEventBus as never);

  it('has a bus named <stack>-hub whose one statement admits the organization or the listed accounts', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'Sundown-hub' });
    const statement = hubBusPolicy(template);
    expect(statement.Effect).toBe('Allow');
    expect(statement.Action).toBe('events:PutEvents');
    expect(render(statement.Resource)).toBe(`<${hubBusId}.Arn>`);
    const principals = [(statement.Principal as { AWS: unknown }).AWS].flat().map(render);
    expect(principals).toEqual(hub.accounts ? hub.accounts.map((a) => `arn:aws:iam::${a}:root`) : ['*']);
    expect(statement.Condition).toEqual(
      hub.organizationId ? { StringEquals: { 'aws:PrincipalOrgID': hub.organizationId } } : undefined,
    );
  });

  it('admits no principal "*" without a condition anywhere (bus, queue, key or trust policies)', () => {
    for (const { where, statement } of everyStatement(template)) {
      if (statement.Effect !== 'Allow') continue;
      const principal = statement.Principal as { AWS?: unknown } | string | undefined;
      const any = principal === '*' || [(principal as { AWS?: unknown })?.AWS].flat().includes('*');
      if (any) expect(statement.Condition, where).toBeDefined();
    }
  });

  it('routes forwarded ends, starts and requests from the hub bus into the queues of the own triggers, without filtering by account', () => {
    const queueOf = (id: string) => logicalIdOf(stack.sundown.node.findChild(id).node.findChild('Queue'));
    const rulesOf = (...path: string[]) => {
      let node = stack.sundown.node.findChild(path[0] as string);
      for (const id of path.slice(1)) node = node.node.findChild(id);
      return (node as EventToQueue).rules.map((rule) => ({
        id: rule.node.id,
        ...resources[logicalIdOf(rule)],
      }));
    };
    const groups = [
      ['EndTriggers', 'ServiceEvents', Object.keys(workloadEndPatterns({ stoppedEndsWorkload: false }))],
      ['StartTriggers', 'DiscoveryEvents', Object.keys(workloadStartPatterns())],
      ['RequestTriggers', 'BusEvents', ['SundownRequests']],
    ] as const;
    const hubRules = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Events::Rule' && render(r.Properties.EventBusName) === `<${hubBusId}>`,
    );
    expect(hubRules).toHaveLength(groups.reduce((n, [, , names]) => n + names.length, 0));
    for (const [group, queue, names] of groups) {
      const rules = rulesOf('Hub', group);
      expect(rules.map((r) => r.id)).toEqual(names);
      for (const rule of rules) {
        expect(render(rule.Properties?.EventBusName)).toBe(`<${hubBusId}>`);
        const targets = rule.Properties?.Targets as { Arn: unknown }[];
        expect(
          targets.map((t) => render(t.Arn)),
          rule.id,
        ).toEqual([`<${queueOf(queue)}.Arn>`]);
        expect(JSON.stringify(rule.Properties?.EventPattern)).not.toContain('"account"');
      }
      // The same patterns as the account's own triggers on its default bus.
      if (group !== 'RequestTriggers') {
        const own = rulesOf(group);
        expect(rules.map((r) => r.Properties?.EventPattern)).toEqual(
          own.map((r) => r.Properties?.EventPattern),
        );
      }
    }
    expect(rulesOf('Hub', 'RequestTriggers')[0]?.Properties?.EventPattern).toEqual({
      source: [{ 'anything-but': { prefix: 'aws.' } }],
    });
  });

  it('keeps every SQS queue policy within 20 statements (the SQS quota), the canary on', () => {
    const { template: withCanary } = sundownTemplate({ hub, canary: { enabled: true } });
    for (const [id, policy] of Object.entries(withCanary.findResources('AWS::SQS::QueuePolicy'))) {
      expect(policy.Properties.PolicyDocument.Statement.length, id).toBeLessThanOrEqual(20);
    }
  });

  it('names the four hub functions\u2019 roles /sundown/SundownHub-<Function>, and no other role', () => {
    for (const fn of HUB_FUNCTIONS) {
      const role = resources[logicalIdOf(hubFunction(stack, fn).role)];
      expect(role?.Properties.RoleName).toBe(hubRoleName(fn));
      expect(role?.Properties.Path).toBe('/sundown/');
    }
    const named = Object.values(resources).filter(
      (r) => r.Type === 'AWS::IAM::Role' && r.Properties.RoleName,
    );
    expect(named).toHaveLength(HUB_FUNCTIONS.length);
  });

  it('lets the Revoker assume the spoke revoker and reader roles, the other three only the reader role', () => {
    const accounts = hub.accounts ?? ['*'];
    const arn = (account: string, name: string) => `arn:aws:iam::${account}:role/sundown/${name}`;
    for (const fn of [...HUB_FUNCTIONS, 'Broker'] as const) {
      const statements = roleStatements(template, logicalIdOf(hubFunction(stack, fn).role)).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('sts:')),
      );
      if (fn === 'Broker') {
        expect(statements.flatMap(resourcesOf).filter((r) => r.includes('/sundown/'))).toEqual([]);
        continue;
      }
      expect(statements).toHaveLength(1);
      const [s] = statements as [PolicyStatement];
      expect(actionsOf(s)).toEqual(['sts:AssumeRole']);
      const names = fn === 'Revoker' ? ['SundownSpokeRevoker', 'SundownSpokeReader'] : ['SundownSpokeReader'];
      expect(resourcesOf(s).sort()).toEqual(accounts.flatMap((a) => names.map((n) => arn(a, n))).sort());
      expect(s.Condition).toEqual(
        hub.organizationId ? { StringEquals: { 'aws:ResourceOrgID': hub.organizationId } } : undefined,
      );
    }
  });

  it('tells exactly the four hub functions which accounts they serve, and the external ID', () => {
    const fns = new Set(HUB_FUNCTIONS.map((fn) => logicalIdOf(hubFunction(stack, fn).fn)));
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::Lambda::Function') continue;
      const variables = (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      if (!fns.has(id)) {
        expect(
          Object.keys(variables).filter((k) => k.startsWith('SUNDOWN_SPOKE_')),
          id,
        ).toEqual([]);
        continue;
      }
      expect(JSON.parse(variables.SUNDOWN_SPOKE_ACCOUNTS as string)).toEqual(hub.accounts ?? 'organization');
      expect(variables.SUNDOWN_SPOKE_EXTERNAL_ID).toBe(hub.externalId);
    }
  });

  it("keeps Sundown's IAM invariants (assumes only Sundown's spoke roles; IAM writes on opted-in principals)", () => {
    expect(iamViolations(template)).toEqual([]);
  });

  it('outputs the hub bus ARN', () => {
    template.hasOutput('HubEventBusArn', { Value: { 'Fn::GetAtt': [hubBusId, 'Arn'] } });
  });
});

describe('cdk-nag AwsSolutions on a hub', () => {
  it.each([
    ['an organization', { organizationId: ORG, externalId: 'sundown-hub-7' }],
    ['listed accounts', { accounts: SPOKES }],
  ])(
    'leaves no unacknowledged finding, nor a CloudFormation validation finding, for a hub serving %s',
    (_, hub) => {
      const { app } = buildSundown({ hub, canary: { enabled: true } }, { nag: true, cfnValidation: true });
      const { findings, error } = synthNagFindings(app);
      expect(findings).toEqual([]);
      expect(error).toBeUndefined();
    },
    60_000,
  );

  it('acknowledges sts:AssumeRole on a spoke role in any account only with the aws:ResourceOrgID condition', () => {
    const { app, stack } = buildSundown({ hub: { organizationId: ORG } }, { nag: true });
    hubFunction(stack, 'Sweeper').role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: ['arn:aws:iam::*:role/sundown/SundownSpokeRevoker'],
      }),
    );
    const { findings } = synthNagFindings(app);
    expect(findings.map((f) => f.rule)).toEqual([
      'AwsSolutions-IAM5[Resource::arn:aws:iam::*:role/sundown/SundownSpokeRevoker]',
    ]);
  }, 60_000);
});
