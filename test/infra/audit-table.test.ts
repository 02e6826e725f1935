/**
 * The audit table's resource policy, asserted on the synthesized template (moto stores no resource
 * policy, so the emulator cannot prove it) and evaluated with an IAM policy simulator: Sundown's
 * roles append, nobody deletes, and no other principal (an administrator included) writes.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import { AUDIT_NEVER_ACTIONS, AUDIT_WRITER_ONLY_ACTIONS } from '../../lib/constructs/data-tables.ts';
import { SundownStack } from '../../lib/stacks/sundown-stack.ts';
import { TEST_APP_PROPS } from './support.ts';

const ACCOUNT = '123456789012';
const TABLE_ARN = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/Sundown-DataAuditE4D9F575-1ABCDEFGHIJK`;

type Json = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: string;
  Principal: unknown;
  Action: string[];
  Resource: unknown;
  Condition?: Json;
}

let template: Template;
let resources: Record<string, { Type: string; Properties: Json; DependsOn?: string | string[] }>;
let auditId: string;
let statements: Statement[];

beforeAll(() => {
  const app = new App(TEST_APP_PROPS);
  const stack = new SundownStack(app, 'Sundown', {
    config: parseConfig(undefined),
    env: { account: ACCOUNT, region: 'us-east-1' },
  });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
  const audit = Object.entries(template.findResources('AWS::DynamoDB::Table')).find(([, table]) =>
    JSON.stringify(table.Properties.KeySchema).includes('"chainId"'),
  );
  if (!audit) throw new Error('no audit table in the template');
  auditId = audit[0];
  statements = audit[1].Properties.ResourcePolicy.PolicyDocument.Statement;
}, 120_000);

const roleIds = () =>
  Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Role')
    .map(([id]) => id);

/** Role logical IDs whose attached policies allow `action` on the audit table. */
function rolesAllowedOnAudit(action: string): string[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) =>
      (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some(
        (s) =>
          s.Effect === 'Allow' &&
          [s.Action].flat().includes(action) &&
          JSON.stringify(s.Resource).includes(`"${auditId}"`),
      ),
    )
    .flatMap((r) => (r.Properties.Roles as { Ref: string }[]).map((role) => role.Ref));
}

/** Replaces `Fn::GetAtt [<Role>, Arn]` with the ARN CloudFormation would give that role. */
function resolveRoleArns(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolveRoleArns);
  if (value && typeof value === 'object') {
    const getAtt = (value as Json)['Fn::GetAtt'];
    if (Array.isArray(getAtt) && getAtt[1] === 'Arn') return roleArn(String(getAtt[0]));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRoleArns(v)]));
  }
  return value;
}

function roleArn(logicalId: string): string {
  return `arn:aws:iam::${ACCOUNT}:role/Sundown-${logicalId.slice(0, 40)}-ABCDEFGHIJKL`;
}

