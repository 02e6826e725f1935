/**
 * The synthesized stack: triggers -> queues (with DLQs) -> handlers, the
 * tables and key, and the public outputs. Logical IDs come from the construct
 * tree; nothing here depends on a hashed ID.
 */
import { readFileSync } from 'node:fs';
import { StatusType } from '@aws-sdk/client-codebuild';
import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_INDEX } from '../../lambdas/audit/audit-log.ts';
import {
  CREDENTIALS_BY_STATUS,
  CREDENTIALS_BY_WORKLOAD,
} from '../../lambdas/registry/credential-registry.ts';
import { type Classification, classifyEvent } from '../../lambdas/triggers/classify.ts';
import { type RulePattern, TRIGGERS, type TriggerRule, triggerFor } from '../../lambdas/triggers/index.ts';
import type { DataTables } from '../../lib/constructs/data-tables.ts';
import type { QueueWithDlq } from '../../lib/constructs/queue-with-dlq.ts';
import type { SundownFunction } from '../../lib/constructs/sundown-function.ts';
import type { SundownStack } from '../../lib/stacks/sundown-stack.ts';
import { matchesPattern } from './event-pattern-match.ts';
import { arnRefOf, logicalIdOf, refOf, sundownTemplate } from './support.ts';

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};
interface RuleTarget {
  Arn: unknown;
  DeadLetterConfig?: { Arn: unknown };
  RetryPolicy?: { MaximumRetryAttempts?: number };
}

let stack: SundownStack;
let template: Template;
let resources: Record<string, Resource>;
/** Logical IDs of the constructs the assertions are about. */
let ids: {
  key: string;
  bus: string;
  queues: Record<
    'serviceEvents' | 'busEvents' | 'discoveryEvents' | 'revocations',
    { queue: string; dlq: string }
  >;
  functions: Record<'ended' | 'started' | 'revoker', string>;
  tables: { credentials: string; revocations: string; audit: string };
};

beforeAll(() => {
  ({ stack, template } = sundownTemplate());
  resources = template.toJSON().Resources;
  const queue = (id: string) => {
    const q = stack.sundown.node.findChild(id) as QueueWithDlq;
    return { queue: logicalIdOf(q.queue), dlq: logicalIdOf(q.deadLetterQueue) };
  };
  const fn = (id: string) => logicalIdOf((stack.sundown.node.findChild(id) as SundownFunction).fn);
  const data = stack.sundown.node.findChild('Data') as DataTables;
  ids = {
    key: logicalIdOf(stack.sundown.node.findChild('Key')),
    bus: logicalIdOf(stack.sundown.node.findChild('Bus')),
    queues: {
      serviceEvents: queue('ServiceEvents'),
      busEvents: queue('BusEvents'),
      discoveryEvents: queue('DiscoveryEvents'),
      revocations: queue('Revocations'),
    },
    functions: { ended: fn('WorkloadEnded'), started: fn('WorkloadStarted'), revoker: fn('Revoker') },
    tables: {
      credentials: logicalIdOf(data.credentials),
      revocations: logicalIdOf(data.revocations),
      audit: logicalIdOf(data.audit),
    },
  };
}, 120_000);

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const rules = () => ofType('AWS::Events::Rule');

/** Sorts every string array, so patterns compare by content and not by the order values are listed in. */
function normalized(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalized);
    return items.every((i) => typeof i === 'string') ? [...items].sort() : items;
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalized(v)]));
  }
  return value;
}

/** The rules whose pattern has this source and detail-type. */
function rulesFor(source: string, detailType: string): Resource[] {
  return rules()
    .map(([, r]) => r)
    .filter((r) => {
      // Schedule rules (the reconciliation sweep) have no pattern.
      const p = r.Properties.EventPattern as { source?: unknown[]; 'detail-type'?: unknown[] } | undefined;
      return p?.source?.includes(source) && p['detail-type']?.includes(detailType);
    });
}

