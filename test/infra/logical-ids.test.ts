/**
 * CloudFormation replaces a resource whose logical ID changes: for a deployed Sundown that means a
 * new registry table, a new audit table, a new key. The logical IDs (with their types) and the output
 * names of the synthesized template are therefore a contract, recorded in test/fixtures/logical-ids.json.
 *
 * Adding or removing a resource on purpose: regenerate the fixture and review its diff in the PR
 *   npx tsx scripts/logical-ids.ts > test/fixtures/logical-ids.json
 * A renamed construct ID shows up here as one ID removed and one added: that is a replacement.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOGICAL_ID_CONFIGS, type LogicalIds, logicalIds } from '../../scripts/logical-ids.ts';

const recorded = JSON.parse(readFileSync('test/fixtures/logical-ids.json', 'utf8')) as Record<
  string,
  LogicalIds
>;

describe('logical IDs of the synthesized template', () => {
  it('covers every recorded configuration', () => {
    expect(Object.keys(LOGICAL_ID_CONFIGS).sort()).toEqual(Object.keys(recorded).sort());
  });

  for (const [name, config] of Object.entries(LOGICAL_ID_CONFIGS)) {
    it(`are the recorded ones, with the recorded types and output names (${name} configuration)`, () => {
      const actual = logicalIds(config);
      const expected = recorded[name] as LogicalIds;
      expect(Object.keys(actual.resources).length).toBeGreaterThan(50);
      expect(actual.resources).toEqual(expected.resources);
      expect(actual.outputs).toEqual(expected.outputs);
    }, 60_000);
  }
});
