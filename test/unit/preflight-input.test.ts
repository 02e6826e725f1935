/**
 * What preflight is given can be broken or hostile: not JSON, half a cdk.out, names full of terminal
 * escapes or megabytes long. Each gives one clear, escaped error for its file (exit 2) and the other
 * inputs are still checked; nothing crashes. The CLI runs as users run it (node bin/sundown.mjs).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPreflight } from '../../lib/preflight/engine.ts';
import { loadInputs } from '../../lib/preflight/input.ts';
import { buildReport, renderHuman, reportJson } from '../../lib/preflight/report.ts';
import { printable } from '../../lib/preflight/sanitize.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'preflight');
const FAIL = path.join(FIXTURES, 'workload-role-not-opted-in', 'fail.json');
const PASS = path.join(FIXTURES, 'workload-role-not-opted-in', 'pass.json');
const ESC = '\u001b';
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for raw control characters in output
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

let dir: string;
const write = (name: string, content: string | object) => {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};
const role = (extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::IAM::Role',
  Properties: { AssumeRolePolicyDocument: { Statement: [] }, ...extra },
});

function sundown(...args: string[]) {
  return sundownIn(dir, ...args);
}

function sundownIn(cwd: string, ...args: string[]) {
  const res = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'sundown.mjs'), 'preflight', ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-input-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('preflight input', () => {
  it('gives a file that is not JSON an error of its own', () => {
    const { templates, errors } = loadInputs([write('notes.json', 'Resources:\n  Role: {}\n'), PASS]);
    expect(templates.map((t) => t.path)).toEqual([PASS]);
    expect(errors).toEqual([
      { path: path.join(dir, 'notes.json'), message: expect.stringMatching(/^not JSON/) },
    ]);
  });

  it('refuses JSON that is not a template', () => {
    const { errors } = loadInputs([write('list.json', '[1,2]'), write('empty.json', '{"Outputs":{}}')]);
    expect(errors.map((e) => e.message)).toEqual([
      'not a CloudFormation template: expected a JSON object',
      'not a CloudFormation template: no "Resources" object',
    ]);
  });

  it('reports a folder without manifest.json, and a manifest naming a missing or outside template', () => {
    // Prepare
    fs.mkdirSync(path.join(dir, 'empty.out'));
    write('partial.out/manifest.json', {
      artifacts: {
        Present: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Present.template.json' } },
        Missing: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Missing.template.json' } },
        Escape: { type: 'aws:cloudformation:stack', properties: { templateFile: '../../etc/passwd' } },
      },
    });
    fs.copyFileSync(PASS, path.join(dir, 'partial.out', 'Present.template.json'));
    // Act
    const { templates, errors } = loadInputs([path.join(dir, 'empty.out'), path.join(dir, 'partial.out')]);
    // Assess
    expect(templates.map((t) => t.stackName)).toEqual(['Present']);
    expect(errors.map((e) => [path.relative(dir, e.path), e.message.replace(dir, '<dir>')])).toEqual([
      [path.join('empty.out', 'manifest.json'), 'not a cloud assembly: no such file'],
      [path.join('partial.out', 'Missing.template.json'), 'no such file'],
      [
        path.join('partial.out', 'manifest.json'),
        'stack Escape: templateFile must name a file inside <dir>/partial.out',
      ],
    ]);
  });

  it('reads the stacks of nested assemblies (CDK stages)', () => {
    write('staged.out/manifest.json', {
      artifacts: { Prod: { type: 'cdk:cloud-assembly', properties: { directoryName: 'assembly-Prod' } } },
    });
    write('staged.out/assembly-Prod/manifest.json', {
      artifacts: {
        'Prod-App': { type: 'aws:cloudformation:stack', properties: { templateFile: 'App.template.json' } },
      },
    });
    fs.copyFileSync(FAIL, path.join(dir, 'staged.out', 'assembly-Prod', 'App.template.json'));
    const { templates, errors } = loadInputs([path.join(dir, 'staged.out')]);
    expect(errors).toEqual([]);
    expect(templates.map((t) => t.stackName)).toEqual(['Prod-App']);
  });

  it.each([
    [
      'a logical ID with an ANSI escape',
      { [`Role${ESC}[2J${ESC}]0;pwned\u0007`]: role() },
      /logical ID "Role\\x1b\[2J\\x1b\]0;pwned\\x07"/,
    ],
    [
      'a logical ID of 100,000 characters',
      { [`R${'x'.repeat(100_000)}`]: role() },
      /logical ID "Rxxx.*…\(\d+ more\)" is not valid/,
    ],
    [
      'a tag value with control characters',
      { Role: role({ Tags: [{ Key: 'sundown:revoke', Value: `enabled${ESC}[31m\u009b` }] }) },
      /tag sundown:revoke whose value "enabled\\x1b\[31m\\x9b" is not valid/,
    ],
    [
      'a tag value of 10,000 characters',
      { Role: role({ Tags: [{ Key: 'team', Value: 'v'.repeat(10_000) }] }) },
      /at most 256/,
    ],
    [
      'a resource type with escapes',
      { Role: { Type: `AWS::IAM::Role${ESC}[0m` } },
      /Type: expected a resource type/,
    ],
  ])('rejects %s with an escaped, bounded message', (_, resources, message) => {
    const { errors } = loadInputs([write('hostile.json', { Resources: resources })]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(message);
    expect(errors[0]?.message).not.toMatch(RAW_CONTROL);
    expect(errors[0]?.message.length).toBeLessThan(600);
  });

  it('escapes template text that reaches a finding (a trust principal with escapes) in both reports', () => {
    // Prepare
    const principal = `arn:aws:iam::123456789012:role/x${ESC}[2J\u009b\u202e`;
    const file = write('principal.json', {
      Resources: {
        Role: role({
          Tags: [{ Key: 'sundown:revoke', Value: 'enabled' }],
          AssumeRolePolicyDocument: {
            Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: principal } }],
          },
        }),
        Fn: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
      },
    });
    const { templates, errors } = loadInputs([file]);
    // Act
    const report = buildReport(templates, runPreflight(templates).findings, errors, 'error');
    const human = renderHuman(report);
    const json = reportJson(report);
    // Assess
    expect(report.findings.map((f) => f.ruleId)).toEqual(['trust-beyond-workload']);
    expect(human).toContain('role/x\\x1b[2J\\x9b\\u202e');
    expect(human + json).not.toMatch(RAW_CONTROL);
    expect(json).not.toContain('\u202e');
    expect(JSON.parse(json).findings[0].message).toContain(principal);
  });

  it('escapes what it prints: control characters, C1, bidi overrides', () => {
    expect(printable(`a${ESC}[1mb\u009b\u202ec\n`)).toBe('a\\x1b[1mb\\x9b\\u202ec\\x0a');
    expect(printable('y'.repeat(500), 10)).toBe(`${'y'.repeat(10)}…(490 more)`);
  });
});

describe('sundown preflight (CLI)', () => {
  it('exits 1 on a finding at or above --fail-on, 0 below it or on a clean template', () => {
    const failing = sundown(FAIL);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toMatch(/^error\s+workload-role-not-opted-in\s+\S+\s+WorkersRole$/m);
    expect(sundown(FAIL, '--fail-on', 'none').code).toBe(0);
    expect(sundown(PASS).code).toBe(0);
  });

  it('exits 2 with one escaped error line per unreadable input, and still reports the readable ones', () => {
    // Prepare
    const hostileName = write(`bad${ESC}[2Jname.json`, '{ not json');
    // Act
    const res = sundown('--json', FAIL, hostileName, path.join(dir, 'nowhere'));
    // Assess
    expect(res.code).toBe(2);
    const report = JSON.parse(res.stdout);
    expect(report.exitCode).toBe(2);
    expect(report.findings.map((f: { resource: string }) => f.resource)).toEqual(['JobRole', 'WorkersRole']);
    expect(report.errors).toHaveLength(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^sundown: .*bad\\x1b\[2Jname\.json: not JSON/);
    expect(lines[1]).toMatch(/nowhere: no such file or directory$/);
    expect(res.stdout + res.stderr).not.toMatch(RAW_CONTROL);
  });

  it('applies a suppression file, reports it with its reason, and refuses one without a reason', () => {
    // Prepare
    const entry = {
      id: 'workload-role-not-opted-in',
      resource: 'WorkersRole',
      reason: 'legacy fleet, retired in Q3',
    };
    const good = write('suppress.json', { suppressions: [entry, { ...entry, resource: 'JobRole' }] });
    const bad = write('suppress-bad.json', { suppressions: [{ ...entry, reason: '' }] });
    // Act
    const applied = sundown(FAIL, '--suppress', good);
    const refused = sundown(FAIL, '--suppress', bad);
    // Assess
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/Suppressed \(2\):/);
    expect(applied.stdout).toMatch(/reason: legacy fleet, retired in Q3/);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/suppresses workload-role-not-opted-in without a reason/);
  });

  it("prints exactly the README's example", () => {
    // Prepare
    const command = 'npx sundown preflight test/fixtures/preflight/workload-role-not-opted-in/fail.json';
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const after = readme.slice(readme.indexOf(`\`${command}\``));
    const quoted = /```\n([\s\S]*?)```/.exec(after)?.[1];
    // Act
    const res = sundownIn(ROOT, 'test/fixtures/preflight/workload-role-not-opted-in/fail.json');
    // Assess
    expect(quoted).toBeDefined();
    expect(res.code).toBe(1);
    expect(res.stdout).toBe(quoted);
  });
});
