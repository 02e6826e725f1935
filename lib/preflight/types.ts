/**
 * Preflight's model: a CloudFormation template as synthesized (JSON), the findings rules report on
 * it, and the options that tune the rules. The rules read templates, not constructs, so the same code
 * checks a cdk.out folder from the CLI and a stack inside a CDK app (aspect.ts).
 */

/** Finding levels, the same words SARIF uses for `level`. */
export const SEVERITIES = ['error', 'warning', 'note'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Higher is more severe. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.length - SEVERITIES.indexOf(severity);
}

export function atLeast(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) >= severityRank(threshold);
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}

/** One template to check: where it came from (a file path) and its parsed content. */
export interface TemplateInput {
  /** The template file, as given or as found through a cloud assembly's manifest. */
  path: string;
  /** The stack's name when known (from a cdk.out manifest or the CDK app). */
  stackName?: string;
  resources: Record<string, CfnResource>;
  /** Line of each resource in the file, when read from one (SARIF regions). */
  lines?: Record<string, number>;
}

export interface PreflightOptions {
  /**
   * Longest MaxSessionDuration (seconds) a workload role may allow.
   * @default 3600 (what the broker can issue at most: its AssumeRole is role chaining)
   */
  maxSessionDurationSeconds?: number;
  /**
   * The Sundown broker's role ARN (stack output `BrokerRoleArn`). When set, only a trust statement naming
   * exactly this ARN counts as the broker's; otherwise a statement added by `trustSundownBroker` (its Sid and
   * actions) does, whatever role it names.
   */
  brokerRoleArn?: string;
  /** IAM path prefixes (`/workloads/`) or role ARNs opted in by Sundown's `allowlist` setting instead of the tag. */
  allowlist?: readonly string[];
}

export interface ResolvedOptions {
  maxSessionDurationSeconds: number;
  brokerRoleArn: string | undefined;
  allowlist: readonly string[];
}

export function resolveOptions(options: PreflightOptions = {}): ResolvedOptions {
  const max = options.maxSessionDurationSeconds ?? 3600;
  if (!Number.isInteger(max) || max < 900 || max > 43_200) {
    throw new Error(
      `maxSessionDurationSeconds must be a whole number of seconds from 900 to 43200, got ${max}`,
    );
  }
  return {
    maxSessionDurationSeconds: max,
    brokerRoleArn: options.brokerRoleArn,
    allowlist: options.allowlist ?? [],
  };
}

/** What a rule reports: one resource of one template. */
export interface RuleFinding {
  /** Logical ID of the resource the finding is about (suppressions are read from its Metadata). */
  resource: string;
  message: string;
  /** Other resources involved (the workloads using a role, the role a workload names). */
  related?: string[];
}

export interface Suppression {
  source: 'metadata' | 'file';
  reason: string;
}

export interface Finding extends RuleFinding {
  ruleId: string;
  severity: Severity;
  /** Template path. */
  template: string;
  stackName?: string;
  resourceType: string;
  /** Line of the resource in the template file, when known. */
  line?: number;
  related: string[];
  suppressed?: Suppression;
}
