/**
 * The SARIF preflight writes is valid SARIF 2.1.0: checked against the OASIS JSON schema
 * (test/fixtures/preflight/sarif-schema-2.1.0-rtm.5.json, vendored from the npm package
 * @microsoft/jest-sarif@1.0.0-beta.0, MIT; it is draft-04, hence ajv-draft-04, with ajv-formats for its
 * uri and date-time formats).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import AjvDraft04 from 'ajv-draft-04';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { runPreflight } from '../../lib/preflight/engine.ts';
import { loadInputs } from '../../lib/preflight/input.ts';
import { RULES } from '../../lib/preflight/rules/index.ts';
import { artifactUri, toSarif } from '../../lib/preflight/sarif.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'preflight');
const schema = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'sarif-schema-2.1.0-rtm.5.json'), 'utf8'));
// Both are CommonJS (module.exports = the class / plugin, also as .default): NodeNext types the import as the module.
const Ajv = AjvDraft04.default;
const addFormats = addFormatsModule.default;
// unicodeRegExp off: the schema's `language` pattern is not a valid unicode-mode regular expression.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validate = ajv.compile(schema);

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: {
    physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } };
    logicalLocations: { name: string; kind: string }[];
  }[];
  suppressions: { kind: string; status: string; justification: string }[];
}

function sarifOfAllFixtures() {
  const files = RULES.flatMap((r) => ['pass', 'fail'].map((k) => path.join(FIXTURES, r.id, `${k}.json`)));
  const { templates } = loadInputs(files);
  const suppressions = [
    { id: 'long-lived-access-key', resource: 'DeployKey', reason: 'rotated daily by a job' },
  ];
  const { findings } = runPreflight(templates, {}, suppressions);
  return {
    findings,
    sarif: toSarif(findings, { cwd: ROOT }) as { runs: { results: SarifResult[]; tool: unknown }[] },
  };
}

describe('preflight SARIF', () => {
  it('validates against the SARIF 2.1.0 schema, with results, suppressions and every rule', () => {
    // Act
    const { sarif, findings } = sarifOfAllFixtures();
    // Assess
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    expect(sarif.runs[0]?.results).toHaveLength(findings.length);
    expect(findings.some((f) => f.suppressed?.source === 'metadata')).toBe(true);
  });

  it('fails validation when a required property is missing (the schema check can fail)', () => {
    const { sarif } = sarifOfAllFixtures();
    const broken = structuredClone(sarif) as { runs: { tool?: unknown }[] };
    delete broken.runs[0]?.tool;
    expect(validate(broken)).toBe(false);
  });

  it('names the rule, level, template (repository-relative), line and logical ID of each finding', () => {
    const { sarif } = sarifOfAllFixtures();
    const results = sarif.runs[0]?.results ?? [];
    const key = results.find((r) => r.ruleId === 'long-lived-access-key');
    expect(key).toMatchObject({
      ruleIndex: RULES.findIndex((r) => r.id === 'long-lived-access-key'),
      level: 'error',
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: 'test/fixtures/preflight/long-lived-access-key/fail.json' },
            region: { startLine: expect.any(Number) },
          },
          logicalLocations: [{ name: 'DeployKey', kind: 'resource' }],
        },
      ],
      suppressions: [{ kind: 'external', status: 'accepted', justification: 'rotated daily by a job' }],
    });
    const inSource = results.find((r) => r.suppressions.length > 0 && r.suppressions[0]?.kind === 'inSource');
    expect(inSource?.suppressions[0]?.justification).toMatch(/deployment helper/);
    const open = results.find((r) => r.ruleId === 'unresolved-reference');
    expect(open?.level).toBe('note');
    expect(open?.suppressions).toEqual([]);
  });

  it('writes a file: URI for a template outside the working directory, percent-encoding odd names', () => {
    expect(artifactUri('/elsewhere/app.json', '/work/repo')).toBe('file:///elsewhere/app.json');
    expect(artifactUri('cdk.out/My Stack\u001b.json', '/work/repo')).toBe('cdk.out/My%20Stack%1B.json');
  });
});
