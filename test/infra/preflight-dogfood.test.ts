/**
 * Dogfood: preflight over Sundown's own stack. Sundown's functions are long-lived services, not
 * ephemeral workloads, and their roles must never carry the opt-in tag (Sundown could then revoke
 * itself): each role's finding is suppressed in the template with that reason, so the stack passes
 * and the reports say why. CI runs the CLI on the real `cdk synth` output as well (.ci/run).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { OWN_FUNCTION_REASON, SundownFunction } from '../../lib/constructs/sundown-function.ts';
import { failing, runPreflight } from '../../lib/preflight/engine.ts';
import { loadInputs } from '../../lib/preflight/input.ts';
import { buildSundown, logicalIdOf } from './support.ts';

describe("preflight over Sundown's own stack", () => {
  it('passes at every severity, with each function role suppressed for its stated reason', () => {
    // Prepare: the template as cdk synth writes it, read back from a file as the CLI reads it.
    const { stack } = buildSundown();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-dogfood-'));
    const file = path.join(dir, 'Sundown.template.json');
    fs.writeFileSync(file, JSON.stringify(Template.fromStack(stack).toJSON(), null, 1));
    const roles = stack.node
      .findAll()
      .filter((c): c is SundownFunction => c instanceof SundownFunction)
      .map((f) => logicalIdOf(f.role))
      .sort();
    // Act
    const { templates, errors } = loadInputs([file]);
    const { findings } = runPreflight(templates);
    fs.rmSync(dir, { recursive: true, force: true });
    // Assess
    expect(errors).toEqual([]);
    expect(failing(findings, 'note')).toEqual([]);
    expect(roles.length).toBeGreaterThanOrEqual(5);
    expect(findings.map((f) => [f.ruleId, f.resource]).sort()).toEqual(
      roles.map((r) => ['workload-role-not-opted-in', r]),
    );
    for (const f of findings)
      expect(f.suppressed).toEqual({ source: 'metadata', reason: OWN_FUNCTION_REASON });
  });
});
