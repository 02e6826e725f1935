/**
 * Shared helpers for the CDK assertion tests: build Sundown's stack the way
 * bin/app.ts does, find logical IDs through the construct tree (never
 * hard-coded hashes), and read policy statements out of a template.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { parseConfig } from '../../lib/config.ts';
import { applySundownNag } from '../../lib/nag.ts';
import { SundownStack } from '../../lib/stacks/sundown-stack.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export interface BuiltSundown {
  app: App;
  stack: SundownStack;
}

/**
 * App properties for the assertion tests. Asset bundling is skipped: no assertion looks inside the
 * handler code, and `cdk synth` plus the integration tests bundle the real thing. CDK's built-in
 * CloudFormation validation is off (it compiles a WASM rule engine per test file, ~10 s, and
 * re-validates on every synth, ~3 s, while the assertions read the template): the nag tests turn it
 * on (`cfnValidation`) and fail on any finding it reports, and show that it reports one.
 */
export const TEST_APP_PROPS = {
  context: { 'aws:cdk:bundling-stacks': [] },
  builtinCloudFormationValidation: false,
} as const;

/** Sundown's stack as bin/app.ts builds it (`config` is the `sundown` context value). */
export function buildSundown(
  config: Record<string, unknown> = {},
  options: { nag?: boolean; cfnValidation?: boolean } = {},
): BuiltSundown {
  const app = new App({ ...TEST_APP_PROPS, builtinCloudFormationValidation: options.cfnValidation ?? false });
  const stack = new SundownStack(app, 'Sundown', {
    config: parseConfig(config),
    env: { account: ACCOUNT, region: REGION },
  });
  if (options.nag) applySundownNag(app);
  return { app, stack };
}

export function sundownTemplate(config: Record<string, unknown> = {}): {
  stack: SundownStack;
  template: Template;
} {
  const { stack } = buildSundown(config);
  return { stack, template: Template.fromStack(stack) };
}

/** The logical ID of a construct's CloudFormation resource (its default child for an L2). */
export function logicalIdOf(construct: IConstruct): string {
  const cfn = (construct.node.defaultChild ?? construct) as CfnResource;
  return Stack.of(cfn).resolve(cfn.logicalId) as string;
}

/** `{ 'Fn::GetAtt': [id, 'Arn'] }` -> id, else undefined. */
export function arnRefOf(value: unknown): string | undefined {
  const att = (value as { 'Fn::GetAtt'?: unknown[] } | undefined)?.['Fn::GetAtt'];
  return Array.isArray(att) && att[1] === 'Arn' ? String(att[0]) : undefined;
}

/** `{ Ref: id }` -> id, else undefined. */
export function refOf(value: unknown): string | undefined {
  const ref = (value as { Ref?: unknown } | undefined)?.Ref;
  return typeof ref === 'string' ? ref : undefined;
}

/**
 * A template value as a plain string: pseudo parameters become the test
 * environment's values, other references `<Id>` / `<Id.Attr>`.
 */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v?.['Fn::Join'])) {
    const [delimiter, items] = v['Fn::Join'] as [string, unknown[]];
    return items.map(render).join(delimiter);
  }
  if (Array.isArray(v?.['Fn::GetAtt'])) return `<${(v['Fn::GetAtt'] as unknown[]).join('.')}>`;
  const ref = refOf(value);
  if (ref !== undefined) {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::AccountId': ACCOUNT,
      'AWS::Region': REGION,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    return pseudo[ref] ?? `<${ref}>`;
  }
  return JSON.stringify(value);
}

/** `render` applied to every intrinsic inside a value (e.g. a policy document for an IAM simulator). */
export function renderDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(renderDeep);
  if (value && typeof value === 'object') {
    if (['Fn::Join', 'Fn::GetAtt', 'Ref'].some((k) => k in value)) return render(value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v)]));
  }
  return value;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export const actionsOf = (s: PolicyStatement): string[] => [s.Action ?? []].flat();
export const resourcesOf = (s: PolicyStatement): string[] => [s.Resource ?? []].flat().map(render);

/** Every statement of every policy document anywhere in the template (identity, resource, key, trust). */
export function everyStatement(template: Template): { where: string; statement: PolicyStatement }[] {
  const found: { where: string; statement: PolicyStatement }[] = [];
  const walk = (value: unknown, where: string) => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, where);
    } else if (value && typeof value === 'object') {
      const statements = (value as { Statement?: unknown }).Statement;
      if (Array.isArray(statements) && statements.every((s) => typeof s?.Effect === 'string')) {
        for (const statement of statements) found.push({ where, statement });
        return;
      }
      for (const [key, child] of Object.entries(value)) walk(child, `${where}.${key}`);
    }
  };
  for (const [id, resource] of Object.entries(template.toJSON().Resources as Record<string, unknown>)) {
    walk((resource as { Properties?: unknown }).Properties, id);
  }
  return found;
}

/** The statements of the AWS::IAM::Policy resources attached to the role with this logical ID. */
export function roleStatements(template: Template, roleId: string): PolicyStatement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => {
    const roles = (policy.Properties.Roles ?? []) as unknown[];
    return roles.some((r) => refOf(r) === roleId)
      ? (policy.Properties.PolicyDocument.Statement as PolicyStatement[])
      : [];
  });
}

/** The AwsSolutions findings cdk-nag left in an assembly's validation report (acknowledged ones are absent). */
export interface NagFinding {
  rule: string;
  severity: string;
  paths: string[];
}

/**
 * Synthesizes `app` (nag applied) and returns every finding the validation
 * report holds, warnings included. Error findings make synthesis throw; the
 * report is written before that, so it is read either way.
 */
export function synthNagFindings(app: App): { findings: NagFinding[]; error?: Error } {
  let error: Error | undefined;
  try {
    app.synth();
  } catch (e) {
    error = e as Error;
  }
  const report = JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: {
      pluginName: string;
      violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
    }[];
  };
  const findings = report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((v) => ({
      rule: v.ruleName,
      severity: v.severity,
      paths: v.violatingConstructs.map((c) => c.constructPath),
    })),
  );
  return { findings, ...(error ? { error } : {}) };
}