describe('EventBridge triggers', () => {
  it('targets only SQS queues, each with a delivery DLQ and retries (never a Lambda function)', () => {
    expect(rules().length).toBeGreaterThan(0);
    for (const [id, rule] of rules()) {
      const targets = rule.Properties.Targets as RuleTarget[];
      expect(targets.length, id).toBeGreaterThan(0);
      for (const target of targets) {
        expect(resources[arnRefOf(target.Arn) ?? '']?.Type, `${id} target`).toBe('AWS::SQS::Queue');
        expect(resources[arnRefOf(target.DeadLetterConfig?.Arn) ?? '']?.Type, `${id} DLQ`).toBe(
          'AWS::SQS::Queue',
        );
        expect(target.RetryPolicy?.MaximumRetryAttempts, id).toBeGreaterThan(0);
      }
    }
    // No function may be invoked by EventBridge directly.
    const invokedByEvents = ofType('AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties.Principal === 'events.amazonaws.com',
    );
    expect(invokedByEvents).toEqual([]);
  });

  const workloadEnd: [string, string, Record<string, unknown>][] = [
    [
      'aws.ec2',
      'EC2 Instance State-change Notification',
      { detail: { state: ['shutting-down', 'terminated'] } },
    ],
    ['aws.autoscaling', 'EC2 Instance Terminate Successful', {}],
    ['aws.ecs', 'ECS Task State Change', { detail: { lastStatus: ['STOPPED'] } }],
    ['aws.batch', 'Batch Job State Change', { detail: { status: ['SUCCEEDED', 'FAILED'] } }],
    [
      'aws.lambda',
      'AWS API Call via CloudTrail',
      {
        detail: {
          eventSource: ['lambda.amazonaws.com'],
          eventName: ['DeleteFunction', 'DeleteFunction20150331'],
        },
      },
    ],
    [
      'aws.codebuild',
      'CodeBuild Build State Change',
      { detail: { 'build-status': ['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED'] } },
    ],
    [
      'aws.guardduty',
      'GuardDuty Finding',
      {
        detail: {
          type: [
            'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
            'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS',
          ],
        },
      },
    ],
  ];

  it.each(workloadEnd)(
    'routes %s "%s" workload ends from the default bus to ServiceEvents',
    (source, type, rest) => {
      const matching = rulesFor(source, type).filter(
        (r) => arnRefOf((r.Properties.Targets as RuleTarget[])[0]?.Arn) === ids.queues.serviceEvents.queue,
      );
      expect(matching).toHaveLength(1);
      const rule = matching[0] as Resource;
      expect(normalized(rule.Properties.EventPattern)).toEqual(
        normalized({ source: [source], 'detail-type': [type], ...rest }),
      );
      expect(rule.Properties.EventBusName).toBeUndefined(); // the default bus
    },
  );

  it('ends a build on every CodeBuild status but IN_PROGRESS, and the classifier agrees', () => {
    const completed = Object.values(StatusType).filter((status) => status !== StatusType.IN_PROGRESS);
    const [rule] = rulesFor('aws.codebuild', 'CodeBuild Build State Change').filter(
      (r) => arnRefOf((r.Properties.Targets as RuleTarget[])[0]?.Arn) === ids.queues.serviceEvents.queue,
    );
    const pattern = rule?.Properties.EventPattern as { detail?: { 'build-status'?: string[] } } | undefined;
    const matched = pattern?.detail?.['build-status'] ?? [];
    expect([...matched].sort()).toEqual(completed.sort());
    for (const status of completed) {
      const event = JSON.parse(readFileSync('test/events/codebuild-build-state-change.json', 'utf8'));
      event.detail['build-status'] = status;
      expect(classifyEvent(event).kind, status).toBe('workload-ended');
    }
  });

  it('revokes on EC2 "stopped" only when stoppedEndsWorkload is true', () => {
    const ec2States = (t: Template) =>
      Object.values(t.findResources('AWS::Events::Rule'))
        .map(
          (r) => r.Properties.EventPattern as { source: string[]; detail?: { state?: string[] } } | undefined,
        )
        .filter((p) => p?.source.includes('aws.ec2'))
        .flatMap((p) => p?.detail?.state ?? []);
    expect(ec2States(template)).not.toContain('stopped');

    const { template: stopping } = sundownTemplate({ stoppedEndsWorkload: true });
    const endRule = Object.values(stopping.findResources('AWS::Events::Rule')).find((r) =>
      (r.Properties.EventPattern?.detail?.state ?? []).includes('terminated'),
    );
    expect(normalized(endRule?.Properties.EventPattern.detail.state)).toEqual(
      normalized(['shutting-down', 'terminated', 'stopped']),
    );
    expect(ec2States(stopping)).toContain('running'); // discovery is unchanged
  }, 60_000);

  it('routes workload starts from the default bus to DiscoveryEvents', () => {
    const discovery = rules().filter(
      ([, r]) =>
        arnRefOf((r.Properties.Targets as RuleTarget[])[0]?.Arn) === ids.queues.discoveryEvents.queue,
    );
    const sources = discovery.flatMap(([, r]) => (r.Properties.EventPattern as { source: string[] }).source);
    expect(sources.sort()).toEqual(['aws.batch', 'aws.codebuild', 'aws.ec2', 'aws.ecs', 'aws.lambda']);
    for (const [, r] of discovery) expect(r.Properties.EventBusName).toBeUndefined();
    const ec2 = discovery.find(([, r]) => JSON.stringify(r.Properties.EventPattern).includes('aws.ec2'));
    expect(ec2?.[1].Properties.EventPattern).toMatchObject({ detail: { state: ['running'] } });
  });

  it("routes everything on Sundown's bus except its own audit events to BusEvents", () => {
    const target = new Capture();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: ids.bus },
      EventPattern: Match.objectEquals({ source: [{ 'anything-but': ['sundown.audit'] }] }),
      Targets: [Match.objectLike({ Arn: target, DeadLetterConfig: { Arn: Match.anyValue() } })],
    });
    expect(arnRefOf(target.asObject())).toBe(ids.queues.busEvents.queue);
    const onSundownBus = rules().filter(([, r]) => refOf(r.Properties.EventBusName) === ids.bus);
    expect(onSundownBus).toHaveLength(1);
  });

  it('lets EventBridge send to a queue only on behalf of a Sundown rule (aws:SourceArn)', () => {
    const ruleIds = new Set(rules().map(([id]) => id));
    const eventsStatements = ofType('AWS::SQS::QueuePolicy').flatMap(([, p]) =>
      (p.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement.filter(
        (s) => JSON.stringify(s.Principal).includes('events.amazonaws.com') && s.Effect === 'Allow',
      ),
    );
    expect(eventsStatements.length).toBeGreaterThan(0);
    for (const s of eventsStatements) {
      expect(s.Action).toBe('sqs:SendMessage');
      const sourceArn = (s.Condition as { ArnEquals?: Record<string, unknown> } | undefined)?.ArnEquals?.[
        'aws:SourceArn'
      ];
      expect(ruleIds.has(arnRefOf(sourceArn) ?? ''), JSON.stringify(s)).toBe(true);
    }
    // Every rule target and delivery DLQ carries such a statement.
    for (const [ruleId, rule] of rules()) {
      for (const target of rule.Properties.Targets as RuleTarget[]) {
        for (const queueId of [arnRefOf(target.Arn), arnRefOf(target.DeadLetterConfig?.Arn)]) {
          template.hasResourceProperties('AWS::SQS::QueuePolicy', {
            Queues: Match.arrayWith([{ Ref: queueId }]),
            PolicyDocument: {
              Statement: Match.arrayWith([
                Match.objectLike({
                  Effect: 'Allow',
                  Principal: { Service: 'events.amazonaws.com' },
                  Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
                }),
              ]),
            },
          });
        }
      }
    }
  });
});

