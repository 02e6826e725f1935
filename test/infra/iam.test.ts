/**
 * What Sundown's roles may do. A generic check walks every policy in the
 * template (new functions are covered automatically); the revoker's policy is
 * then checked statement by statement and evaluated with an IAM simulator.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SundownFunction } from '../../lib/constructs/sundown-function.ts';
import type { SundownStack } from '../../lib/stacks/sundown-stack.ts';
import {
  iamViolations,
  MANAGED_POLICY_WRITES,
  OPT_IN_CONDITION,
  POLICY_ATTACHMENT,
  REVOCATION_WRITES,
  SUNDOWN_POLICIES_ARN,
} from './iam-invariants.ts';
import {
  ACCOUNT,
  actionsOf,
  logicalIdOf,
  type PolicyStatement,
  REGION,
  renderDeep,
  resourcesOf,
  roleStatements,
  sundownTemplate,
} from './support.ts';

const CA_ARN = `arn:aws:acm-pca:${REGION}:${ACCOUNT}:certificate-authority/11111111-2222-3333-4444-555555555555`;
const CONFIGURED = {
  allowlist: [
    '/workloads/',
    `arn:aws:iam::${ACCOUNT}:role/fixed-worker`,
    `arn:aws:iam::${ACCOUNT}:user/ci-bot`,
  ],
  certificateAuthorityArns: [CA_ARN],
};

let template: Template;
let revoker: PolicyStatement[];
let configured: Template;
let configuredRevoker: PolicyStatement[];

function revokerStatements(stack: SundownStack, t: Template): PolicyStatement[] {
  return roleStatements(t, logicalIdOf((stack.sundown.node.findChild('Revoker') as SundownFunction).role));
}

beforeAll(() => {
  const plain = sundownTemplate();
  template = plain.template;
  revoker = revokerStatements(plain.stack, template);
  const withConfig = sundownTemplate(CONFIGURED);
  configured = withConfig.template;
  configuredRevoker = revokerStatements(withConfig.stack, configured);
}, 120_000);

const allows = (statements: PolicyStatement[], action: string) =>
  statements.filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action));

describe('IAM invariants over every policy in the template', () => {
  it('hold with the default configuration', () => {
    expect(iamViolations(template)).toEqual([]);
  });

  it('hold with allowlisted principals and Private CAs configured', () => {
    expect(iamViolations(configured, CONFIGURED)).toEqual([]);
  });

  /** A one-policy template, to show the check reports what it must. */
  const withStatements = (...statements: PolicyStatement[]) =>
    Template.fromJSON({
      Resources: {
        Policy: {
          Type: 'AWS::IAM::Policy',
          Properties: {
            PolicyName: 'p',
            Roles: [{ Ref: 'Role' }],
            PolicyDocument: { Statement: statements },
          },
        },
      },
    });

  it('fails on Action "*" or "iam:*", wherever the statement is', () => {
    const violations = iamViolations(
      withStatements(
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Effect: 'Deny', Action: ['iam:*'], Resource: '*' },
      ),
    );
    expect(violations).toHaveLength(2);
  });

  it('fails on an IAM write on Resource "*" without a condition', () => {
    const violations = iamViolations(
      withStatements({ Effect: 'Allow', Action: 'iam:TagRole', Resource: '*' }),
    );
    expect(violations).toEqual([expect.stringContaining('IAM writes on Resource "*" without a condition')]);
  });

  it('fails on a revocation write on role/* without the opt-in condition', () => {
    const violations = iamViolations(
      withStatements({
        Effect: 'Allow',
        Action: ['iam:PutRolePolicy'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${ACCOUNT}:role/*`]] },
      }),
    );
    expect(violations).toEqual([expect.stringContaining('needs the opt-in tag condition')]);
  });

  it('fails on Attach/DetachRolePolicy not limited to Sundown policies, and policy writes elsewhere', () => {
    const violations = iamViolations(
      withStatements(
        {
          Effect: 'Allow',
          Action: 'iam:AttachRolePolicy',
          Resource: 'arn:aws:iam::123456789012:role/x',
          Condition: OPT_IN_CONDITION,
        },
        { Effect: 'Allow', Action: 'iam:CreatePolicyVersion', Resource: `arn:aws:iam::${ACCOUNT}:policy/*` },
      ),
    );
    expect(violations).toEqual([
      expect.stringContaining('iam:PolicyARN'),
      expect.stringContaining('managed-policy writes outside'),
    ]);
  });

  it('fails on Private CA permissions when no CA is configured', () => {
    const violations = iamViolations(
      withStatements({ Effect: 'Allow', Action: 'acm-pca:RevokeCertificate', Resource: CA_ARN }),
    );
    expect(violations).toEqual([expect.stringContaining('no certificateAuthorityArns are configured')]);
  });
});

describe('revoker permissions', () => {
  it('include every revocation write (the invariants are not vacuous)', () => {
    for (const action of REVOCATION_WRITES) expect(allows(revoker, action), action).not.toEqual([]);
  });

  it('make each IAM write only on principals tagged sundown:revoke=enabled', () => {
    for (const action of REVOCATION_WRITES) {
      for (const s of allows(revoker, action)) expect(s.Condition, action).toMatchObject(OPT_IN_CONDITION);
    }
  });

  it('attach and detach only policies under /sundown/ (iam:PolicyARN)', () => {
    for (const action of POLICY_ATTACHMENT) {
      for (const s of allows(revoker, action)) {
        expect(renderDeep(s.Condition), action).toEqual({
          ...OPT_IN_CONDITION,
          ArnLike: { 'iam:PolicyARN': SUNDOWN_POLICIES_ARN },
        });
      }
    }
  });

  it('manage managed policies only under /sundown/', () => {
    const writes = MANAGED_POLICY_WRITES.flatMap((action) => allows(revoker, action));
    expect(writes).not.toEqual([]);
    for (const s of writes) expect(resourcesOf(s)).toEqual([SUNDOWN_POLICIES_ARN]);
  });

  it('deny every write to service-linked roles explicitly', () => {
    const deny = revoker.find(
      (s) =>
        s.Effect === 'Deny' && resourcesOf(s).includes(`arn:aws:iam::${ACCOUNT}:role/aws-service-role/*`),
    );
    expect(deny).toBeDefined();
    expect(actionsOf(deny as PolicyStatement)).toEqual(
      expect.arrayContaining(['iam:PutRolePolicy', 'iam:DeleteRolePolicy', ...POLICY_ATTACHMENT]),
    );
    expect(deny?.Condition).toBeUndefined();
  });

  it('cannot revoke certificates when no CA is configured', () => {
    expect(allows(revoker, 'acm-pca:RevokeCertificate')).toEqual([]);
  });

  it('revoke certificates only on the configured CAs', () => {
    const revokes = allows(configuredRevoker, 'acm-pca:RevokeCertificate');
    expect(revokes).toHaveLength(1);
    expect(resourcesOf(revokes[0] as PolicyStatement)).toEqual([CA_ARN]);
  });

  it('write to allowlisted principals without the tag, and only to exactly those', () => {
    const untagged = configuredRevoker.filter(
      (s) =>
        s.Effect === 'Allow' &&
        s.Condition?.StringEquals === undefined &&
        actionsOf(s).some((a) => a.startsWith('iam:Put')),
    );
    expect(untagged.flatMap(resourcesOf).sort()).toEqual(
      [
        `arn:aws:iam::${ACCOUNT}:role/fixed-worker`,
        `arn:aws:iam::${ACCOUNT}:role/workloads/*`,
        `arn:aws:iam::${ACCOUNT}:user/ci-bot`,
        `arn:aws:iam::${ACCOUNT}:user/workloads/*`,
      ].sort(),
    );
  });
});

describe('revoker permissions, evaluated by an IAM simulator', () => {
  const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
  const user = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;
  const optedIn = { 'aws:ResourceTag/sundown:revoke': 'enabled' };

  async function evaluate(
    action: string,
    resource: string,
    context: Record<string, string> = {},
  ): Promise<string> {
    const response = await runSimulation(
      {
        identityPolicies: [
          { name: 'revoker', policy: { Version: '2012-10-17', Statement: renderDeep(revoker) } },
        ],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          principal: `arn:aws:sts::${ACCOUNT}:assumed-role/Sundown-Revoker/session`,
          action,
          resource: { resource, accountId: ACCOUNT },
          contextVariables: context,
        },
      },
      {},
    );
    if (response.resultType === 'error')
      throw new Error(`simulation rejected its input: ${response.errors.message}`);
    if (response.resultType !== 'single')
      throw new Error(`unexpected simulation result ${response.resultType}`);
    return response.result.analysis.result;
  }

  it('allows revocation writes on an opted-in role and user', async () => {
    expect(await evaluate('iam:PutRolePolicy', role('workers'), optedIn)).toBe('Allowed');
    expect(await evaluate('iam:DeleteRolePolicy', role('team/workers'), optedIn)).toBe('Allowed');
    expect(await evaluate('iam:UpdateAccessKey', user('ci'), optedIn)).toBe('Allowed');
  });

  it('fails to delete an access key, even of an opted-in user (revocation only deactivates keys)', async () => {
    expect(await evaluate('iam:DeleteAccessKey', user('ci'), optedIn)).toBe('ImplicitlyDenied');
  });

  it('fails to write to a role or user that did not opt in', async () => {
    expect(await evaluate('iam:PutRolePolicy', role('workers'))).toBe('ImplicitlyDenied');
    expect(
      await evaluate('iam:PutRolePolicy', role('workers'), { 'aws:ResourceTag/sundown:revoke': 'disabled' }),
    ).toBe('ImplicitlyDenied');
    expect(await evaluate('iam:DeleteAccessKey', user('alice'))).toBe('ImplicitlyDenied');
  });

  it('fails to write to a service-linked role, even one carrying the tag', async () => {
    expect(
      await evaluate(
        'iam:PutRolePolicy',
        role('aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS'),
        optedIn,
      ),
    ).toBe('ExplicitlyDenied');
  });

  it("attaches Sundown's own policies to an opted-in role, and fails for any other policy", async () => {
    const attach = (policyArn: string) =>
      evaluate('iam:AttachRolePolicy', role('workers'), { ...optedIn, 'iam:PolicyARN': policyArn });
    expect(await attach(`arn:aws:iam::${ACCOUNT}:policy/sundown/workers-1`)).toBe('Allowed');
    expect(await attach('arn:aws:iam::aws:policy/AdministratorAccess')).toBe('ImplicitlyDenied');
    expect(await attach(`arn:aws:iam::${ACCOUNT}:policy/admin`)).toBe('ImplicitlyDenied');
  });

  it('creates managed policies under /sundown/ only', async () => {
    expect(await evaluate('iam:CreatePolicy', `arn:aws:iam::${ACCOUNT}:policy/sundown/workers-1`)).toBe(
      'Allowed',
    );
    expect(await evaluate('iam:CreatePolicy', `arn:aws:iam::${ACCOUNT}:policy/admin`)).toBe(
      'ImplicitlyDenied',
    );
    expect(await evaluate('iam:CreatePolicyVersion', `arn:aws:iam::${ACCOUNT}:policy/team/shared`)).toBe(
      'ImplicitlyDenied',
    );
  });

  it('fails to do anything else with IAM (create roles, tag, change trust)', async () => {
    expect(await evaluate('iam:CreateRole', role('new'), optedIn)).toBe('ImplicitlyDenied');
    expect(await evaluate('iam:TagRole', role('workers'))).toBe('ImplicitlyDenied');
    expect(await evaluate('iam:UpdateAssumeRolePolicy', role('workers'), optedIn)).toBe('ImplicitlyDenied');
  });
});
