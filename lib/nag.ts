import {
  AspectPriority,
  Aspects,
  type CfnElement,
  type IAspect,
  Stack,
  type Stage,
  Validations,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { AuditSealing } from './constructs/audit-sealing.ts';
import { ManagementEventsTrail } from './constructs/management-trail.ts';
import { SundownFunction } from './constructs/sundown-function.ts';
import { getAttArnOf, type StackFacts, type Statement, wildcardFindings } from './nag/statements.ts';
import { WILDCARD_JUSTIFICATIONS } from './nag/wildcards/index.ts';

/**
 * Policy as code: the cdk-nag AwsSolutions pack runs on every synth, and every
 * finding Sundown accepts is acknowledged here with its reason.
 *
 * Error findings fail `cdk synth` (CDK's validation report); the infra tests
 * also fail on warnings. Acknowledgements are written into the template's
 * resource metadata (`cdk_nag.rules_to_suppress`) as an audit trail.
 *
 * IAM wildcard findings (AwsSolutions-IAM5) are acknowledged by what the
 * statements say, not by where they are: a finding is acknowledged only when
 * every Allow statement that produces it matches one of `WILDCARD_JUSTIFICATIONS`
 * (lib/nag/wildcards/, one per file; each checks actions, resources and conditions). An IAM write on `role/*`
 * without the opt-in condition therefore stays a finding and fails synth.
 */
export function applySundownNag(scope: Stage, options: { verbose?: boolean } = {}): void {
  // Before the pack: its metadata-writing aspect must see these acknowledgements.
  Aspects.of(scope).add(new SundownAcknowledgements(), { priority: AspectPriority.MUTATING });
  Validations.of(scope).addPlugins(
    new AwsSolutionsChecks(scope, {
      verbose: options.verbose ?? false,
      writeSuppressionsToCloudFormation: true,
    }),
  );
}

const REASONS = {
  lambdaRuntime:
    'nodejs22.x is pinned on purpose (an LTS runtime in standard support; bundles target node22 and the infra ' +
    'tests assert it): moving to a newer runtime is a deliberate, tested change, not an automatic one.',
  basicExecutionRole:
    'AWSLambdaBasicExecutionRole grants only CloudWatch Logs writes (CreateLogGroup/CreateLogStream/PutLogEvents, ' +
    'not scoped to a log group); each function logs to its own explicit log group with retention.',
  deliveryDlq:
    'This queue is itself a dead-letter queue: the DeadLetterConfig of EventBridge rule targets (events ' +
    'EventBridge could not deliver after its retries). A DLQ of a DLQ would only move them one hop further.',
  trailBucketAccessLogs:
    "The management-events trail's log bucket receives only CloudTrail's log files (bucket policy: " +
    'CloudTrail may write, nobody else may read outside the account, TLS only); log file validation ' +
    '(signed digest files) detects any change or deletion. Access logs would need another bucket for ' +
    'reads by operators; send them to an organization logging bucket where policy requires it.',
  sealArchiveAccessLogs:
    "The audit seal archive receives only the sealer's seal objects (TLS only, public access blocked, " +
    'Object Lock in COMPLIANCE mode: no version can be overwritten or deleted before its retention ends); ' +
    'each seal is signed, so a changed copy is detected. Access logs would need another bucket; send them to an ' +
    'organization logging bucket where policy requires it.',
} as const;

/** Records the acknowledgements during synthesis, when every grant has been made. */
class SundownAcknowledgements implements IAspect {
  visit(node: IConstruct): void {
    if (node instanceof SundownFunction) {
      // On the L1 resources themselves, so the acknowledgement covers nothing else.
      acknowledge(defaultChild(node.fn), 'AwsSolutions-L1', REASONS.lambdaRuntime);
      acknowledge(
        defaultChild(node.role),
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        REASONS.basicExecutionRole,
      );
    } else if (node instanceof AuditSealing && node.bucket) {
      acknowledge(defaultChild(node.bucket), 'AwsSolutions-S1', REASONS.sealArchiveAccessLogs);
    } else if (node instanceof ManagementEventsTrail) {
      acknowledge(defaultChild(node.bucket), 'AwsSolutions-S1', REASONS.trailBucketAccessLogs);
    } else if (node instanceof sqs.CfnQueue && isEventBridgeDeliveryDlq(node)) {
      acknowledge(node, 'AwsSolutions-SQS3', REASONS.deliveryDlq);
    } else if (node instanceof iam.CfnPolicy) {
      acknowledgeJustifiedWildcards(node);
    }
  }
}

function defaultChild(construct: IConstruct): IConstruct {
  return construct.node.defaultChild ?? construct;
}

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

function acknowledgeJustifiedWildcards(policy: iam.CfnPolicy): void {
  const stack = Stack.of(policy);
  const facts = stackFacts(stack);
  const document = stack.resolve(policy.policyDocument) as { Statement?: Statement[] };
  const reasons = new Map<string, Set<string>>();
  const unjustified = new Set<string>();
  for (const statement of document.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue; // cdk-nag does not report Deny statements
    for (const finding of wildcardFindings(statement)) {
      const justification = WILDCARD_JUSTIFICATIONS.find((j) => j.applies(statement, finding, facts));
      if (!justification) {
        unjustified.add(finding);
        continue;
      }
      reasons.set(finding, (reasons.get(finding) ?? new Set()).add(justification.reason));
    }
  }
  for (const [finding, why] of reasons) {
    if (unjustified.has(finding)) continue; // one unexplained statement keeps the finding
    acknowledge(policy, `AwsSolutions-IAM5[${finding}]`, [...why].join(' '));
  }
}

function isEventBridgeDeliveryDlq(queue: sqs.CfnQueue): boolean {
  const stack = Stack.of(queue);
  const queueId = stack.resolve(queue.logicalId) as string;
  return stack.node
    .findAll()
    .filter((c): c is events.CfnRule => c instanceof events.CfnRule)
    .some((rule) => {
      // L1 property values resolve with their TypeScript (camelCase) names.
      const targets = (stack.resolve(rule.targets) ?? []) as { deadLetterConfig?: { arn?: unknown } }[];
      return targets.some((t) => getAttArnOf(t.deadLetterConfig?.arn) === queueId);
    });
}

function stackFacts(stack: Stack): StackFacts {
  const logicalIds = (type: abstract new (...args: never[]) => CfnElement) =>
    new Set(
      stack.node
        .findAll()
        .filter((c): c is CfnElement => c instanceof type)
        .map((c) => stack.resolve(c.logicalId) as string),
    );
  return { keyIds: logicalIds(kms.CfnKey), tableIds: logicalIds(dynamodb.CfnTable) };
}
