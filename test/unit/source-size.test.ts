/**
 * No source file over MAX_LINES: a file that size does more than one thing, and a reader (or a
 * reviewer) cannot hold it. The exceptions are listed here, each with its reason; an exception that
 * has come back under the limit must be removed from the list.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const MAX_LINES = 300;
const SOURCE_DIRS = ['lib', 'lambdas', 'cli', 'local', 'bin', 'scripts', 'bench'];
const SOURCE_FILE = /\.(ts|mts|js|mjs|cjs|py)$/;

/** Files allowed over the limit, and why. */
const EXCEPTIONS: Record<string, string> = {};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (name === 'node_modules' || name === '__pycache__') return [];
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return SOURCE_FILE.test(name) ? [file.split(path.sep).join('/')] : [];
  });
}

const lineCount = (file: string) => readFileSync(file, 'utf8').replace(/\n$/, '').split('\n').length;
const sizes = new Map(SOURCE_DIRS.flatMap(sourceFiles).map((f) => [f, lineCount(f)] as const));

describe(`source files stay under ${MAX_LINES} lines`, () => {
  it('finds the source files', () => {
    expect(sizes.size).toBeGreaterThan(100);
  });

  it('has no file over the limit that is not a listed exception', () => {
    const over = [...sizes]
      .filter(([f, n]) => n > MAX_LINES && !(f in EXCEPTIONS))
      .map(([f, n]) => `${f} (${n})`);

    expect(over, `split these files, or list one in EXCEPTIONS with its reason`).toEqual([]);
  });

  it('lists only exceptions that still exist and are still over the limit', () => {
    const stale = Object.keys(EXCEPTIONS).filter((f) => (sizes.get(f) ?? 0) <= MAX_LINES);

    expect(stale, 'remove these from EXCEPTIONS').toEqual([]);
  });
});