type Event = Record<string, unknown> & {
  source: string;
  'detail-type': string;
  detail: Record<string, unknown>;
};
type CfnPattern = { source: string[]; 'detail-type': string[]; detail?: Record<string, string[]> };
const readEvent = (name: string) => JSON.parse(readFileSync(`test/events/${name}.json`, 'utf8')) as Event;

/**
 * The sample event (test/events/) of each rule of the runtime's triggers, and the detail members it
 * needs to mean what its rule says (an ECS task that is RUNNING and meant to be). A trigger's new
 * rule fails the test below until it has one.
 */
const RULE_FIXTURES: Record<string, { fixture: string; detail?: Record<string, unknown> }> = {
  Ec2InstanceEnded: { fixture: 'ec2-instance-state-change' },
  Ec2InstanceRunning: { fixture: 'ec2-instance-state-change' },
  AutoScalingTerminated: { fixture: 'autoscaling-instance-terminate' },
  EcsTaskStopped: { fixture: 'ecs-task-state-change' },
  EcsTaskRunning: { fixture: 'ecs-task-state-change', detail: { desiredStatus: 'RUNNING' } },
  BatchJobEnded: { fixture: 'batch-job-state-change' },
  BatchJobRunning: { fixture: 'batch-job-state-change' },
  LambdaFunctionDeleted: { fixture: 'lambda-cloudtrail-delete-function' },
  LambdaFunctionConfigured: { fixture: 'lambda-cloudtrail-create-function' },
  CodeBuildEnded: { fixture: 'codebuild-build-state-change' },
  CodeBuildStarted: { fixture: 'codebuild-build-state-change' },
  GuardDutyCredentialExfiltration: { fixture: 'guardduty-instance-credential-exfiltration' },
};

