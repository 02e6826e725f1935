/** Where a run's results go: the results file, and (full run) BENCHMARKS.md's results block. */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../local/deploy.ts';
import { markdown } from './markdown.ts';
import type { Results } from './report.ts';
import { only, quick } from './scenarios.ts';

export const RESULTS_FILE = path.join(
  PROJECT_ROOT,
  'bench',
  quick ? 'results.quick.json' : only ? 'results.only.json' : 'results.json',
);
const BENCHMARKS_MD = path.join(PROJECT_ROOT, 'BENCHMARKS.md');
const MARK_START = '<!-- bench:results:start (written by `npm run bench`) -->';
const MARK_END = '<!-- bench:results:end -->';

/** The results file in the project's own format (Biome lints every JSON file in the repository). */
export function formatWithBiome(file: string): void {
  const biome = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'biome');
  spawnSync(biome, ['format', '--write', file], { cwd: PROJECT_ROOT, stdio: 'ignore' });
}

export async function updateBenchmarksMd(results: Results, log: (line: string) => void): Promise<void> {
  let text: string;
  try {
    text = await readFile(BENCHMARKS_MD, 'utf8');
  } catch {
    return;
  }
  const start = text.indexOf(MARK_START);
  const end = text.indexOf(MARK_END);
  if (start < 0 || end < start) {
    log(`BENCHMARKS.md has no ${MARK_START} ... ${MARK_END} block: tables not updated`);
    return;
  }
  const block = `${MARK_START}\n\n${markdown(results)}\n\n${MARK_END}`;
  await writeFile(BENCHMARKS_MD, text.slice(0, start) + block + text.slice(end + MARK_END.length));
}
