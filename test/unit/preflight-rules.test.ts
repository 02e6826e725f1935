/**
 * Every preflight rule against its own fixtures (test/fixtures/preflight/<rule>/pass.json and
 * fail.json): the pass template is clean (no finding of any rule), the fail template yields the
 * rule's finding on the expected resources.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPreflight } from '../../lib/preflight/engine.ts';
import { loadInputs } from '../../lib/preflight/input.ts';
import { RULES } from '../../lib/preflight/rules/index.ts';
import type { CfnResource, PreflightOptions } from '../../lib/preflight/types.ts';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'preflight');

/** The resources each rule's fail.json must be reported on. */
const EXPECTED: Record<string, string[]> = {
  'workload-role-not-opted-in': ['JobRole', 'WorkersRole'],
  'trust-beyond-workload': ['TaskRole'],
  'wildcard-trust-principal': ['BuildRole'],
  'long-lived-access-key': ['DeployKey'],
  'session-duration-above-max': ['BatchJobRole'],
  'role-chaining-from-workload': ['DeployerRole'],
  'unresolved-reference': ['Host', 'Task'],
  'invalid-suppression': ['ToolRole'],
};

function check(file: string, options: PreflightOptions = {}) {
  const { templates, errors } = loadInputs([file]);
  expect(errors).toEqual([]);
  return runPreflight(templates, options).findings;
}

function template(resources: Record<string, CfnResource>) {
  return [{ path: 'inline.json', resources }];
}

describe.each(RULES.map((r) => [r.id, r] as const))('rule %s', (id, rule) => {
  it('has a description, help text and a SARIF level', () => {
    expect(rule.description.length).toBeGreaterThan(20);
    expect(rule.help.length).toBeGreaterThan(40);
    expect(['error', 'warning', 'note']).toContain(rule.severity);
  });

  it('finds nothing in its pass fixture', () => {
    // Act
    const findings = check(path.join(FIXTURES, id, 'pass.json'));
    // Assess
    expect(findings.filter((f) => !f.suppressed)).toEqual([]);
  });

  it('reports its fail fixture on the expected resources', () => {
    // Act
    const findings = check(path.join(FIXTURES, id, 'fail.json')).filter((f) => f.ruleId === id);
    // Assess
    expect(findings.map((f) => f.resource).sort()).toEqual(EXPECTED[id]);
    for (const f of findings) {
      expect(f.severity).toBe(rule.severity);
      expect(f.suppressed).toBeUndefined();
      expect(f.line).toBeGreaterThan(1);
    }
  });
});

describe('preflight resolution and options', () => {
  it('has fixtures for every rule and expectations for every fixture', () => {
    const dirs = fs.readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(dirs.map((d) => d.name).sort()).toEqual(RULES.map((r) => r.id).sort());
    expect(Object.keys(EXPECTED).sort()).toEqual(RULES.map((r) => r.id).sort());
  });

  it('follows an Auto Scaling group through its launch template and instance profile to the role', () => {
    const findings = check(path.join(FIXTURES, 'workload-role-not-opted-in', 'fail.json'));
    const workers = findings.find((f) => f.resource === 'WorkersRole');
    expect(workers?.related).toEqual(['WorkersProfile', 'WorkersTemplate', 'WorkersGroup']);
  });

  it('counts a broker statement only when it names the configured broker role', () => {
    // Prepare
    const file = path.join(FIXTURES, 'trust-beyond-workload', 'pass.json');
    const { templates } = loadInputs([file]);
    const task = templates[0]?.resources.TaskRole as { Properties: Record<string, unknown> };
    const document = task.Properties.AssumeRolePolicyDocument as { Statement: Record<string, unknown>[] };
    const statement = document.Statement[1] as Record<string, unknown>;
    statement.Principal = { AWS: 'arn:aws:iam::123456789012:role/someone-else' };
    // Act
    const other = runPreflight(templates, { brokerRoleArn: 'arn:aws:iam::123456789012:role/Sundown-Broker' });
    const same = runPreflight(templates, { brokerRoleArn: 'arn:aws:iam::123456789012:role/someone-else' });
    // Assess
    expect(other.findings.map((f) => f.ruleId)).toEqual(['trust-beyond-workload']);
    expect(same.findings).toEqual([]);
  });

  it('treats a role under an allowlisted path as opted in', () => {
    const resources = {
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Path: '/workloads/batch/',
          AssumeRolePolicyDocument: {
            Statement: [
              { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } },
            ],
          },
        },
      },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
    };
    expect(runPreflight(template(resources), { allowlist: ['/workloads/'] }).findings).toEqual([]);
    expect(
      runPreflight(template(resources), { allowlist: ['/other/'] }).findings.map((f) => f.ruleId),
    ).toEqual(['workload-role-not-opted-in']);
  });

  it('raises the session ceiling with maxSessionDurationSeconds, and refuses one IAM would not accept', () => {
    const file = path.join(FIXTURES, 'session-duration-above-max', 'fail.json');
    expect(check(file, { maxSessionDurationSeconds: 43_200 })).toEqual([]);
    expect(() => check(file, { maxSessionDurationSeconds: 60 })).toThrow(/from 900 to 43200/);
  });

  it('leaves out Lambda functions that back a custom resource (deployment machinery, not workloads)', () => {
    const resources = {
      ProviderRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Statement: [
              { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } },
            ],
          },
        },
      },
      Provider: {
        Type: 'AWS::Lambda::Function',
        Properties: { Role: { 'Fn::GetAtt': ['ProviderRole', 'Arn'] } },
      },
      Setup: { Type: 'Custom::Setup', Properties: { ServiceToken: { 'Fn::GetAtt': ['Provider', 'Arn'] } } },
    };
    expect(runPreflight(template(resources)).findings).toEqual([]);
    const { Setup: _, ...withoutCustomResource } = resources;
    expect(runPreflight(template(withoutCustomResource)).findings.map((f) => f.ruleId)).toEqual([
      'workload-role-not-opted-in',
    ]);
  });

  it('reports a role named by a resource of another type as unresolved, not as a crash', () => {
    const resources = {
      Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['Queue', 'Arn'] } } },
    };
    const [finding] = runPreflight(template(resources)).findings;
    expect(finding?.ruleId).toBe('unresolved-reference');
    expect(finding?.message).toMatch(/Queue, a AWS::SQS::Queue where a AWS::IAM::Role was expected/);
  });
});