/** Sundown's own triggers (no rule of their own: the catch-all rule on its bus), by trigger name. */
const BUS_FIXTURES: Record<string, { fixture: string; kind: Classification['kind'] }> = {
  'sundown-workload-ended': { fixture: 'sundown-workload-ended', kind: 'workload-ended' },
  'sundown-credential-issued': { fixture: 'sundown-credential-issued', kind: 'credential-issued' },
};

/** A registry pattern as the template renders it (`detail-type`, not `detailType`). */
const cfnPattern = (p: RulePattern): CfnPattern => ({
  source: p.source,
  'detail-type': p.detailType,
  ...(p.detail ? { detail: p.detail } : {}),
});

/** One event per value the pattern lists: the sample with that detail value and the first of the others. */
function eventsMatching(pattern: CfnPattern, sample: Event): Event[] {
  const detail = Object.entries(pattern.detail ?? {});
  const first = Object.fromEntries(detail.map(([key, values]) => [key, values[0]]));
  const variants = detail.flatMap(([key, values]) => values.map((value) => ({ ...first, [key]: value })));
  return (variants.length > 0 ? variants : [{}]).map((members) => ({
    ...sample,
    source: pattern.source[0] as string,
    'detail-type': pattern['detail-type'][0] as string,
    detail: { ...sample.detail, ...members },
  }));
}

