import * as events from 'aws-cdk-lib/aws-events';
import { CODEBUILD_COMPLETED_STATUSES } from '../lambdas/triggers/codebuild.ts';
import { sundownCredentialIssued } from '../lambdas/triggers/credential-issued.ts';
import { type PatternOptions, TRIGGERS, type TriggerRule } from '../lambdas/triggers/index.ts';
import { sundownWorkloadEnded } from '../lambdas/triggers/workload-ended.ts';

/**
 * The EventBridge patterns of Sundown's triggers, built from the runtime's list of triggers
 * (lambdas/triggers/index.ts, one module per trigger), so a rule and the code that reads its events
 * cannot drift apart. The keys are the rules' construct IDs: never rename one.
 */

export { CODEBUILD_COMPLETED_STATUSES };

function rules(pick: (t: (typeof TRIGGERS)[number]) => TriggerRule | undefined, opts: PatternOptions) {
  const patterns: Record<string, events.EventPattern> = {};
  for (const trigger of TRIGGERS) {
    const rule = pick(trigger);
    if (rule) patterns[rule.id] = rule.pattern(opts);
  }
  return patterns;
}

/** Workload-end events from AWS services, on the default bus. */
export function workloadEndPatterns(opts: PatternOptions): Record<string, events.EventPattern> {
  return rules((t) => t.end, opts);
}

/** Workload-start events (discovery of credentials issued without the broker), on the default bus. */
export function workloadStartPatterns(): Record<string, events.EventPattern> {
  return rules((t) => t.start, { stoppedEndsWorkload: false });
}

/** Source of the audit events Sundown publishes on its own bus. */
export { AUDIT_EVENT_SOURCE } from '../lambdas/shared/contract.ts';

import { AUDIT_EVENT_SOURCE, SUNDOWN_EVENT_SOURCE } from '../lambdas/shared/contract.ts';

/**
 * Everything on Sundown's own bus but its own audit events goes to one queue;
 * the handler accepts only source `sundown` there and audits anything else as
 * rejected (an AWS-looking event on a custom bus is a spoofing attempt).
 */
export const SUNDOWN_BUS_CATCH_ALL: events.EventPattern = {
  source: events.Match.anythingBut(AUDIT_EVENT_SOURCE),
};

/**
 * A hub's bus (issue 19): everything but AWS events goes to the requests queue. Spokes forward only
 * source `sundown` there; anything else a spoke principal puts on the hub bus (a `sundown.audit`
 * forgery, another source) reaches the handler too, which rejects and audits it. AWS events (the
 * `aws.` prefix is reserved to AWS) are matched by the end and start rules instead.
 */
export const HUB_BUS_REQUESTS: events.EventPattern = {
  source: events.Match.anythingButPrefix('aws.'),
};

export const SUNDOWN_SOURCE = SUNDOWN_EVENT_SOURCE;
export const DETAIL_TYPES = {
  workloadEnded: sundownWorkloadEnded.detailType,
  credentialIssued: sundownCredentialIssued.detailType,
} as const;
