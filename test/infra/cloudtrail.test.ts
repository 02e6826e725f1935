/**
 * The Lambda triggers match "AWS API Call via CloudTrail" events, which EventBridge receives only
 * while a trail logs management events in the region. `cloudTrail: 'create'` (the default) adds
 * such a trail and its log bucket; `existing` adds neither.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { refOf, sundownTemplate } from './support.ts';

type Resources = Record<
  string,
  { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; DependsOn?: string[] }
>;

const ofType = (resources: Resources, type: string) =>
  Object.entries(resources).filter(([, r]) => r.Type === type);

function lambdaApiCallRules(template: Template): string[] {
  return Object.values(template.findResources('AWS::Events::Rule'))
    .map((r) => r.Properties.EventPattern as { source?: string[]; 'detail-type'?: string[] } | undefined)
    .filter(
      (p) => p?.source?.includes('aws.lambda') && p['detail-type']?.includes('AWS API Call via CloudTrail'),
    )
    .map((p) => JSON.stringify(p));
}

describe('cloudTrail: create (the default)', () => {
  let template: Template;
  let resources: Resources;
  beforeAll(() => {
    template = sundownTemplate().template;
    resources = template.toJSON().Resources as Resources;
  }, 60_000);

  it('creates one trail that logs write management events of the stack region, and logs now', () => {
    const trails = ofType(resources, 'AWS::CloudTrail::Trail');
    expect(trails).toHaveLength(1);
    const [, trail] = trails[0] as [string, Resources[string]];
    expect(trail.Properties).toMatchObject({
      IsLogging: true,
      IsMultiRegionTrail: false,
      EnableLogFileValidation: true,
      EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'WriteOnly' }],
    });
    // Every rule that needs it is there to use it.
    expect(lambdaApiCallRules(template).length).toBeGreaterThanOrEqual(2);
  });

  it('writes to an encrypted, private, TLS-only bucket that outlives the stack', () => {
    const trail = ofType(resources, 'AWS::CloudTrail::Trail')[0]?.[1];
    const bucketId = refOf(trail?.Properties.S3BucketName) ?? '';
    const bucket = resources[bucketId];
    expect(bucket?.Type).toBe('AWS::S3::Bucket');
    expect(bucket?.DeletionPolicy).toBe('Retain');
    expect(bucket?.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: {} }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    const policies = ofType(resources, 'AWS::S3::BucketPolicy').filter(
      ([, p]) => refOf(p.Properties.Bucket) === bucketId,
    );
    expect(policies).toHaveLength(1);
    const document = policies[0]?.[1].Properties.PolicyDocument as { Statement?: unknown[] } | undefined;
    const statements = document?.Statement ?? [];
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 's3:PutObject',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
      }),
    );
    // CloudTrail checks the bucket policy when the trail is created.
    expect(trail?.DependsOn).toContain(policies[0]?.[0]);
  });
});

describe('cloudTrail: existing', () => {
  it('creates no trail and no bucket, and keeps the Lambda triggers', () => {
    const { template } = sundownTemplate({ cloudTrail: 'existing' });
    template.resourceCountIs('AWS::CloudTrail::Trail', 0);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(lambdaApiCallRules(template).length).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