describe("EventBridge triggers agree with the runtime's triggers (lambdas/triggers/)", () => {
  const byQueue = { end: 'serviceEvents', start: 'discoveryEvents' } as const;
  const expectedKind = { end: 'workload-ended', start: 'workload-started' } as const;
  const registryRules = TRIGGERS.flatMap((trigger) =>
    (['end', 'start'] as const).flatMap((which) => {
      const rule: TriggerRule | undefined = trigger[which];
      return rule ? [{ trigger, rule, which }] : [];
    }),
  );
  /** The stack's rules on the default bus that send to this queue, by logical ID. */
  const rulesTo = (which: 'end' | 'start') =>
    rules().filter(
      ([, r]) =>
        r.Properties.EventBusName === undefined &&
        arnRefOf((r.Properties.Targets as RuleTarget[])[0]?.Arn) === ids.queues[byQueue[which]].queue,
    );

  it('gives every trigger a rule: its own on the default bus, or the catch-all on the Sundown bus', () => {
    for (const trigger of TRIGGERS) {
      if (trigger.bus === 'default') expect(trigger.end ?? trigger.start, trigger.name).toBeDefined();
      else expect(BUS_FIXTURES[trigger.name], `${trigger.name}: add it to BUS_FIXTURES`).toBeDefined();
    }
    expect(Object.keys(BUS_FIXTURES).sort()).toEqual(
      TRIGGERS.filter((t) => t.bus === 'sundown')
        .map((t) => t.name)
        .sort(),
    );
  });

  it("has exactly the triggers' rules on the default bus, under their construct IDs and with their patterns", () => {
    for (const which of ['end', 'start'] as const) {
      const deployed = rulesTo(which);
      const expected = registryRules.filter((r) => r.which === which);
      expect(deployed.map(([id]) => id).sort(), which).toHaveLength(expected.length);
      for (const { rule } of expected) {
        const found = deployed.filter(([id]) => id.includes(rule.id));
        expect(found, rule.id).toHaveLength(1);
        expect(normalized(found[0]?.[1].Properties.EventPattern), rule.id).toEqual(
          normalized(cfnPattern(rule.pattern({ stoppedEndsWorkload: false }))),
        );
      }
    }
  });

  it.each(registryRules.map(({ trigger, rule, which }) => [rule.id, trigger, rule, which] as const))(
    'classifies every event the %s rule matches as its trigger',
    (_id, trigger, rule, which) => {
      const sample = RULE_FIXTURES[rule.id];
      expect(sample, `${rule.id}: add its sample event to RULE_FIXTURES`).toBeDefined();
      const [, deployed] = rulesTo(which).find(([id]) => id.includes(rule.id)) ?? [];
      const pattern = deployed?.Properties.EventPattern as CfnPattern;
      const base = readEvent(sample?.fixture ?? '');
      const events = eventsMatching(pattern, { ...base, detail: { ...base.detail, ...sample?.detail } });
      expect(events.length).toBeGreaterThan(0);
      for (const event of events) {
        const what = `${rule.id}: ${JSON.stringify(Object.keys(pattern.detail ?? {}).map((k) => event.detail[k]))}`;
        expect(matchesPattern(pattern, event), what).toBe(true);
        expect(triggerFor(event.source, event['detail-type'])?.name, what).toBe(trigger.name);
        expect(classifyEvent(event).kind, what).toBe(expectedKind[which]);
      }
    },
  );

  it.each(Object.entries(BUS_FIXTURES))(
    'routes %s from the Sundown bus to BusEvents and classifies it as its trigger',
    (name, { fixture, kind }) => {
      const event = readEvent(fixture);
      const busRules = rules().filter(([, r]) => refOf(r.Properties.EventBusName) === ids.bus);
      expect(busRules).toHaveLength(1);
      const [, rule] = busRules[0] as [string, Resource];
      expect(arnRefOf((rule.Properties.Targets as RuleTarget[])[0]?.Arn)).toBe(ids.queues.busEvents.queue);
      expect(matchesPattern(rule.Properties.EventPattern as Record<string, unknown>, event)).toBe(true);
      expect(triggerFor(event.source, event['detail-type'])?.name).toBe(name);
      expect(classifyEvent(event).kind).toBe(kind);
    },
  );
});

