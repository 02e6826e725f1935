/**
 * `npm run build` (after the type check): bundles every Sundown function exactly as `cdk deploy`
 * ships it, by synthesizing the stack in process (NodejsFunction runs the local esbuild with
 * SundownFunction's options), and copies each function's bundle to dist/assets/<handler dir>/, where the
 * built package's SundownFunction takes it from (a consumer's synth needs no esbuild).
 * Fails when a handler under lambdas/ has no function in the stack.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { parseConfig } from '../lib/config.ts';
import { SundownFunction } from '../lib/constructs/sundown-function.ts';
import { SundownStack } from '../lib/stacks/sundown-stack.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface BuiltFunction {
  handlerDir: string;
  dir: string;
  files: { name: string; bytes: number }[];
}

/** Handler directories under lambdas/ (each holds handler.ts). */
export function handlerDirs(): string[] {
  return readdirSync(path.join(ROOT, 'lambdas'))
    .filter((d) => existsSync(path.join(ROOT, 'lambdas', d, 'handler.ts')))
    .sort();
}

export function bundleLambdas(outDir = path.join(ROOT, 'dist', 'assets')): BuiltFunction[] {
  const assembly = mkdtempSync(path.join(tmpdir(), 'sundown-build-'));
  try {
    const app = new App({ outdir: assembly });
    // The canary on (it is off by default): its function is prebundled too, for consumers who enable it.
    const stack = new SundownStack(app, 'Sundown', {
      config: parseConfig({ canary: { enabled: true } }),
      env: { account: '123456789012', region: 'us-east-1' },
    });
    app.synth();
    const functions = stack.node.findAll().filter((c): c is SundownFunction => c instanceof SundownFunction);
    const missing = handlerDirs().filter((d) => !functions.some((f) => f.handlerDir === d));
    if (missing.length > 0)
      throw new Error(`no function in the stack bundles lambdas/${missing.join(', lambdas/')}`);
    rmSync(outDir, { recursive: true, force: true });
    return functions.map((fn) => {
      const asset = fn.fn.node.findAll().find((c): c is s3assets.Asset => c instanceof s3assets.Asset);
      if (!asset) throw new Error(`function ${fn.node.path} has no code asset`);
      const dir = path.join(outDir, fn.handlerDir);
      cpSync(path.join(assembly, asset.assetPath), dir, { recursive: true });
      const files = readdirSync(dir).map((name) => ({ name, bytes: statSync(path.join(dir, name)).size }));
      return { handlerDir: fn.handlerDir, dir, files };
    });
  } finally {
    rmSync(assembly, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const built of bundleLambdas()) {
    const files = built.files.map((f) => `${f.name} ${(f.bytes / 1024).toFixed(0)} KiB`).join(', ');
    process.stdout.write(`${path.relative(ROOT, built.dir)}: ${files}\n`);
  }
}
