/**
 * The scheduled revocation canary (issue 18; setting `canary`): absent by default, and with
 * `canary.enabled` a schedule -> queue -> function, a canary role trusted only by the broker,
 * least-privilege grants, an alarm on DrillFailed (missing data breaching) and dashboard widgets.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, parseConfig } from '../../lib/config.ts';
import { CHAINING_REASON, type RevocationCanary } from '../../lib/constructs/canary.ts';
import { failing, runPreflight } from '../../lib/preflight/engine.ts';
import { loadInputs } from '../../lib/preflight/input.ts';
import { iamViolations } from './iam-invariants.ts';
import {
  buildSundown,
  logicalIdOf,
  type PolicyStatement,
  render,
  roleStatements,
  sundownTemplate,
  synthNagFindings,
} from './support.ts';

const ENABLED = { canary: { enabled: true } };

describe('revocation canary', () => {
  it('is absent by default: no function, role, schedule, alarm or output of it', () => {
    const { template } = sundownTemplate();
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toMatch(/Canary|DrillFailed|SUNDOWN_CANARY/);
  });

  const { stack, template } = sundownTemplate(ENABLED);
  const canary = stack.sundown.node.findChild('Canary') as RevocationCanary;
  const fnId = logicalIdOf(canary.fn.fn);
  const fnRoleId = logicalIdOf(canary.fn.role);
  const canaryRoleId = logicalIdOf(canary.role);

  it('runs on the configured rate through its own queue with a DLQ, one drill per batch', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(canary.ticks.queue), 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 180,
      Environment: {
        Variables: Match.objectLike({
          SUNDOWN_CANARY_TIMEOUT_SECONDS: '120',
          SUNDOWN_CANARY_ROLE_ARN: { 'Fn::GetAtt': [canaryRoleId, 'Arn'] },
        }),
      },
    });
    const custom = sundownTemplate({
      canary: { enabled: true, schedule: 'rate(1 hour)', timeoutSeconds: 60 },
    });
    custom.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
  });

  it('creates a canary role: opted in, trusted only by the broker, allowed only the probe on itself', () => {
    const role = template.toJSON().Resources[canaryRoleId];
    expect(role.Properties.Tags).toEqual(
      expect.arrayContaining([{ Key: 'sundown:revoke', Value: 'enabled' }]),
    );
    const brokerRoleId = logicalIdOf(stack.brokerRole);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Sid: 'SundownBrokerIssuesSessions',
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
        Principal: { AWS: { 'Fn::GetAtt': [brokerRoleId, 'Arn'] } },
      },
    ]);
    expect(role.Properties.Policies).toBeUndefined();
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(roleStatements(template, canaryRoleId)).toEqual([
      {
        Sid: 'Probe',
        Effect: 'Allow',
        Action: 'iam:GetRole',
        Resource: { 'Fn::GetAtt': [canaryRoleId, 'Arn'] },
      },
    ]);
  });

  it('grants the function only what the drill needs, each on one resource, and nothing of IAM or STS', () => {
    const statements = roleStatements(template, fnRoleId);
    const bySid = Object.fromEntries(
      statements.filter((s) => s.Sid).map((s) => [s.Sid, s] as [string, PolicyStatement]),
    );
    const brokerFn = `<${logicalIdOf(stack.sundown.node.findChild('Broker').node.findChild('Function'))}.Arn>`;
    const one = (sid: string) => [bySid[sid]?.Action, [bySid[sid]?.Resource].flat().map(render)];
    expect(one('CallBrokerUrl')).toEqual(['lambda:InvokeFunctionUrl', [brokerFn]]);
    expect(bySid.CallBrokerUrl?.Condition).toEqual({
      StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' },
    });
    expect(one('InvokeBrokerOnlyViaUrl')).toEqual(['lambda:InvokeFunction', [brokerFn]]);
    expect(bySid.InvokeBrokerOnlyViaUrl?.Condition).toEqual({
      Bool: { 'lambda:InvokedViaFunctionUrl': 'true' },
    });
    expect(one('FindBrokerUrl')).toEqual(['lambda:GetFunctionUrlConfig', [brokerFn]]);
    expect(bySid.EndCanaryWorkloads?.Action).toBe('events:PutEvents');
    expect(bySid.EndCanaryWorkloads?.Condition).toEqual({
      StringEquals: { 'events:source': 'sundown', 'events:detail-type': 'Workload Ended' },
    });
    expect(bySid.ReadIssuedCredential?.Action).toBe('dynamodb:GetItem');
    expect(bySid.ReadWorkloadAudit?.Action).toBe('dynamodb:Query');
    expect(render(bySid.ReadWorkloadAudit?.Resource)).toMatch(/\/index\/byWorkload$/);
    expect(bySid.DecryptTablesViaDynamoDB?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' },
    });
    const actions = statements.flatMap((s) => [s.Action ?? []].flat());
    expect(actions.filter((a) => /^(iam|sts):/.test(a))).toEqual([]);
    expect(actions.filter((a) => /\*/.test(a))).toEqual([]);
    // Besides these, only X-Ray (tracing) and consuming its own ticks queue (encrypted with Sundown's key).
    const others = statements.filter((s) => !s.Sid);
    expect(others.flatMap((s) => [s.Action].flat()).sort()).toEqual(
      [
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'sqs:ReceiveMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueUrl',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'kms:Decrypt',
      ].sort(),
    );
    const ticks = `<${logicalIdOf(canary.ticks.queue)}.Arn>`;
    for (const s of others.filter((s) => [s.Action].flat().some((a) => a?.startsWith('sqs:'))))
      expect([s.Resource].flat().map(render)).toEqual([ticks]);
    expect(iamViolations(template)).toEqual([]);
  });

  it('alarms on DrillFailed over twice the interval, treating missing data as breaching, and graphs it', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DrillFailed',
      Namespace: 'Sundown',
      Dimensions: Match.arrayWith([
        { Name: 'service', Value: 'sundown' },
        { Name: 'source', Value: 'canary' },
      ]),
      Statistic: 'Maximum',
      Period: 1800,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('CanaryTicks DLQ'),
      TreatMissingData: 'notBreaching',
    });
    const dashboard = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboard).toContain('Revocation canary');
    expect(dashboard).toContain('TimeToRevoke');
    expect(dashboard).toContain('DrillFailed');
    expect(Object.keys(template.toJSON().Outputs)).toEqual(
      expect.arrayContaining(['CanaryFunctionName', 'CanaryRoleArn', 'CanaryTicksDlqUrl']),
    );
  });

  it('lets the canary past a restricted bus (eventPublishers) to put requests, never audit events', () => {
    const restricted = sundownTemplate({
      ...ENABLED,
      eventPublishers: ['arn:aws:iam::123456789012:role/ops'],
    });
    const policies = Object.values(restricted.template.findResources('AWS::Events::EventBusPolicy'));
    const only = policies.find((p) => p.Properties.StatementId === 'RequestsOnlyFromConfiguredPublishers');
    const audit = policies.find((p) => p.Properties.StatementId === 'AuditEventsOnlyFromSundown');
    const canaryFnRole = `<${logicalIdOf(restricted.stack.sundown.node.findChild('Canary').node.findChild('Function').node.findChild('Function').node.findChild('ServiceRole'))}.Arn>`;
    expect(JSON.stringify(only?.Properties.Statement.Condition).includes(canaryFnRole.slice(1, -5))).toBe(
      true,
    );
    expect(JSON.stringify(audit?.Properties.Statement.Condition).includes(canaryFnRole.slice(1, -5))).toBe(
      false,
    );
  });

  it("passes preflight over Sundown's own stack at every severity (the canary role's chaining suppressed, with its reason)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-canary-'));
    const file = path.join(dir, 'Sundown.template.json');
    fs.writeFileSync(file, JSON.stringify(template.toJSON()));
    const { templates, errors } = loadInputs([file]);
    const { findings } = runPreflight(templates);
    fs.rmSync(dir, { recursive: true, force: true });
    expect(errors).toEqual([]);
    expect(failing(findings, 'note')).toEqual([]);
    expect(findings.filter((f) => f.resource === canaryRoleId)).toEqual([
      expect.objectContaining({
        ruleId: 'role-chaining-from-workload',
        suppressed: { source: 'metadata', reason: CHAINING_REASON },
      }),
    ]);
  });

  it('is cdk-nag clean with no new acknowledgement', () => {
    const { app } = buildSundown(ENABLED, { nag: true });
    expect(synthNagFindings(app).findings).toEqual([]);
  }, 60_000);

  it('refuses schedules it cannot alarm on, and drills that would overlap', () => {
    for (const schedule of ['cron(0/15 * * * ? *)', 'rate(1 minute)', 'rate(7 hours)']) {
      expect(() => parseConfig({ canary: { enabled: true, schedule } })).toThrow(InvalidConfigError);
    }
    expect(() =>
      parseConfig({ canary: { enabled: true, schedule: 'rate(5 minutes)', timeoutSeconds: 300 } }),
    ).toThrow(/canary\.schedule: must leave each drill time to finish/);
    expect(parseConfig({}).canary).toEqual({
      enabled: false,
      schedule: 'rate(15 minutes)',
      timeoutSeconds: 120,
    });
  });
});