describe('queues', () => {
  const workQueues = () => Object.values(ids.queues);

  it('gives every work queue a DLQ redrive with a bounded maxReceiveCount', () => {
    for (const { queue, dlq } of workQueues()) {
      const redrive = resources[queue]?.Properties.RedrivePolicy as {
        deadLetterTargetArn: unknown;
        maxReceiveCount: number;
      };
      expect(arnRefOf(redrive.deadLetterTargetArn), queue).toBe(dlq);
      expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(1);
      expect(redrive.maxReceiveCount).toBeLessThanOrEqual(10);
    }
  });

  it('leaves no queue without a DLQ unless it is one (SQS redrive or EventBridge delivery DLQ)', () => {
    const dlqs = new Set<string>();
    for (const [, q] of ofType('AWS::SQS::Queue')) {
      const target = arnRefOf(
        (q.Properties.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined)?.deadLetterTargetArn,
      );
      if (target) dlqs.add(target);
    }
    for (const [, r] of rules()) {
      for (const t of r.Properties.Targets as RuleTarget[]) dlqs.add(arnRefOf(t.DeadLetterConfig?.Arn) ?? '');
    }
    for (const [id, q] of ofType('AWS::SQS::Queue')) {
      expect(dlqs.has(id) || q.Properties.RedrivePolicy !== undefined, id).toBe(true);
    }
  });

  it("encrypts every queue with the stack's customer managed key", () => {
    const queues = ofType('AWS::SQS::Queue');
    expect(queues.length).toBeGreaterThanOrEqual(9);
    for (const [id, q] of queues) expect(arnRefOf(q.Properties.KmsMasterKeyId), id).toBe(ids.key);
  });

  it('denies every non-TLS request to every queue (aws:SecureTransport false)', () => {
    for (const [id] of ofType('AWS::SQS::Queue')) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: Match.arrayWith([{ Ref: id }]),
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 'sqs:*',
              Resource: { 'Fn::GetAtt': [id, 'Arn'] },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ]),
        },
      });
    }
  });

  it('makes the revocation queue and its DLQ FIFO with content-based deduplication', () => {
    for (const id of [ids.queues.revocations.queue, ids.queues.revocations.dlq]) {
      expect(resources[id]?.Properties).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: true });
      expect(String(resources[id]?.Properties.QueueName)).toMatch(/\.fifo$/);
    }
    for (const id of [
      ids.queues.serviceEvents.queue,
      ids.queues.busEvents.queue,
      ids.queues.discoveryEvents.queue,
    ]) {
      expect(resources[id]?.Properties.FifoQueue).toBeUndefined();
    }
  });

  it("sets each consumed queue's visibility timeout to at least 6x its consumer's timeout", () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBeGreaterThanOrEqual(4);
    for (const [id, m] of mappings) {
      const queue = resources[arnRefOf(m.Properties.EventSourceArn) ?? ''];
      const fn = resources[refOf(m.Properties.FunctionName) ?? ''];
      const timeout = Number(fn?.Properties.Timeout ?? 3);
      expect(Number(queue?.Properties.VisibilityTimeout ?? 30), id).toBeGreaterThanOrEqual(6 * timeout);
    }
  });
});

describe('event source mappings', () => {
  it('report partial batch failures on every mapping', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBeGreaterThan(0);
    for (const [id, m] of mappings) {
      expect(m.Properties.FunctionResponseTypes, id).toEqual(['ReportBatchItemFailures']);
    }
  });

  it('hands WorkloadEnded a burst in large batches (one revocation message and one IAM write per role per batch)', () => {
    const ended = ofType('AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => refOf(m.Properties.FunctionName) === ids.functions.ended,
    );
    expect(ended).toHaveLength(2);
    for (const [id, m] of ended) {
      // Standard queues allow batches over 10 only with a batching window.
      expect(m.Properties, id).toMatchObject({ BatchSize: 1000, MaximumBatchingWindowInSeconds: 1 });
    }
  });

  it('connects each work queue to the handler that owns it', () => {
    const consumer = (queueId: string) =>
      ofType('AWS::Lambda::EventSourceMapping')
        .filter(([, m]) => arnRefOf(m.Properties.EventSourceArn) === queueId)
        .map(([, m]) => refOf(m.Properties.FunctionName));
    expect(consumer(ids.queues.serviceEvents.queue)).toEqual([ids.functions.ended]);
    expect(consumer(ids.queues.busEvents.queue)).toEqual([ids.functions.ended]);
    expect(consumer(ids.queues.discoveryEvents.queue)).toEqual([ids.functions.started]);
    expect(consumer(ids.queues.revocations.queue)).toEqual([ids.functions.revoker]);
  });
});

