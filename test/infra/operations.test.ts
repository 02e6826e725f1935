/**
 * Operations in the synthesized stack: the reconciliation sweep's schedule, queue and function
 * (least privilege), every alarm (metric, dimensions, statistic, threshold, action), the alarm
 * topic, the dashboard, the revocation store's index, the settings and the outputs.
 */

import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { REVOCATIONS_BY_NEXT_EXPIRY } from '../../lambdas/revocation/store.ts';
import { InvalidConfigError, parseConfig } from '../../lib/config.ts';
import type { AuditSealing } from '../../lib/constructs/audit-sealing.ts';
import type { DataTables } from '../../lib/constructs/data-tables.ts';
import {
  METRIC_NAMES,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
  type Monitoring,
  POLICY_CAPACITY_ALARM_PERCENT,
} from '../../lib/constructs/monitoring.ts';
import type { QueueWithDlq } from '../../lib/constructs/queue-with-dlq.ts';
import type { Reconciliation } from '../../lib/constructs/reconciliation.ts';
import type { UseAfterRevoke } from '../../lib/constructs/use-after-revoke.ts';
import type { SundownStack } from '../../lib/stacks/sundown-stack.ts';
import {
  ACCOUNT,
  actionsOf,
  arnRefOf,
  logicalIdOf,
  type PolicyStatement,
  refOf,
  render,
  resourcesOf,
  roleStatements,
  sundownTemplate,
} from './support.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };

let stack: SundownStack;
let template: Template;
let resources: Record<string, Resource>;
let ids: {
  topic: string;
  key: string;
  sweeper: string;
  sweeperRole: string;
  ticks: { queue: string; dlq: string };
  schedule: string;
  deliveryDlq: string;
  dlqs: Record<string, string>;
};

beforeAll(() => {
  ({ stack, template } = sundownTemplate());
  resources = template.toJSON().Resources;
  const reconciliation = stack.sundown.node.findChild('Reconciliation') as Reconciliation;
  const monitoring = stack.sundown.node.findChild('Monitoring') as Monitoring;
  const dlqOf = (id: string) =>
    logicalIdOf((stack.sundown.node.findChild(id) as QueueWithDlq).deadLetterQueue);
  ids = {
    topic: logicalIdOf(monitoring.topic),
    key: logicalIdOf(stack.sundown.node.findChild('Key')),
    sweeper: logicalIdOf(reconciliation.sweeper.fn),
    sweeperRole: logicalIdOf(reconciliation.sweeper.role),
    ticks: {
      queue: logicalIdOf(reconciliation.ticks.queue),
      dlq: logicalIdOf(reconciliation.ticks.deadLetterQueue),
    },
    schedule: logicalIdOf(reconciliation.schedule),
    deliveryDlq: logicalIdOf(stack.sundown.node.findChild('EventDeliveryDlq')),
    dlqs: {
      ServiceEvents: dlqOf('ServiceEvents'),
      BusEvents: dlqOf('BusEvents'),
      DiscoveryEvents: dlqOf('DiscoveryEvents'),
      Revocations: dlqOf('Revocations'),
      EventDelivery: logicalIdOf(stack.sundown.node.findChild('EventDeliveryDlq')),
      SweepTicks: logicalIdOf(reconciliation.ticks.deadLetterQueue),
      UseAfterRevoke: logicalIdOf(
        (stack.sundown.node.findChild('UseAfterRevoke') as UseAfterRevoke).queue.deadLetterQueue,
      ),
      SealTicks: logicalIdOf(
        (stack.sundown.node.findChild('AuditSealing') as AuditSealing).ticks.deadLetterQueue,
      ),
    },
  };
}, 120_000);

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const alarms = () => ofType('AWS::CloudWatch::Alarm');

/** The one alarm on this metric (and dimensions), else fails. */
function alarmOn(metricName: string, dimensions?: Record<string, unknown>): Record<string, unknown> {
  const found = alarms().filter(([, a]) => {
    if (a.Properties.MetricName !== metricName) return false;
    if (!dimensions) return true;
    const dims = (a.Properties.Dimensions as { Name: string; Value: unknown }[])
      .map((d) => `${d.Name}=${render(d.Value)}`)
      .sort();
    return (
      JSON.stringify(dims) ===
      JSON.stringify(
        Object.entries(dimensions)
          .map(([k, v]) => `${k}=${v}`)
          .sort(),
      )
    );
  });
  expect(found, `${metricName} ${JSON.stringify(dimensions)}`).toHaveLength(1);
  return (found[0] as [string, Resource])[1].Properties;
}

