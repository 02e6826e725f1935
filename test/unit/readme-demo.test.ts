/**
 * README.md quotes what `npm start -- --once` prints. The quote is rebuilt here from the very
 * templates `sundown local` and the demo print with (cli/commands/local.ts, local/demo.ts), in the
 * order runLocal prints them, and from the synthesized stack (function and queue counts, names).
 * Values that differ per run (port, generated names, IDs) are shortened to `…` in the README; each
 * must stand for the same value wherever it appears (the instance that ends is the one started
 * first, and so on).
 */
import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { LOCAL_TEXT } from '../../cli/commands/local.ts';
import { DEMO_HEADING, type DemoFacts, demoLines, demoSucceeded, demoVerdict } from '../../local/demo.ts';
import { buildSundown } from '../infra/support.ts';

/** A value that varies per run, by name. */
const v = (name: string) => `\u0000${name}\u0000`;

/** The lines `npm start -- --once` prints after a successful demo, with per-run values as `v(name)`. */
function expectedTranscript(): string[] {
  const { stack } = buildSundown();
  const template = Template.fromStack(stack);
  const count = (type: string) => Object.keys(template.findResources(type)).length;
  const [bus] = Object.values(template.findResources('AWS::Events::EventBus'));
  const facts: DemoFacts = {
    roleName: v('role'),
    instances: [v('ended instance'), v('live instance')],
    taskIds: [v('ended task'), v('live task')],
    denied: [v('ended instance'), v('ended task')],
  };
  expect(demoSucceeded(facts)).toBe(true);
  return [
    LOCAL_TEXT.starting,
    LOCAL_TEXT.deploying(v('endpoint'), 'us-east-1'),
    ...LOCAL_TEXT.deployed({
      stackName: stack.stackName,
      functions: count('AWS::Lambda::Function'),
      queues: count('AWS::Lambda::EventSourceMapping'),
      eventBus: bus?.Properties.Name,
      credentialsTable: v('credentials table'),
      auditTable: v('audit table'),
      stateFile: v('state file'),
    }),
    '', // runLocal prints the heading after an empty line
    DEMO_HEADING,
    ...demoLines(facts).map((line) => `  ${line}`),
    demoVerdict(true),
  ];
}

/** The code block that follows "`npm start -- --once` prints" in README.md. */
function readmeTranscript(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const after = readme.slice(readme.indexOf('`npm start -- --once` prints'));
  const block = /```\n([\s\S]*?)\n```/.exec(after)?.[1];
  if (block === undefined)
    throw new Error('README.md has no code block after "`npm start -- --once` prints"');
  return block.split('\n');
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A shortened value: no spaces, commas or parentheses, and an ellipsis somewhere. */
const SHORTENED = '([^\\s,()]*…[^\\s,()]*)';

describe('README: what npm start -- --once prints', () => {
  it('quotes every line the local command and the demo print, in order, shortening only per-run values', () => {
    const expected = expectedTranscript();
    const quoted = readmeTranscript();
    expect(quoted).toHaveLength(expected.length);

    const values = new Map<string, string>();
    expected.forEach((template, i) => {
      const parts = template.split('\u0000');
      const names = parts.filter((_, j) => j % 2 === 1);
      const pattern = parts.map((part, j) => (j % 2 === 1 ? SHORTENED : escapeRegExp(part))).join('');
      const line = quoted[i] ?? '';
      const m = new RegExp(`^${pattern}$`).exec(line);
      expect(
        m,
        `README line ${i + 1}: ${JSON.stringify(line)}\nexpected: ${JSON.stringify(template)}`,
      ).not.toBeNull();
      names.forEach((name, k) => {
        const value = m?.[k + 1] as string;
        expect(value, `"${name}" is shortened differently in README line ${i + 1}`).toBe(
          values.get(name) ?? value,
        );
        values.set(name, value);
      });
    });
    // Different workloads are shortened differently, so a reader can follow each one.
    const ids = ['ended instance', 'live instance', 'ended task', 'live task'].map((n) => values.get(n));
    expect(new Set(ids).size).toBe(4);
  }, 60_000);
});
