/**
 * SARIF 2.1.0 (what GitHub code scanning and most security dashboards read): one run, the rules in
 * tool.driver.rules, one result per finding with its template as the artifact and the resource's
 * logical ID as the logical location, and suppressions (inSource: template Metadata; external: a
 * suppression file) with their reasons. test/unit/preflight-sarif.test.ts validates it against the
 * OASIS schema.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RULES } from './rules/index.ts';
import type { Finding } from './types.ts';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const TOOL_NAME = 'sundown-preflight';

export function toSarif(
  findings: readonly Finding[],
  options: { cwd?: string; version?: string } = {},
): object {
  const cwd = options.cwd ?? process.cwd();
  const ruleIndex = new Map(RULES.map((r, i) => [r.id, i]));
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: TOOL_NAME,
            ...(options.version ? { version: options.version } : {}),
            rules: RULES.map((r) => ({
              id: r.id,
              shortDescription: { text: r.description },
              fullDescription: { text: r.description },
              help: { text: r.help },
              defaultConfiguration: { level: r.severity },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.ruleId,
          ...(ruleIndex.has(f.ruleId) ? { ruleIndex: ruleIndex.get(f.ruleId) } : {}),
          level: f.severity,
          message: { text: f.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: artifactUri(f.template, cwd) },
                ...(f.line !== undefined ? { region: { startLine: f.line } } : {}),
              },
              logicalLocations: [
                {
                  name: f.resource,
                  fullyQualifiedName: `${f.stackName ?? f.template}/${f.resource}`,
                  kind: 'resource',
                },
              ],
            },
          ],
          partialFingerprints: {
            'sundownPreflight/v1': createHash('sha256')
              .update(`${f.ruleId}\u0000${f.stackName ?? f.template}\u0000${f.resource}`)
              .digest('hex'),
          },
          properties: { resourceType: f.resourceType, relatedResources: f.related },
          suppressions: f.suppressed
            ? [
                {
                  kind: f.suppressed.source === 'metadata' ? 'inSource' : 'external',
                  status: 'accepted',
                  justification: f.suppressed.reason,
                },
              ]
            : [],
        })),
      },
    ],
  };
}

/** Relative to the working directory with forward slashes when inside it (repository-relative for CI), else a file: URI. */
export function artifactUri(file: string, cwd: string): string {
  const relative = path.relative(cwd, path.resolve(cwd, file));
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    return pathToFileURL(path.resolve(cwd, file)).href;
  }
  return relative.split(path.sep).map(encodeURIComponent).join('/');
}
