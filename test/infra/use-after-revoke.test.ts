/** The use-after-revoke detection's resources: rule, queue, function permissions, topic and key, alarm. */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UseAfterRevoke } from '../../lib/constructs/use-after-revoke.ts';
import { logicalIdOf, sundownTemplate } from './support.ts';

let template: Template;
let uar: UseAfterRevoke;
let resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;

beforeAll(() => {
  const built = sundownTemplate();
  template = built.template;
  uar = built.stack.sundown.node.findChild('UseAfterRevoke') as UseAfterRevoke;
  resources = template.toJSON().Resources;
}, 120_000);

describe('use-after-revoke', () => {
  it('matches CloudTrail access-denied errors of AWS services on the default bus into its queue', () => {
    const rule = resources[logicalIdOf(uar.rule)];
    expect(rule?.Properties.EventBusName).toBeUndefined();
    expect(rule?.Properties.State).toBe('ENABLED');
    expect(rule?.Properties.EventPattern).toEqual({
      source: [{ prefix: 'aws.' }],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: { errorCode: ['AccessDenied', 'AccessDeniedException', 'Client.UnauthorizedOperation'] },
    });
    const [target] = (rule?.Properties.Targets ?? []) as { Arn: unknown }[];
    expect(target?.Arn).toEqual({ 'Fn::GetAtt': [logicalIdOf(uar.queue.queue), 'Arn'] });
  });

  it('grants its function no IAM or STS, counter writes only on its own partition, publish only on its topic', () => {
    const policies = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties.Roles).includes(logicalIdOf(uar.fn.role)),
    );
    const statements = policies.flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
    );
    const actions = statements.flatMap((s) => [s.Action].flat() as string[]);
    expect(actions.filter((a) => /^(iam|sts):/.test(a))).toEqual([]);
    expect(actions).not.toContain('*');
    const update = statements.find((s) => s.Sid === 'CountAttempts');
    expect(update).toMatchObject({
      Action: 'dynamodb:UpdateItem',
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['use-after-revoke#*'] } },
    });
    const publish = statements.find((s) => [s.Action].flat().includes('sns:Publish'));
    expect(publish?.Resource).toEqual({ Ref: logicalIdOf(uar.topic) });
  });

  it('encrypts its topic with its own rotated key', () => {
    const topic = resources[logicalIdOf(uar.topic)];
    expect(topic?.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [logicalIdOf(uar.topicKey), 'Arn'] });
    expect(resources[logicalIdOf(uar.topicKey)]?.Properties.EnableKeyRotation).toBe(true);
  });

  it('alarms on the first UseAfterRevoke datapoint', () => {
    expect(resources[logicalIdOf(uar.alarm)]?.Properties).toMatchObject({
      Namespace: 'Sundown',
      MetricName: 'UseAfterRevoke',
      Dimensions: [{ Name: 'service', Value: 'sundown' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('receives read-only calls too when useAfterRevokeReadOnlyEvents is set', () => {
    const { stack, template: t } = sundownTemplate({ useAfterRevokeReadOnlyEvents: true });
    const rule = (stack.sundown.node.findChild('UseAfterRevoke') as UseAfterRevoke).rule;
    expect(t.toJSON().Resources[logicalIdOf(rule)].Properties.State).toBe(
      'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
    );
  }, 120_000);
});
