/**
 * Reads what the local runtime needs from the deployed template: each
 * function's bundled code and environment (intrinsics resolved to the
 * emulator's physical names) and each SQS event source mapping's settings.
 */
import * as path from 'node:path';
import { CloudFormationClient, paginateListStackResources } from '@aws-sdk/client-cloudformation';
import type { Target } from './aws-env.ts';
import type { CfnTemplate } from './deploy.ts';
import { busName, type QueueRule } from './event-rules.ts';

export interface LocalFunction {
  logicalId: string;
  functionName: string;
  /** Absolute path of the bundled module that `cdk deploy` uploaded. */
  codeFile: string;
  exportName: string;
  environment: Record<string, string>;
  timeoutSeconds: number;
}

export interface LocalEventSource {
  logicalId: string;
  /** Physical UUID of the mapping in the emulator. */
  uuid: string;
  functionLogicalId: string;
  queueUrl: string;
  queueArn: string;
  batchSize: number;
  /** MaximumBatchingWindowInSeconds: how long Lambda gathers messages before invoking (0: no wait). */
  batchingWindowSeconds: number;
  reportBatchItemFailures: boolean;
  visibilityTimeoutSeconds: number;
  fifo: boolean;
}

export interface StackModel {
  functions: LocalFunction[];
  eventSources: LocalEventSource[];
  /** EventBridge rules (with an event pattern) that deliver to the stack's queues. */
  queueRules: QueueRule[];
  physicalIds: Record<string, string>;
}

export class StackModelError extends Error {}

async function physicalIdsOf(target: Target, stackName: string): Promise<Record<string, string>> {
  const cfn = new CloudFormationClient({ endpoint: target.endpoint, region: target.region });
  const ids: Record<string, string> = {};
  for await (const page of paginateListStackResources({ client: cfn }, { StackName: stackName })) {
    for (const r of page.StackResourceSummaries ?? []) {
      if (r.LogicalResourceId && r.PhysicalResourceId) ids[r.LogicalResourceId] = r.PhysicalResourceId;
    }
  }
  return ids;
}

function queueArnFromUrl(url: string, target: Target): string {
  const name = url.split('/').pop();
  return `arn:aws:sqs:${target.region}:${target.accountId}:${name}`;
}

/** Resolves the intrinsic functions CDK emits in environment variables and event source mappings. */
export function makeResolver(template: CfnTemplate, physicalIds: Record<string, string>, target: Target) {
  const physical = (logicalId: string): string => {
    const id = physicalIds[logicalId];
    if (id === undefined)
      throw new StackModelError(`resource ${logicalId} has no physical ID in the deployed stack`);
    return id;
  };
  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      if ('Ref' in obj) {
        const ref = String(obj.Ref);
        if (ref === 'AWS::Region') return target.region;
        if (ref === 'AWS::AccountId') return target.accountId;
        if (ref === 'AWS::Partition') return 'aws';
        if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
        return physical(ref);
      }
      if ('Fn::GetAtt' in obj) {
        const [logicalId, attr] = obj['Fn::GetAtt'] as [string, string];
        const type = template.Resources[logicalId]?.Type;
        const id = physical(logicalId);
        if (type === 'AWS::SQS::Queue' && attr === 'Arn') return queueArnFromUrl(id, target);
        if (type === 'AWS::SQS::Queue' && attr === 'QueueName') return id.split('/').pop() ?? id;
        if (type === 'AWS::SQS::Queue' && attr === 'QueueUrl') return id;
        if (type === 'AWS::DynamoDB::Table' && attr === 'Arn')
          return `arn:aws:dynamodb:${target.region}:${target.accountId}:table/${id}`;
        if (type === 'AWS::Events::EventBus' && attr === 'Arn')
          return `arn:aws:events:${target.region}:${target.accountId}:event-bus/${id}`;
        if (type === 'AWS::Events::EventBus' && attr === 'Name') return id;
        if (type === 'AWS::Lambda::Function' && attr === 'Arn')
          return `arn:aws:lambda:${target.region}:${target.accountId}:function:${id}`;
        if (type === 'AWS::KMS::Key' && attr === 'Arn')
          return id.startsWith('arn:') ? id : `arn:aws:kms:${target.region}:${target.accountId}:key/${id}`;
        if (type === 'AWS::IAM::Role' && attr === 'Arn') return `arn:aws:iam::${target.accountId}:role/${id}`;
        throw new StackModelError(`cannot resolve Fn::GetAtt ${logicalId}.${attr} (${type}) locally`);
      }
      if ('Fn::Join' in obj) {
        const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
        return parts.map(resolve).join(sep);
      }
    }
    throw new StackModelError(`cannot resolve ${JSON.stringify(value)} locally`);
  };
  return resolve;
}

