/**
 * What one trigger is: the events it names (source and detail-type), the EventBridge rules that
 * catch them, the schema of their detail and what they mean (the normalization). Each trigger is
 * one file in this folder and one line in index.ts; lib/event-patterns.ts builds the rules from the
 * same list, so the infrastructure and the runtime cannot name different events.
 *
 * Plain data and pure functions only: lib/ imports this folder to synthesize the stack, so nothing
 * here may import the AWS SDK, the Lambda runtime (powertools, clients) or aws-cdk-lib
 * (.dependency-cruiser.cjs, rule `triggers-stay-pure`).
 */
import type { z } from 'zod';
import type { Classification, Env } from './shared.ts';

/** What a rule's pattern may depend on: the deployment's settings. */
export interface PatternOptions {
  /** EC2 `stopped` ends a workload (lib/config.ts `stoppedEndsWorkload`). */
  stoppedEndsWorkload: boolean;
}

/**
 * An EventBridge event pattern, in aws-cdk-lib's `events.EventPattern` shape (camelCase
 * `detailType`), so lib/ passes it to a rule as is. Its values are public contracts: accounts check
 * them from outside (spokes' rules, SECURITY.md), so change them only deliberately.
 */
export interface RulePattern {
  source: string[];
  detailType: string[];
  detail?: Record<string, string[]>;
}

/** One EventBridge rule on the default bus. */
export interface TriggerRule {
  /** The rule's construct ID: part of its logical ID, so it must never change. */
  id: string;
  pattern(opts: PatternOptions): RulePattern;
}

export interface TriggerModule {
  /** A short name for docs and test titles (`ec2-instance-state-change`). */
  name: string;
  source: string;
  detailType: string;
  /**
   * `default`: AWS service events on the default bus, caught by the `end` and `start` rules.
   * `sundown`: Sundown's own events, put on its bus (or a hub's) and caught there by one catch-all
   * rule (lib/event-patterns.ts `SUNDOWN_BUS_CATCH_ALL`, `HUB_BUS_REQUESTS`), so they have no rule
   * of their own.
   */
  bus: 'default' | 'sundown';
  /** The rule for the events that end a workload (routed to the ServiceEvents queue). */
  end?: TriggerRule;
  /** The rule for the events that start one (discovery, routed to the DiscoveryEvents queue). */
  start?: TriggerRule;
  detailSchema: z.ZodType;
  /** The event's meaning: a workload ended or started, a credential issued, ignored or rejected. */
  classify(env: Env): Classification;
}
