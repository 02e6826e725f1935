/**
 * The local runtime's stand-in for Lambda's long polling (local/send-observer.ts): a message a
 * handler sends through the SDK is reported by queue name, and an event it puts by bus and source,
 * so the pollers of the queues it may reach (local/event-rules.ts) wake at once.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { busName, type QueueRule, queuesReached, valueMayMatch } from '../../local/event-rules.ts';
import { observeSends } from '../../local/send-observer.ts';

/** An SQS client that answers every call itself (or fails it), without a network. */
function clientAnswering(fail = false): SQSClient {
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  client.middlewareStack.add(
    () => async () => {
      if (fail) throw Object.assign(new Error('refused'), { name: 'AccessDenied' });
      return { output: { $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'answerLocally' },
  );
  return client;
}

/** An EventBridge client whose PutEvents accepts every entry but those with Source `refused`. */
function eventsAnswering(): EventBridgeClient {
  const client = new EventBridgeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  client.middlewareStack.add(
    () => async (args) => {
      const entries = (args.input as { Entries?: { Source?: string }[] }).Entries ?? [];
      return {
        output: {
          $metadata: {},
          Entries: entries.map((e) =>
            e.Source === 'refused' ? { ErrorCode: 'InvalidArgument' } : { EventId: 'x' },
          ),
        },
        response: {},
      };
    },
    { step: 'initialize', name: 'answerLocally' },
  );
  return client;
}

describe('observeSends', () => {
  it('reports each message send that succeeded, by queue name, until stopped', async () => {
    // Prepare
    const seen: string[] = [];
    const stop = observeSends({ queue: (queue) => seen.push(queue), events: () => undefined });
    const ok = clientAnswering();
    const failing = clientAnswering(true);
    const url = (name: string) => `http://127.0.0.1:5000/123456789012/${name}`;

    // Act
    await ok.send(new SendMessageCommand({ QueueUrl: url('Revocations.fifo'), MessageBody: 'x' }));
    await ok.send(
      new SendMessageBatchCommand({ QueueUrl: url('Events'), Entries: [{ Id: '1', MessageBody: 'x' }] }),
    );
    await ok.send(new GetQueueAttributesCommand({ QueueUrl: url('NotASend') }));
    await expect(
      failing.send(new SendMessageCommand({ QueueUrl: url('Refused'), MessageBody: 'x' })),
    ).rejects.toThrow('refused');
    stop();
    await ok.send(new SendMessageCommand({ QueueUrl: url('AfterStop'), MessageBody: 'x' }));

    // Assess
    expect(seen).toEqual(['Revocations.fifo', 'Events']);
  });
});

describe('observeSends, events', () => {
  it('reports the entries EventBridge accepted, with their bus and source', async () => {
    // Prepare
    const seen: unknown[] = [];
    const stop = observeSends({ queue: () => undefined, events: (entries) => seen.push(entries) });
    const events = eventsAnswering();
    const entry = (Source: string, EventBusName?: string) => ({
      Source,
      DetailType: 'd',
      Detail: '{}',
      EventBusName,
    });

    // Act
    await events.send(
      new PutEventsCommand({ Entries: [entry('aws.ec2'), entry('refused'), entry('sundown', 'SundownBus')] }),
    );
    await events.send(new PutEventsCommand({ Entries: [entry('refused')] }));
    stop();
    await events.send(new PutEventsCommand({ Entries: [entry('aws.ec2')] }));

    // Assess
    expect(seen).toEqual([
      [
        { source: 'aws.ec2', detailType: 'd', detail: '{}' },
        { source: 'sundown', detailType: 'd', detail: '{}', bus: 'SundownBus' },
      ],
    ]);
  });
});

describe('which queues an event may reach', () => {
  const EC2 = 'EC2 Instance State-change Notification';
  const rules: QueueRule[] = [
    { queueName: 'ServiceEvents', bus: 'default', source: ['aws.ec2', 'aws.ecs'], detailType: [EC2] },
    {
      queueName: 'Discovery',
      bus: 'default',
      source: ['aws.ec2'],
      detailType: [EC2],
      detail: { state: ['running'] },
    },
    {
      queueName: 'UseAfterRevoke',
      bus: 'default',
      source: [{ prefix: 'aws.' }],
      detailType: ['AWS API Call via CloudTrail'],
    },
    { queueName: 'BusEvents', bus: 'SundownBus', source: [{ 'anything-but': ['sundown.audit'] }] },
    { queueName: 'Everything', bus: 'Other' },
  ];
  const put = (source: string, detailType: string, bus?: string, detail?: unknown) => ({
    source,
    detailType,
    ...(bus ? { bus } : {}),
    ...(detail ? { detail: JSON.stringify(detail) } : {}),
  });

  it('reads a pattern list of names, prefixes and anything-but, and wakes when unsure', () => {
    expect(valueMayMatch(['aws.ec2'], 'aws.ec2')).toBe(true);
    expect(valueMayMatch(['aws.ec2'], 'aws.ecs')).toBe(false);
    expect(valueMayMatch([{ prefix: 'aws.' }], 'aws.batch')).toBe(true);
    expect(valueMayMatch([{ prefix: 'aws.' }], 'sundown')).toBe(false);
    expect(valueMayMatch([{ 'anything-but': ['sundown.audit'] }], 'sundown.audit')).toBe(false);
    expect(valueMayMatch([{ 'anything-but': 'sundown.audit' }], 'sundown')).toBe(true);
    expect(valueMayMatch([{ 'anything-but': { prefix: 'x' } }], 'x.y')).toBe(true);
    expect(valueMayMatch([{ wildcard: 'aws.*' }], 'anything')).toBe(true);
    expect(valueMayMatch(undefined, 'anything')).toBe(true);
  });

  it('reads the source, the detail type and top-level detail fields: an end wakes only the end queue', () => {
    const ended = put('aws.ec2', EC2, undefined, { 'instance-id': 'i-1', state: 'terminated' });
    const running = put('aws.ec2', EC2, undefined, { 'instance-id': 'i-1', state: 'running' });
    expect([...queuesReached(rules, [ended])]).toEqual(['ServiceEvents']);
    expect([...queuesReached(rules, [running])].sort()).toEqual(['Discovery', 'ServiceEvents']);
    // A field the pattern requires but the event lacks, or a detail that is not JSON: no match.
    expect([...queuesReached(rules, [put('aws.ec2', EC2, undefined, { 'instance-id': 'i-1' })])]).toEqual([
      'ServiceEvents',
    ]);
    expect([...queuesReached(rules, [{ ...put('aws.ec2', EC2), detail: '{not json' }])]).toEqual([
      'ServiceEvents',
    ]);
    expect([...queuesReached(rules, [put('aws.iam', 'AWS API Call via CloudTrail')])]).toEqual([
      'UseAfterRevoke',
    ]);
    expect([...queuesReached(rules, [put('aws.ec2', 'Something Else')])]).toEqual([]);
  });

  it('matches the bus by name or ARN, and the default bus when none is named', () => {
    expect(busName(undefined)).toBe('default');
    expect(busName('arn:aws:events:us-east-1:123456789012:event-bus/SundownBus')).toBe('SundownBus');
    expect([...queuesReached(rules, [put('sundown.audit', 'Credential Revoked', 'SundownBus')])]).toEqual([]);
    expect([
      ...queuesReached(rules, [
        put('sundown', 'Workload Ended', 'arn:aws:events:us-east-1:1:event-bus/SundownBus'),
      ]),
    ]).toEqual(['BusEvents']);
    expect([...queuesReached(rules, [put('any', 'x', 'Other')])]).toEqual(['Everything']);
    expect([...queuesReached(rules, [put('sundown', 'x', 'Nobody')])]).toEqual([]);
  });
});