/** Evaluates `action` on the audit table by a principal whose identity policy allows all of DynamoDB. */
async function evaluate(principalArn: string, action: string): Promise<string> {
  const policy = resolveRoleArns({ Version: '2012-10-17', Statement: statements });
  const role = /:role\/(.+)$/.exec(principalArn)?.[1];
  const response = await runSimulation(
    {
      identityPolicies: [
        {
          name: 'administrator',
          policy: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }],
          },
        },
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: policy,
      request: {
        principal: role ? `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/session-1` : principalArn,
        action,
        resource: { resource: TABLE_ARN, accountId: ACCOUNT },
        contextVariables: { 'aws:PrincipalArn': principalArn },
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

describe('audit table resource policy', () => {
  it('keeps the table protected: deletion protection, PITR, customer managed key, retained', () => {
    const table = resources[auditId] as Json & { Properties: Json };
    expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties.TimeToLiveSpecification).toBeUndefined();
  });

  it('denies deleting items and enabling TTL to every principal, unconditionally', () => {
    const never = statements.find((s) => s.Sid === 'AuditRecordsAreNeverDeleted');
    expect(never).toEqual({
      Sid: 'AuditRecordsAreNeverDeleted',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: [...AUDIT_NEVER_ACTIONS],
      Resource: '*',
    });
  });

  it("denies item writes to every principal that is not one of the stack's roles", () => {
    const writes = statements.find((s) => s.Sid === 'OnlySundownRolesWriteAuditRecords');
    expect(writes).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Resource: '*' });
    expect(writes?.Action).toEqual([...AUDIT_WRITER_ONLY_ACTIONS]);
    expect(writes?.Action).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem']),
    );
    expect(Object.keys(writes?.Condition ?? {})).toEqual(['ArnNotEquals']);
    const condition = (writes?.Condition ?? {}) as { ArnNotEquals: Json };
    const exempt = condition.ArnNotEquals['aws:PrincipalArn'] as {
      'Fn::GetAtt': string[];
    }[];
    expect(exempt.map((ref) => ref['Fn::GetAtt'])).toEqual(roleIds().map((id) => [id, 'Arn']));
  });

  it('exempts every role granted PutItem and UpdateItem on the audit table (the appenders and the sealer)', () => {
    const writers = rolesAllowedOnAudit('dynamodb:PutItem');
    const exempt = JSON.stringify(statements);
    expect(writers.length).toBeGreaterThanOrEqual(3);
    // The appenders need both (TransactWriteItems); the sealer only puts seal items.
    const putOnly = writers.filter((role) => !rolesAllowedOnAudit('dynamodb:UpdateItem').includes(role));
    expect(putOnly).toEqual([expect.stringMatching(/^AuditSealingSealer/)]);
    for (const role of writers) expect(exempt).toContain(`"${role}"`);
  });

  it('denies nothing that reads', () => {
    const denied = statements.flatMap((s) => s.Action);
    for (const read of [
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:ConditionCheckItem',
    ]) {
      expect(denied).not.toContain(read);
    }
    expect(denied.some((action) => action.includes('*'))).toBe(false);
  });

  it('puts no resource policy on the other tables', () => {
    const others = Object.entries(template.findResources('AWS::DynamoDB::Table')).filter(
      ([id]) => id !== auditId,
    );
    expect(others.length).toBeGreaterThan(0);
    for (const [, table] of others) expect(table.Properties.ResourcePolicy).toBeUndefined();
  });

  it('leaves the template free of dependency cycles (the table depends on the roles, never the reverse)', () => {
    const edges = new Map<string, Set<string>>();
    const collect = (value: unknown, into: Set<string>) => {
      if (Array.isArray(value)) for (const v of value) collect(v, into);
      else if (value && typeof value === 'object') {
        for (const [key, v] of Object.entries(value)) {
          if (key === 'Ref' && typeof v === 'string' && v in resources) into.add(v);
          else if (key === 'Fn::GetAtt' && Array.isArray(v) && String(v[0]) in resources)
            into.add(String(v[0]));
          else if (key === 'Fn::Sub' && typeof [v].flat()[0] === 'string') {
            for (const [, ref] of String([v].flat()[0]).matchAll(/\$\{([A-Za-z0-9]+)/g))
              if (ref && ref in resources) into.add(ref);
            collect(v, into);
          } else collect(v, into);
        }
      }
    };
    for (const [id, resource] of Object.entries(resources)) {
      const deps = new Set<string>([resource.DependsOn ?? []].flat());
      collect(resource.Properties, deps);
      edges.set(id, deps);
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (id: string, path: string[]) => {
      if (state.get(id) === 'done') return;
      if (state.get(id) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(id)), id].join(' -> '));
        return;
      }
      state.set(id, 'visiting');
      for (const dep of edges.get(id) ?? []) visit(dep, [...path, id]);
      state.set(id, 'done');
    };
    for (const id of edges.keys()) visit(id, []);

    expect(cycles).toEqual([]);
    expect([...(edges.get(auditId) ?? [])]).toEqual(expect.arrayContaining(roleIds()));
  });
});

describe('audit table resource policy, evaluated by an IAM simulator', () => {
  const writer = () => roleArn(rolesAllowedOnAudit('dynamodb:PutItem')[0] as string);
  const admin = `arn:aws:iam::${ACCOUNT}:role/Administrator`;
  const adminUser = `arn:aws:iam::${ACCOUNT}:user/alice`;
  const lookalike = `arn:aws:iam::${ACCOUNT}:role/Sundown-Impostor`;

  it('lets a Sundown role append (PutItem + UpdateItem, as TransactWriteItems needs) and read', async () => {
    for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:Query']) {
      expect([action, await evaluate(writer(), action)]).toEqual([action, 'Allowed']);
    }
  });

  it('denies deletes and TTL even to a Sundown role', async () => {
    for (const action of AUDIT_NEVER_ACTIONS) {
      expect([action, await evaluate(writer(), action)]).toEqual([action, 'ExplicitlyDenied']);
    }
  });

  it('denies every item write to an administrator role, an IAM user and a look-alike role name', async () => {
    for (const principal of [admin, adminUser, lookalike]) {
      for (const action of [...AUDIT_WRITER_ONLY_ACTIONS, ...AUDIT_NEVER_ACTIONS]) {
        expect([principal, action, await evaluate(principal, action)]).toEqual([
          principal,
          action,
          'ExplicitlyDenied',
        ]);
      }
      expect(await evaluate(principal, 'dynamodb:Query')).toBe('Allowed');
    }
  });
});