describe('reconciliation sweep', () => {
  it('runs on a schedule (default every 5 minutes) through a queue with a DLQ and a delivery DLQ', () => {
    const rule = resources[ids.schedule];
    expect(rule?.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule?.Properties.EventPattern).toBeUndefined();
    expect(rule?.Properties.EventBusName).toBeUndefined(); // schedules run on the default bus
    const [target] = (rule?.Properties.Targets ?? []) as {
      Arn: unknown;
      DeadLetterConfig: { Arn: unknown };
    }[];
    expect(arnRefOf(target?.Arn)).toBe(ids.ticks.queue);
    expect(arnRefOf(target?.DeadLetterConfig.Arn)).toBe(ids.deliveryDlq);
    const redrive = resources[ids.ticks.queue]?.Properties.RedrivePolicy as { deadLetterTargetArn: unknown };
    expect(arnRefOf(redrive.deadLetterTargetArn)).toBe(ids.ticks.dlq);
  });

  it('takes its schedule, batch size and idle-key period from the configuration', () => {
    const { stack: s, template: t } = sundownTemplate({
      sweepSchedule: 'cron(0/10 * * * ? *)',
      sweepBatchSize: 250,
      idleKeyDays: 7,
    });
    const rec = s.sundown.node.findChild('Reconciliation') as Reconciliation;
    const r = t.toJSON().Resources;
    expect(r[logicalIdOf(rec.schedule)].Properties.ScheduleExpression).toBe('cron(0/10 * * * ? *)');
    expect(r[logicalIdOf(rec.sweeper.fn)].Properties.Environment.Variables).toMatchObject({
      SUNDOWN_SWEEP_BATCH_SIZE: '250',
      SUNDOWN_IDLE_KEY_DAYS: '7',
    });
  }, 60_000);

  it('feeds the Sweeper one tick at a time, with partial batch responses', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => refOf(m.Properties.FunctionName) === ids.sweeper,
    );
    expect(mappings).toHaveLength(1);
    expect(arnRefOf(mappings[0]?.[1].Properties.EventSourceArn)).toBe(ids.ticks.queue);
    expect(mappings[0]?.[1].Properties).toMatchObject({
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(resources[ids.sweeper]?.Properties.Environment).toMatchObject({
      Variables: { SUNDOWN_SWEEP_BATCH_SIZE: '100', SUNDOWN_IDLE_KEY_DAYS: '30' },
    });
  });

  it('gives the Sweeper read-only lookups and no IAM write: changes go through the revocation queue', () => {
    const statements = roleStatements(template, ids.sweeperRole).filter((s) => s.Effect === 'Allow');
    const all = statements.flatMap(actionsOf);
    expect(all.filter((a) => a.startsWith('iam:')).sort()).toEqual(
      [
        'iam:GetAccessKeyLastUsed',
        'iam:GetPolicy',
        'iam:GetPolicyVersion',
        'iam:GetRole',
        'iam:GetRolePolicy',
        'iam:GetUser',
        'iam:ListAttachedRolePolicies',
      ].sort(),
    );
    const lookup = statements.find((s) => actionsOf(s).includes('ec2:DescribeInstances')) as PolicyStatement;
    expect(actionsOf(lookup).sort()).toEqual(
      ['batch:DescribeJobs', 'codebuild:BatchGetBuilds', 'ec2:DescribeInstances', 'ecs:DescribeTasks'].sort(),
    );
    const lambda = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')));
    expect(lambda.flatMap(actionsOf)).toEqual(['lambda:GetFunctionConcurrency']);
    expect(lambda.flatMap(resourcesOf)).toEqual([`arn:aws:lambda:us-east-1:${ACCOUNT}:function:*`]);
    const policies = statements.find((s) => actionsOf(s).includes('iam:GetPolicy')) as PolicyStatement;
    expect(resourcesOf(policies)).toEqual([`arn:aws:iam::${ACCOUNT}:policy/sundown/*`]);
    const sqsWrites = statements.filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    expect(sqsWrites.flatMap(resourcesOf)).toEqual([
      `<${logicalIdOf((stack.sundown.node.findChild('Revocations') as QueueWithDlq).queue)}.Arn>`,
    ]);
  });

  it('indexes the principals of the revocation store by next expiry (sparse: only #meta items)', () => {
    const data = stack.sundown.node.findChild('Data') as DataTables;
    const table = resources[logicalIdOf(data.revocations)];
    expect(table?.Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: REVOCATIONS_BY_NEXT_EXPIRY,
        KeySchema: [
          { AttributeName: 'metaIndex', KeyType: 'HASH' },
          { AttributeName: 'nextExpiry', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });
});

describe('alarms', () => {
  it('alarm on any message in each of the seven DLQs', () => {
    const dlqAlarms = alarms().filter(
      ([, a]) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    const watched = dlqAlarms.map(([, a]) => {
      const [dim] = a.Properties.Dimensions as { Name: string; Value: { 'Fn::GetAtt': [string, string] } }[];
      expect(a.Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        Statistic: 'Maximum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
      });
      expect(dim?.Name).toBe('QueueName');
      expect(dim?.Value['Fn::GetAtt'][1]).toBe('QueueName');
      return dim?.Value['Fn::GetAtt'][0];
    });
    expect(watched.sort()).toEqual(Object.values(ids.dlqs).sort());
  });

  it('alarm on any failed revocation, on the exact metric the functions emit', () => {
    expect(alarmOn(METRIC_NAMES.revocationsFailed, { service: 'sundown' })).toMatchObject({
      Namespace: 'Sundown',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarm when time-to-revoke p99 exceeds the configured threshold (default 300 s)', () => {
    expect(alarmOn(METRIC_NAMES.timeToRevoke, { service: 'sundown' })).toMatchObject({
      Namespace: 'Sundown',
      ExtendedStatistic: 'p99',
      Threshold: 300_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    const { template: t } = sundownTemplate({ timeToRevokeP99AlarmSeconds: 45 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TimeToRevoke',
      ExtendedStatistic: 'p99',
      Threshold: 45_000,
    });
  }, 60_000);

  it('alarm when any role is over 80% of its policy capacity (maximum over roles)', () => {
    expect(POLICY_CAPACITY_ALARM_PERCENT).toBe(80);
    expect(alarmOn(METRIC_NAMES.policyCapacityUsed, { service: 'sundown' })).toMatchObject({
      Namespace: 'Sundown',
      Statistic: 'Maximum',
      Threshold: 80,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('alarm when the sweep finds a workload whose end event was missed', () => {
    expect(
      alarmOn(METRIC_NAMES.reconciliationFindings, { service: 'sundown', finding: 'missed-end' }),
    ).toMatchObject({
      Namespace: 'Sundown',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('all notify the alarm topic and treat missing data as not breaching', () => {
    expect(alarms()).toHaveLength(13); // 10 operations alarms, use-after-revoke and its DLQ, the SealTicks DLQ
    for (const [id, a] of alarms()) {
      expect(a.Properties.AlarmActions, id).toEqual([{ Ref: ids.topic }]);
      expect(a.Properties.TreatMissingData, id).toBe('notBreaching');
      expect(String(a.Properties.AlarmDescription), id).toMatch(/^Sundown: /);
    }
  });

  it('watch the namespace and service every function publishes under (Powertools adds service)', () => {
    expect([METRICS_NAMESPACE, METRICS_SERVICE]).toEqual(['Sundown', 'sundown']);
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      expect(
        (fn.Properties.Environment as { Variables: Record<string, string> }).Variables,
        id,
      ).toMatchObject({
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
      });
    }
  });
});

describe('alarm topic', () => {
  it('is encrypted with the stack key, TLS-only, and lets only this account’s alarms publish', () => {
    expect(arnRefOf(resources[ids.topic]?.Properties.KmsMasterKeyId)).toBe(ids.key);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: ids.topic }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
            },
          }),
        ]),
      },
    });
    const key = resources[ids.key]?.Properties.KeyPolicy as { Statement: PolicyStatement[] };
    const forAlarms = key.Statement.find(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }),
    );
    expect(actionsOf(forAlarms as PolicyStatement).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
  });

  it('has no subscriber by default and one email subscription per configured address', () => {
    expect(ofType('AWS::SNS::Subscription')).toEqual([]);
    const { template: t } = sundownTemplate({ alarmEmails: ['oncall@example.com', 'sec@example.com'] });
    const subs = Object.values(t.findResources('AWS::SNS::Subscription'));
    expect(subs.map((s) => [s.Properties.Protocol, s.Properties.Endpoint]).sort()).toEqual([
      ['email', 'oncall@example.com'],
      ['email', 'sec@example.com'],
    ]);
  }, 60_000);
});

describe('dashboard', () => {
  /** The dashboard body with references rendered `<Id.Attr>`, parsed. */
  function body(): { widgets: { type: string; properties: Record<string, unknown> }[] } {
    const [dashboard] = ofType('AWS::CloudWatch::Dashboard');
    return JSON.parse(render(dashboard?.[1].Properties.DashboardBody));
  }

  it('is one dashboard, named after the stack', () => {
    expect(ofType('AWS::CloudWatch::Dashboard')).toHaveLength(1);
    const [dashboard] = ofType('AWS::CloudWatch::Dashboard');
    expect(dashboard?.[1].Properties.DashboardName).toBe('Sundown-operations');
  });

  it('shows every alarm', () => {
    const alarmWidgets = body().widgets.filter((w) => w.type === 'alarm');
    expect(alarmWidgets.flatMap((w) => (w.properties.alarms ?? []) as string[]).sort()).toEqual(
      alarms()
        .map(([id]) => `<${id}.Arn>`)
        .sort(),
    );
  });

  it('graphs revocations by kind and outcome, time-to-revoke, rejected events, failures, capacity per role, findings, queues', () => {
    const graphs = body().widgets.filter((w) => w.type === 'metric');
    expect(graphs.map((w) => w.properties.title)).toEqual([
      'Revocations',
      'Revocations by kind and outcome',
      'Time to revoke (ms)',
      'Policy capacity used (%)',
      'Reconciliation findings',
      'Rejected events and IAM writes',
      'Queue depth',
      'Oldest message age (s)',
      'Dead-letter queue depth',
      'Function errors and throttles',
      'Use-after-revoke alerts and attempts',
    ]);
    const text = JSON.stringify(graphs);
    for (const name of Object.values(METRIC_NAMES)) expect(text, name).toContain(name);
    expect(text).toContain(
      `SEARCH('{Sundown,service,kind,outcome} MetricName=\\"Revocations\\"', 'Sum', 300)`,
    );
    expect(text).toContain(
      `SEARCH('{Sundown,service,role} MetricName=\\"PolicyCapacityUsed\\"', 'Maximum', 300)`,
    );
    expect(text).toContain(
      `SEARCH('{Sundown,service,finding} MetricName=\\"ReconciliationFindings\\"', 'Sum', 300)`,
    );
    for (const dlq of Object.values(ids.dlqs)) expect(text).toContain(`<${dlq}.QueueName>`);
  });
});

describe('settings and outputs', () => {
  it('default as documented, and invalid values fail synth naming the setting', () => {
    expect(parseConfig({})).toMatchObject({
      sweepSchedule: 'rate(5 minutes)',
      sweepBatchSize: 100,
      idleKeyDays: 30,
      alarmEmails: [],
      timeToRevokeP99AlarmSeconds: 300,
    });
    expect(parseConfig({ sweepSchedule: 'rate(1 minute)' }).sweepSchedule).toBe('rate(1 minute)');
    const invalid: [Record<string, unknown>, RegExp][] = [
      [{ sweepSchedule: 'every 5 minutes' }, /sweepSchedule: must be an EventBridge schedule expression/],
      [{ sweepSchedule: 'rate(1 minutes)' }, /sweepSchedule/],
      [{ sweepBatchSize: 0 }, /sweepBatchSize/],
      [{ idleKeyDays: 0.5 }, /idleKeyDays/],
      [{ alarmEmails: ['not-an-email'] }, /alarmEmails\.0: must be an email address/],
      [{ timeToRevokeP99AlarmSeconds: 0 }, /timeToRevokeP99AlarmSeconds/],
    ];
    for (const [raw, message] of invalid) {
      expect(() => parseConfig(raw)).toThrow(InvalidConfigError);
      expect(() => parseConfig(raw)).toThrow(message);
    }
  });

  it('exports the sweeper, its DLQ, the alarm topic and the dashboard', () => {
    template.hasOutput('SweeperFunctionName', { Value: { Ref: ids.sweeper } });
    template.hasOutput('SweepTicksDlqUrl', { Value: { Ref: ids.ticks.dlq } });
    template.hasOutput('AlarmTopicArn', { Value: { Ref: ids.topic } });
    template.hasOutput('DashboardName', { Value: 'Sundown-operations' });
  });
});
