/** What a run measured on: the machine, the emulator's versions, and the commit. */
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { PROJECT_ROOT } from '../local/deploy.ts';
import type { Machine } from './report.ts';

export function machine(): Machine {
  const python = process.env.SUNDOWN_PYTHON ?? 'python3';
  const moto = spawnSync(
    python,
    ['-c', 'import moto, platform; print(moto.__version__, platform.python_version())'],
    {
      encoding: 'utf8',
    },
  ).stdout.trim();
  const [motoVersion = 'unknown', pythonVersion = 'unknown'] = moto.split(' ');
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    moto: motoVersion,
    python: pythonVersion,
  };
}

/** The commit measured, and whether the working tree matched it (results from a dirty tree are marked). */
export function provenance(): { commit: string; clean: boolean } {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = git('rev-parse', 'HEAD') || 'unknown';
  // Results files are written by this run; changes to them do not make the measured code dirty.
  const status = git('status', '--porcelain', '--', '.', ':!bench/results.json', ':!BENCHMARKS.md');
  return { commit, clean: commit !== 'unknown' && status === '' };
}
