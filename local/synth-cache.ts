/**
 * Synthesis, reused: `cdk synth` of the app (bundling every function) costs 15-30 s, and its result
 * depends only on the app's sources, the installed packages and the synth's inputs. An assembly is
 * kept in `cdk.out/local-<key>`, where the key hashes all of them, and reused while nothing changed:
 * a second `sundown local` deploys at once, and the tests synthesize each configuration once
 * (`sundown local` and the integration tests share the default one).
 *
 * An edit anywhere in bin/, lib/ or lambdas/, a different lockfile, CDK context, account or region
 * gives another key, so a stale assembly is never deployed. The newest few are kept.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Target } from './aws-env.ts';
import { PROJECT_ROOT, synthesize } from './deploy.ts';

/** What a synthesized assembly is made from, relative to the project root. */
const SOURCE_DIRS = ['bin', 'lib', 'lambdas'];
const SOURCE_FILES = ['package.json', 'package-lock.json', 'cdk.json', 'tsconfig.json'];
const COMPLETE_MARKER = 'sundown-synth.json';
const KEEP = 6;

export interface CachedSynthOptions {
  target: Target;
  context?: Record<string, string>;
  log?: (line: string) => void;
  /** Where the cached assemblies live; `cdk.out` of the project by default. */
  cacheRoot?: string;
}

/** The assembly for these inputs: reused when one was synthesized from the same sources, else synthesized. */
export async function synthesizeCached(options: CachedSynthOptions): Promise<string> {
  const root = options.cacheRoot ?? path.join(PROJECT_ROOT, 'cdk.out');
  const key = synthKey(options);
  const dir = path.join(root, `local-${key}`);
  if (existsSync(path.join(dir, COMPLETE_MARKER))) {
    options.log?.(`reusing the cloud assembly synthesized from the same sources: ${dir}`);
    return dir;
  }
  // Synthesized beside it and renamed when complete, so a concurrent run never reads half an assembly.
  const building = `${dir}.building-${process.pid}-${Date.now()}`;
  try {
    await synthesize({
      target: options.target,
      outDir: building,
      ...(options.context ? { context: options.context } : {}),
      ...(options.log ? { log: options.log } : {}),
    });
    writeFileSync(path.join(building, COMPLETE_MARKER), `${JSON.stringify({ key }, null, 2)}\n`);
    if (existsSync(path.join(dir, COMPLETE_MARKER))) {
      rmSync(building, { recursive: true, force: true }); // another run finished the same one first
    } else {
      rmSync(dir, { recursive: true, force: true });
      renameSync(building, dir);
    }
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    throw err;
  }
  pruneOld(root, dir);
  return dir;
}

/** sha256 of every source file (path and content), the synth's inputs and the Node.js major version. */
export function synthKey(options: Pick<CachedSynthOptions, 'target' | 'context'>): string {
  const hash = createHash('sha256');
  const inputs = {
    account: options.target.accountId,
    region: options.target.region,
    context: Object.entries(options.context ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)),
    node: process.versions.node.split('.')[0],
  };
  hash.update(JSON.stringify(inputs));
  const files = [
    ...SOURCE_FILES.filter((f) => existsSync(path.join(PROJECT_ROOT, f))),
    ...SOURCE_DIRS.flatMap((d) => filesUnder(d)),
  ].sort();
  for (const file of files) {
    hash.update(`\u0000${file}\u0000`);
    hash.update(readFileSync(path.join(PROJECT_ROOT, file)));
  }
  return hash.digest('hex').slice(0, 20);
}

function filesUnder(dir: string): string[] {
  const abs = path.join(PROJECT_ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(PROJECT_ROOT, path.join(e.parentPath, e.name)));
}

/** Keeps the newest {@link KEEP} cached assemblies (`keep` among them) and removes abandoned builds. */
function pruneOld(root: string, keep: string): void {
  const dirs = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name.startsWith('local-'))
    .map((e) => path.join(root, e.name))
    .filter((dir) => dir !== keep)
    .map((dir) => ({ dir, mtime: statSync(dir).mtimeMs }));
  const hourAgo = Date.now() - 3_600_000;
  for (const { dir } of dirs.filter((d) => d.dir.includes('.building-') && d.mtime < hourAgo)) {
    rmSync(dir, { recursive: true, force: true });
  }
  const complete = dirs.filter((d) => !d.dir.includes('.building-')).sort((a, b) => b.mtime - a.mtime);
  for (const { dir } of complete.slice(KEEP - 1)) rmSync(dir, { recursive: true, force: true });
}
