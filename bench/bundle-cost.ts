/**
 * What each bundled Lambda costs before it runs:
 * - bundle size: the minified `index.mjs` the synthesized app deploys (and gzipped, for reference);
 * - cold import: time to import the bundle in a fresh Node process with the function's own
 *   environment (NODE_OPTIONS included), median of several runs: a cold-start proxy.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { LocalFunction } from '../local/stack-model.ts';
import { median } from './metrics.ts';

export interface BundleCost {
  function: string;
  logicalId: string;
  /** Minified bundle, bytes. */
  bytes: number;
  gzipBytes: number;
  /** Median ms to import the bundle in a fresh process, with the function's environment. */
  coldImportMs: number;
  coldImportRunsMs: number[];
  /** Median ms from process start until the import finished (Node bootstrap included). */
  processToReadyMs: number;
  /** Median import ms without NODE_OPTIONS=--enable-source-maps, for reference (full run only). */
  coldImportNoSourceMapsMs: number | null;
  /** Packages the bundle leaves external (the AWS SDK, provided by the Lambda runtime), loaded at import. */
  externalPackages: string[];
  /** Median ms to import only those external packages in a fresh process: the SDK's share (full run only). */
  externalImportMs: number | null;
}

/** Imports every specifier given (in order) and reports how long that took. */
const IMPORT_SCRIPT = `
const t0 = performance.now();
for (const specifier of process.argv.slice(1)) await import(specifier);
const t1 = performance.now();
process.stdout.write(JSON.stringify({ importMs: t1 - t0, sinceStartMs: t1 }));
process.exit(0);
`;

function timeImport(
  specifiers: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ importMs: number; sinceStartMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', IMPORT_SCRIPT, ...specifiers], {
      env,
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        reject(new Error(`importing ${specifiers.join(', ')} failed (exit ${code}): ${err.slice(-300)}`));
      else resolve(JSON.parse(out) as { importMs: number; sinceStartMs: number });
    });
  });
}

/**
 * `runs` measured imports per bundle (after one warm-up import). `variants` adds the same number of
 * imports without source maps and of the external SDK packages alone (the quick run skips them).
 */
export async function measureBundles(
  functions: readonly LocalFunction[],
  runs: number,
  variants: boolean,
): Promise<BundleCost[]> {
  const results: BundleCost[] = [];
  for (const fn of functions) {
    const code = await readFile(fn.codeFile);
    // The function's environment as deployed, with dummy credentials and an unroutable endpoint:
    // importing makes no AWS call, and must not find one to make.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...fn.environment,
    };
    const { NODE_OPTIONS: _ignored, ...withoutSourceMaps } = env;
    const bundle = [pathToFileURL(fn.codeFile).href];
    // Bare imports the bundler left external, resolved from the bundle's folder as at run time.
    const externals = [
      ...new Set(
        [...code.toString('utf8').matchAll(/from\s*"(@aws-sdk\/[\w-]+)"/g)].map((m) => m[1] as string),
      ),
    ];
    // Bare specifiers in --eval code resolve from the working directory: the bundle's folder.
    const cwd = path.dirname(fn.codeFile);
    const withMaps: { importMs: number; sinceStartMs: number }[] = [];
    const withoutMaps: number[] = [];
    const sdkOnly: number[] = [];
    if (variants) await timeImport(bundle, env, cwd); // warm the OS file cache: measured runs read from memory
    for (let i = 0; i < runs; i++) {
      withMaps.push(await timeImport(bundle, env, cwd));
      if (!variants) continue;
      withoutMaps.push((await timeImport(bundle, withoutSourceMaps, cwd)).importMs);
      sdkOnly.push((await timeImport(externals, withoutSourceMaps, cwd)).importMs);
    }
    const round = (x: number) => Math.round(x * 10) / 10;
    results.push({
      function: fn.logicalId.replace(/Function[0-9A-F]{8}$/, ''),
      logicalId: fn.logicalId,
      bytes: statSync(fn.codeFile).size,
      gzipBytes: gzipSync(code).length,
      coldImportMs: round(median(withMaps.map((r) => r.importMs))),
      coldImportRunsMs: withMaps.map((r) => round(r.importMs)),
      processToReadyMs: round(median(withMaps.map((r) => r.sinceStartMs))),
      coldImportNoSourceMapsMs: variants ? round(median(withoutMaps)) : null,
      externalPackages: externals,
      externalImportMs: variants ? round(median(sdkOnly)) : null,
    });
  }
  return results;
}
