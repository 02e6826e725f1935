import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { sundownTemplate } from './support.ts';

describe("Sundown's bus and key trust", () => {
  const { template } = sundownTemplate({ eventPublishers: ['arn:aws:iam::123456789012:role/deployer'] });
  const statements = Object.values(template.findResources('AWS::Events::EventBusPolicy')).map(
    (r) => (r as { Properties: { Statement: Record<string, unknown>; StatementId: string } }).Properties,
  );
  const byId = (id: string) =>
    statements.find((s) => s.StatementId === id)?.Statement as Record<string, unknown>;

  it('denies every source but sundown and sundown.audit on the bus', () => {
    expect(byId('OnlySundownSources')).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'events:PutEvents',
      Condition: { StringNotEquals: { 'events:source': ['sundown', 'sundown.audit'] } },
    });
  });

  it("lets only Sundown's own roles publish audit events", () => {
    const s = byId('AuditEventsOnlyFromSundown');
    expect(s).toMatchObject({
      Effect: 'Deny',
      Condition: { StringEquals: { 'events:source': 'sundown.audit' } },
    });
    const roles = (s.Condition as { ArnNotEquals: { 'aws:PrincipalArn': unknown[] } }).ArnNotEquals[
      'aws:PrincipalArn'
    ];
    // One entry per Sundown function role, each a reference to a role of this stack.
    expect(roles.length).toBeGreaterThanOrEqual(4);
    for (const role of roles)
      expect(JSON.stringify(role)).toMatch(/"Fn::GetAtt":\["\w+ServiceRole\w*","Arn"\]/);
  });

  it('with publishers configured, denies sundown requests from anyone else', () => {
    const s = byId('RequestsOnlyFromConfiguredPublishers');
    expect(s).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' } });
    expect(JSON.stringify(s)).toContain('arn:aws:iam::123456789012:role/deployer');
  });

  it('fails closed without publishers: no allow statement for anyone outside the account', () => {
    const open = sundownTemplate({}).template.findResources('AWS::Events::EventBusPolicy');
    const ids = Object.values(open).map(
      (r) => (r as { Properties: { StatementId: string } }).Properties.StatementId,
    );
    expect(ids.sort()).toEqual(['AuditEventsOnlyFromSundown', 'OnlySundownSources']);
  });

  it('lets EventBridge use the key only on behalf of this account', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ]),
      },
    });
  });
});
