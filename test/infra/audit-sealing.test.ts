/**
 * The audit seal key and the sealer's permissions, asserted on the synthesized template and, for
 * the key policy, evaluated with an IAM policy simulator: moto stores key policies but does not
 * enforce them on Sign (it checks only Deny statements, and only for DescribeKey), so the emulator
 * cannot prove that only the sealer signs. This strict evaluation does.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT, buildSundown } from './support.ts';

type Json = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
  Principal?: unknown;
}

let template: Template;
let resources: Record<string, { Type: string; Properties: Json; DeletionPolicy?: string }>;
let keyId: string;
let sealerRole: string;

const KEY_ARN = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const roleArn = (logicalId: string) =>
  `arn:aws:iam::${ACCOUNT}:role/Sundown-${logicalId.slice(0, 40)}-ABCDEF`;

beforeAll(() => {
  template = Template.fromStack(buildSundown().stack);
  resources = template.toJSON().Resources;
  const key = Object.entries(resources).find(
    ([, r]) => r.Type === 'AWS::KMS::Key' && r.Properties.KeySpec === 'ECC_NIST_P256',
  );
  if (!key) throw new Error('no seal key');
  keyId = key[0];
  const role = Object.keys(resources).find((id) => /^AuditSealingSealerFunctionServiceRole/.test(id));
  if (!role) throw new Error('no sealer role');
  sealerRole = role;
}, 120_000);

function policyStatementsOf(roleLogicalId: string): Statement[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => JSON.stringify(r.Properties.Roles).includes(`"${roleLogicalId}"`))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The key policy with CloudFormation references resolved to concrete ARNs. */
function keyPolicy(): Json {
  const text = JSON.stringify(resources[keyId]?.Properties.KeyPolicy)
    .replace(/\{"Fn::GetAtt":\["([A-Za-z0-9]+)","Arn"\]\}/g, (_, id: string) => JSON.stringify(roleArn(id)))
    .replace(
      /\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":iam::123456789012:root"\]\]\}/g,
      `"arn:aws:iam::${ACCOUNT}:root"`,
    );
  return JSON.parse(text);
}

async function evaluate(principalArn: string, action: string): Promise<string> {
  const role = /:role\/(.+)$/.exec(principalArn)?.[1] as string;
  const response = await runSimulation(
    {
      identityPolicies: [
        {
          name: 'kms-admin',
          policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] },
        },
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: keyPolicy(),
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/session-1`,
        action,
        resource: { resource: KEY_ARN, accountId: ACCOUNT },
        contextVariables: { 'aws:PrincipalArn': principalArn },
      },
    },
    {},
  );
  if (response.resultType !== 'single')
    throw new Error(`unexpected simulation result ${response.resultType}`);
  return response.result.analysis.result;
}

describe('audit seal key', () => {
  it('is an asymmetric P-256 signing key, retained', () => {
    const key = resources[keyId];
    expect(key?.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    expect(key?.DeletionPolicy).toBe('Retain');
  });

  it('denies kms:Sign in its key policy to every principal but the sealer role', () => {
    const statements =
      (resources[keyId]?.Properties.KeyPolicy as { Statement: Statement[] } | undefined)?.Statement ?? [];
    const deny = statements.find((s) => s.Effect === 'Deny');
    expect(deny).toEqual({
      Sid: 'OnlyTheAuditSealerSigns',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'kms:Sign',
      Resource: '*',
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [sealerRole, 'Arn'] } } },
    });
  });

  it('lets the sealer sign and nobody else, not even a role allowed kms:* (strict policy evaluation)', async () => {
    const others = Object.keys(resources).filter(
      (id) => resources[id]?.Type === 'AWS::IAM::Role' && id !== sealerRole,
    );

    expect(await evaluate(roleArn(sealerRole), 'kms:Sign')).toBe('Allowed');
    for (const id of others) expect(await evaluate(roleArn(id), 'kms:Sign')).toBe('ExplicitlyDenied');
    expect(await evaluate(`arn:aws:iam::${ACCOUNT}:role/Administrator`, 'kms:Sign')).toBe('ExplicitlyDenied');
    expect(await evaluate(`arn:aws:iam::${ACCOUNT}:role/Administrator`, 'kms:GetPublicKey')).toBe('Allowed');
  });
});

describe('the sealer role', () => {
  it('signs only with the seal key, only ECDSA_SHA_256 over RAW messages; no other role may sign at all', () => {
    const signing = policyStatementsOf(sealerRole).filter((s) => [s.Action].flat().includes('kms:Sign'));
    const elsewhere = Object.values(resources)
      .filter(
        (r) => r.Type === 'AWS::IAM::Policy' && !JSON.stringify(r.Properties.Roles).includes(sealerRole),
      )
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => [s.Action].flat().some((a) => a === 'kms:Sign' || a === 'kms:*'));

    expect(signing).toEqual([
      {
        Sid: 'SignSeals',
        Effect: 'Allow',
        Action: 'kms:Sign',
        Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
        Condition: { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256', 'kms:MessageType': 'RAW' } },
      },
    ]);
    expect(elsewhere).toEqual([]);
  });

  it('writes only seal items to the audit table (PutItem on the seal partition), never records', () => {
    const writes = policyStatementsOf(sealerRole).filter((s) =>
      [s.Action].flat().some((a) => /dynamodb:(Put|Update|BatchWrite|Delete|PartiQL)/.test(a)),
    );

    expect(writes).toEqual([
      expect.objectContaining({
        Sid: 'WriteSealItemsOnly',
        Action: 'dynamodb:PutItem',
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['seal#main'] } },
      }),
    ]);
  });

  it('runs on its schedule through a queue with a DLQ, every 5 minutes by default', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Description: 'Sundown: audit trail sealing',
      ScheduleExpression: 'rate(5 minutes)',
    });
  });
});

describe('seal archive (auditSealArchive)', () => {
  it('is off by default, and when on is a versioned, retained bucket with COMPLIANCE Object Lock', () => {
    const on = Template.fromStack(
      buildSundown({
        auditSealArchive: true,
        auditSealArchiveRetentionDays: 30,
        auditSealSchedule: 'rate(15 minutes)',
      }).stack,
    );
    const buckets = (t: Template) =>
      Object.values(t.findResources('AWS::S3::Bucket')).filter((b) => b.Properties?.ObjectLockEnabled);

    expect(buckets(template)).toEqual([]);
    expect(buckets(on)).toEqual([
      expect.objectContaining({
        DeletionPolicy: 'Retain',
        Properties: expect.objectContaining({
          VersioningConfiguration: { Status: 'Enabled' },
          ObjectLockEnabled: true,
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
          },
        }),
      }),
    ]);
    on.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
  });
});
