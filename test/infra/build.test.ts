/**
 * `npm run build` type-checks, then bundles every function through the stack itself
 * (scripts/bundle-lambdas.ts; CI runs it). Here, without bundling: the script it names exists,
 * and every handler under lambdas/ belongs to a function of the stack, so none is left unbuilt.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SundownFunction } from '../../lib/constructs/sundown-function.ts';
import { handlerDirs } from '../../scripts/bundle-lambdas.ts';
import { buildSundown } from './support.ts';

describe('npm run build', () => {
  it('type-checks, then runs a bundling script that exists', () => {
    const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as {
      scripts: Record<string, string>;
    };
    const build = scripts.build ?? '';
    expect(build).toMatch(/^tsc -p tsconfig\.json --noEmit && /);
    const files = [...build.matchAll(/(scripts\/[\w./-]+\.(?:ts|mjs|js))/g)].map((m) => m[1] ?? '');
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(existsSync(file), file).toBe(true);
  });

  it('has a function in the stack for every handler under lambdas/', () => {
    // The canary is off by default; `npm run build` bundles with it on (scripts/bundle-lambdas.ts).
    const { stack } = buildSundown({ canary: { enabled: true } });
    const bundled = stack.node
      .findAll()
      .filter((c): c is SundownFunction => c instanceof SundownFunction)
      .map((f) => f.handlerDir)
      .sort();
    expect(handlerDirs()).toEqual([
      'audit-sealer',
      'broker',
      'canary',
      'revoker',
      'sweeper',
      'use-after-revoke',
      'workload-ended',
      'workload-started',
    ]);
    expect(bundled).toEqual(handlerDirs());
  }, 60_000);
});