export async function loadStackModel(
  target: Target,
  stackName: string,
  template: CfnTemplate,
  cloudAssemblyDir: string,
): Promise<StackModel> {
  const physicalIds = await physicalIdsOf(target, stackName);
  const resolve = makeResolver(template, physicalIds, target);
  const functions: LocalFunction[] = [];
  const eventSources: LocalEventSource[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::Lambda::Function') {
      const assetPath = resource.Metadata?.['aws:asset:path'];
      const handler = String(props.Handler ?? 'index.handler');
      if (typeof assetPath !== 'string') continue; // inline or non-asset code (none in Sundown)
      const [file, exportName] = [
        handler.slice(0, handler.lastIndexOf('.')),
        handler.slice(handler.lastIndexOf('.') + 1),
      ];
      const env = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
        {}) as Record<string, unknown>;
      functions.push({
        logicalId,
        functionName: physicalIds[logicalId] ?? logicalId,
        codeFile: path.join(cloudAssemblyDir, assetPath, `${file}.mjs`),
        exportName,
        environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, resolve(v)])),
        timeoutSeconds: Number(props.Timeout ?? 3),
      });
    }
  }
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const props = resource.Properties ?? {};
    const sourceArn = props.EventSourceArn as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const queueLogicalId = sourceArn?.['Fn::GetAtt']?.[0];
    const queue = queueLogicalId ? template.Resources[queueLogicalId] : undefined;
    if (!queueLogicalId || queue?.Type !== 'AWS::SQS::Queue') continue; // Sundown only maps SQS sources
    const fnRef = props.FunctionName as { Ref?: string } | undefined;
    const queueUrl = resolve({ Ref: queueLogicalId });
    eventSources.push({
      logicalId,
      uuid: physicalIds[logicalId] ?? '',
      functionLogicalId: fnRef?.Ref ?? '',
      queueUrl,
      queueArn: queueArnFromUrl(queueUrl, target),
      batchSize: Number(props.BatchSize ?? 10),
      batchingWindowSeconds: Number(props.MaximumBatchingWindowInSeconds ?? 0),
      reportBatchItemFailures: ((props.FunctionResponseTypes as string[] | undefined) ?? []).includes(
        'ReportBatchItemFailures',
      ),
      visibilityTimeoutSeconds: Number(queue.Properties?.VisibilityTimeout ?? 30),
      fifo: queue.Properties?.FifoQueue === true,
    });
  }
  return { functions, eventSources, queueRules: queueRulesOf(template, resolve), physicalIds };
}

/** The stack's event rules with a pattern and an SQS queue of the stack as a target. */
function queueRulesOf(template: CfnTemplate, resolve: (value: unknown) => string): QueueRule[] {
  const rules: QueueRule[] = [];
  for (const resource of Object.values(template.Resources)) {
    const props = resource.Properties ?? {};
    if (resource.Type !== 'AWS::Events::Rule' || !props.EventPattern) continue; // schedules match no event
    const pattern = props.EventPattern as { source?: unknown; 'detail-type'?: unknown; detail?: unknown };
    const detail =
      pattern.detail && typeof pattern.detail === 'object'
        ? Object.fromEntries(
            Object.entries(pattern.detail as Record<string, unknown>).filter(
              (entry): entry is [string, unknown[]] => Array.isArray(entry[1]),
            ),
          )
        : undefined;
    const bus = props.EventBusName === undefined ? 'default' : busName(resolve(props.EventBusName));
    for (const target of (props.Targets as { Arn?: unknown }[] | undefined) ?? []) {
      const queueLogicalId = (target.Arn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.[
        'Fn::GetAtt'
      ]?.[0];
      if (!queueLogicalId || template.Resources[queueLogicalId]?.Type !== 'AWS::SQS::Queue') continue;
      const queueUrl = resolve({ Ref: queueLogicalId });
      rules.push({
        queueName: queueUrl.slice(queueUrl.lastIndexOf('/') + 1),
        bus,
        ...(Array.isArray(pattern.source) ? { source: pattern.source } : {}),
        ...(Array.isArray(pattern['detail-type']) ? { detailType: pattern['detail-type'] } : {}),
        ...(detail && Object.keys(detail).length > 0 ? { detail } : {}),
      });
    }
  }
  return rules;
}
