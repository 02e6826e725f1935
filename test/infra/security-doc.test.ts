/**
 * SECURITY.md's containment advice, evaluated: the example SCP is parsed out of the document and
 * run through an IAM evaluator (@cloud-copilot/iam-simulate) with SCP support, against the revoker
 * role name CDK actually generates. The revoker's own policy must not let it lift a boundary.
 */
import { readFileSync } from 'node:fs';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SundownFunction } from '../../lib/constructs/sundown-function.ts';
import { ACCOUNT, buildSundown, logicalIdOf, renderDeep, roleStatements } from './support.ts';

const FULL_ACCESS = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
const OPTED_IN = { 'aws:ResourceTag/sundown:revoke': 'enabled' };

/** The JSON block of the "Containing the revoker" section. */
function documentedScp(): unknown {
  const doc = readFileSync('SECURITY.md', 'utf8');
  const section = doc.slice(doc.indexOf('## Containing the revoker'));
  const block = /```json\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('SECURITY.md has no JSON block under "Containing the revoker"');
  return JSON.parse(block);
}

let revokerRoleName: string;
let revokerPolicy: unknown;

beforeAll(() => {
  const { stack } = buildSundown();
  const revoker = stack.sundown.node.findChild('Revoker') as SundownFunction;
  const roleId = logicalIdOf(revoker.role);
  // CloudFormation names an unnamed role <stack>-<logical ID>-<random suffix>.
  revokerRoleName = `Sundown-${roleId}-Q1W2E3R4T5Y6`;
  revokerPolicy = {
    Version: '2012-10-17',
    Statement: renderDeep(roleStatements(Template.fromStack(stack), roleId)),
  };
}, 120_000);

async function evaluate(opts: {
  roleName: string;
  action: string;
  resource: string;
  context?: Record<string, string>;
  identityPolicy?: unknown;
  scp?: unknown;
}): Promise<string> {
  const response = await runSimulation(
    {
      identityPolicies: [{ name: 'identity', policy: opts.identityPolicy ?? FULL_ACCESS }],
      serviceControlPolicies: [
        { orgIdentifier: 'r-root', policies: [{ name: 'FullAWSAccess', policy: FULL_ACCESS }] },
        {
          orgIdentifier: ACCOUNT,
          policies: [
            { name: 'FullAWSAccess', policy: FULL_ACCESS },
            ...(opts.scp ? [{ name: 'sundown', policy: opts.scp }] : []),
          ],
        },
      ],
      resourceControlPolicies: [],
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${opts.roleName}/session`,
        action: opts.action,
        resource: { resource: opts.resource, accountId: ACCOUNT },
        contextVariables: {
          'aws:PrincipalArn': `arn:aws:iam::${ACCOUNT}:role/${opts.roleName}`,
          ...opts.context,
        },
      },
    },
    {},
  );
  if (response.resultType !== 'single')
    throw new Error(`unexpected simulation result ${response.resultType}`);
  return response.result.analysis.result;
}

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

describe("SECURITY.md's example SCP", () => {
  const scp = documentedScp();

  it("denies an administrator changes to an opted-in role's policies and boundary", async () => {
    for (const action of ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:DeleteRolePermissionsBoundary']) {
      expect(
        await evaluate({ roleName: 'admin', action, resource: role('workers'), context: OPTED_IN, scp }),
        action,
      ).toBe('ExplicitlyDenied');
    }
  });

  it("lets Sundown's revoker role (by its generated name) and the break-glass role through", async () => {
    for (const roleName of [revokerRoleName, 'break-glass']) {
      expect(
        await evaluate({
          roleName,
          action: 'iam:PutRolePolicy',
          resource: role('workers'),
          context: OPTED_IN,
          scp,
        }),
        roleName,
      ).toBe('Allowed');
    }
  });

  it('leaves roles that did not opt in alone', async () => {
    expect(
      await evaluate({ roleName: 'admin', action: 'iam:PutRolePolicy', resource: role('other'), scp }),
    ).toBe('Allowed');
  });
});

describe('the revoker and permissions boundaries', () => {
  it('cannot lift or change the boundary or the opt-in tag of an opted-in role or user', async () => {
    const attempts: [string, string][] = [
      ['iam:PutRolePermissionsBoundary', role('workers')],
      ['iam:DeleteRolePermissionsBoundary', role('workers')],
      ['iam:UntagRole', role('workers')],
      ['iam:TagRole', role('workers')],
      ['iam:PutUserPermissionsBoundary', `arn:aws:iam::${ACCOUNT}:user/ci`],
      ['iam:DeleteUserPermissionsBoundary', `arn:aws:iam::${ACCOUNT}:user/ci`],
    ];
    for (const [action, resource] of attempts) {
      expect(
        await evaluate({
          roleName: revokerRoleName,
          action,
          resource,
          context: OPTED_IN,
          identityPolicy: revokerPolicy,
        }),
        action,
      ).toBe('ImplicitlyDenied');
    }
  });
});