describe('functions', () => {
  it('run Node.js 22 on arm64 with active tracing', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(3);
    for (const [id, fn] of functions) {
      expect(fn.Properties, id).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
    }
  });

  it('log to an explicit log group with retention, kept when the stack is deleted', () => {
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      const logGroupId = refOf((fn.Properties.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup);
      const logGroup = resources[logGroupId ?? ''];
      expect(logGroup?.Type, id).toBe('AWS::Logs::LogGroup');
      expect(logGroup?.Properties.RetentionInDays, id).toBeGreaterThan(0);
      expect(logGroup?.DeletionPolicy, id).toBe('Retain');
    }
  });
});

describe('tables and key', () => {
  it('protect every table: PITR, deletion protection, SSE with the customer managed key, retained', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables.map(([id]) => id).sort()).toEqual(Object.values(ids.tables).sort());
    for (const [id, table] of tables) {
      expect(table.Properties, id).toMatchObject({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [ids.key, 'Arn'] },
        },
      });
      expect(table.DeletionPolicy, id).toBe('Retain');
      expect(table.UpdateReplacePolicy, id).toBe('Retain');
    }
  });

  /** GSI name -> [partition key, sort key], from the template. */
  const indexes = (tableId: string) =>
    Object.fromEntries(
      (
        (resources[tableId]?.Properties.GlobalSecondaryIndexes ?? []) as {
          IndexName: string;
          KeySchema: { AttributeName: string; KeyType: string }[];
          Projection: { ProjectionType: string };
        }[]
      ).map((i) => [
        i.IndexName,
        [...i.KeySchema.map((k) => `${k.KeyType}:${k.AttributeName}`), i.Projection.ProjectionType],
      ]),
    );

  it('has the credentials indexes the registry queries (byWorkload, byStatus)', () => {
    expect(indexes(ids.tables.credentials)).toEqual({
      [CREDENTIALS_BY_WORKLOAD]: ['HASH:workloadId', 'RANGE:issuedAt', 'ALL'],
      [CREDENTIALS_BY_STATUS]: ['HASH:status', 'RANGE:expiresAt', 'ALL'],
    });
  });

  it('has the audit indexes the audit log queries (byWorkload, byCredential, byType, byTime, byDay)', () => {
    expect(indexes(ids.tables.audit)).toEqual({
      [AUDIT_INDEX.byWorkload]: ['HASH:workloadId', 'RANGE:at', 'ALL'],
      [AUDIT_INDEX.byCredential]: ['HASH:credentialId', 'RANGE:at', 'ALL'],
      [AUDIT_INDEX.byType]: ['HASH:type', 'RANGE:at', 'ALL'],
      [AUDIT_INDEX.byTime]: ['HASH:chainId', 'RANGE:at', 'ALL'],
      [AUDIT_INDEX.byDay]: ['HASH:dayShard', 'RANGE:at', 'ALL'],
    });
  });

  it("rotates the symmetric customer managed keys (Sundown's key, the use-after-revoke topic's key)", () => {
    expect(resources[ids.key]?.Properties.EnableKeyRotation).toBe(true);
    // Sundown's key and the use-after-revoke topic's key rotate; the audit seal key is asymmetric,
    // which KMS cannot rotate (test/infra/audit-sealing.test.ts).
    const keys = Object.values(resources).filter((r) => r.Type === 'AWS::KMS::Key');
    expect(keys).toHaveLength(3);
    const symmetric = keys.filter(
      (k) => (k.Properties.KeySpec ?? 'SYMMETRIC_DEFAULT') === 'SYMMETRIC_DEFAULT',
    );
    expect(symmetric).toHaveLength(2);
    for (const k of symmetric) expect(k.Properties.EnableKeyRotation).toBe(true);
  });
});

describe('outputs (public contract: the CLI and integration tests read them)', () => {
  it('exports the event bus and table names', () => {
    template.hasOutput('EventBusName', { Value: { Ref: ids.bus } });
    template.hasOutput('CredentialsTableName', { Value: { Ref: ids.tables.credentials } });
    template.hasOutput('AuditTableName', { Value: { Ref: ids.tables.audit } });
  });
});
