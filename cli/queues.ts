/**
 * Sundown's queues as the operator commands see them: every dead-letter queue is a stack output
 * `<Name>DlqUrl`, and SQS says which queue redrives into it (ListDeadLetterSourceQueues). The
 * EventDelivery DLQ is EventBridge's (no source queue): each of its messages names the queue it
 * was meant for in its `TARGET_ARN` attribute.
 */
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetQueueAttributesCommand,
  ListDeadLetterSourceQueuesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { ResolvedTarget } from './target.ts';

export interface SundownDlq {
  /** Output name without `DlqUrl`: ServiceEvents, BusEvents, DiscoveryEvents, Revocations, EventDelivery, SweepTicks. */
  name: string;
  url: string;
  /** The work queue that redrives into it (none for EventDelivery). */
  sourceUrl?: string;
}

export function queueNameOf(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

export async function sundownDlqs(sqs: SQSClient, target: ResolvedTarget): Promise<SundownDlq[]> {
  const dlqs: SundownDlq[] = [];
  for (const [key, url] of Object.entries(target.outputs)) {
    const m = /^(\w+)DlqUrl$/.exec(key);
    if (!m?.[1] || !url) continue;
    const res = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: url }));
    const sourceUrl = res.queueUrls?.[0];
    dlqs.push({ name: m[1], url, ...(sourceUrl ? { sourceUrl } : {}) });
  }
  return dlqs.sort((a, b) => a.name.localeCompare(b.name));
}

export interface QueueFigures {
  url: string;
  /** ApproximateNumberOfMessages: visible, waiting to be received. */
  messages: number;
  /** ApproximateNumberOfMessagesNotVisible: received, being processed. */
  inFlight: number;
  oldestMessageAgeSeconds: number | null;
  /**
   * Where the age comes from: `cloudwatch` (AWS/SQS ApproximateAgeOfOldestMessage, the last minute
   * with data in the last 15), `peek` (SentTimestamp of the oldest of up to 10 messages received
   * with visibility timeout 0: a lower bound on a standard queue; only done on DLQs, where a receive
   * cannot move a message anywhere), or `none`.
   */
  ageSource: 'cloudwatch' | 'peek' | 'none';
}

async function ageFromCloudWatch(cw: CloudWatchClient, url: string, now: Date): Promise<number | null> {
  try {
    const res = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - 15 * 60_000),
        EndTime: now,
        ScanBy: 'TimestampDescending',
        MetricDataQueries: [
          {
            Id: 'age',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/SQS',
                MetricName: 'ApproximateAgeOfOldestMessage',
                Dimensions: [{ Name: 'QueueName', Value: queueNameOf(url) }],
              },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );
    const value = res.MetricDataResults?.[0]?.Values?.[0];
    return typeof value === 'number' ? value : null;
  } catch {
    return null; // no CloudWatch access, or an emulator without it: fall back
  }
}

async function ageFromPeek(sqs: SQSClient, url: string, now: Date): Promise<number | null> {
  const res = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['SentTimestamp'],
    }),
  );
  const sent = (res.Messages ?? [])
    .map((m) => Number(m.Attributes?.SentTimestamp))
    .filter((t) => Number.isFinite(t) && t > 0);
  if (sent.length === 0) return null;
  return Math.max(0, Math.round((now.getTime() - Math.min(...sent)) / 1000));
}

export async function queueFigures(
  sqs: SQSClient,
  cw: CloudWatchClient,
  url: string,
  options: { peek: boolean; now: Date },
): Promise<QueueFigures> {
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const messages = Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
  const inFlight = Number(attrs.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  const figures: QueueFigures = { url, messages, inFlight, oldestMessageAgeSeconds: null, ageSource: 'none' };
  if (messages + inFlight === 0) return figures;
  const fromCloudWatch = await ageFromCloudWatch(cw, url, options.now);
  if (fromCloudWatch !== null)
    return { ...figures, oldestMessageAgeSeconds: fromCloudWatch, ageSource: 'cloudwatch' };
  if (options.peek && messages > 0) {
    const peeked = await ageFromPeek(sqs, url, options.now);
    if (peeked !== null) return { ...figures, oldestMessageAgeSeconds: peeked, ageSource: 'peek' };
  }
  return figures;
}

export function cloudWatch(): CloudWatchClient {
  return new CloudWatchClient({ maxAttempts: 3 });
}
