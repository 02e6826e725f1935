/**
 * The driver's side of the counting proxy (bench/proxy.ts): starts it as a separate process in
 * front of the emulator, and reads back the calls it counted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../local/deploy.ts';
import type { CallRecord } from './proxy.ts';

const PROXY_SCRIPT = fileURLToPath(new URL('./proxy.ts', import.meta.url));

export interface CountingProxy {
  endpoint: string;
  pid: number;
  /** How many calls have been recorded so far: pass it to `calls` later to get only newer ones. */
  mark(): Promise<number>;
  /** Calls recorded since `mark` (all when omitted), in request order. */
  calls(mark?: number): Promise<CallRecord[]>;
  /** Rations both systems' IAM writes to `perSecond` (at most `burst` at once); 0 stops it. */
  rationIamWrites(perSecond: number, burst?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startProxy(upstream: string): Promise<CountingProxy> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', PROXY_SCRIPT, upstream], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, SUNDOWN_BENCH_PARENT_PID: String(process.pid) },
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const [first] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error('the counting proxy exited before it listened');
    }),
  ])) as [string];
  const { port } = JSON.parse(first) as { port: number };
  const endpoint = `http://localhost:${port}`;
  return {
    endpoint,
    pid: child.pid as number,
    async mark() {
      const res = await fetch(`http://127.0.0.1:${port}/__bench/log?since=999999999`);
      return ((await res.json()) as { total: number }).total;
    },
    async rationIamWrites(perSecond, burst = 1) {
      await fetch(`http://127.0.0.1:${port}/__bench/iam-writes?perSecond=${perSecond}&burst=${burst}`, {
        method: 'POST',
      });
    },
    async calls(mark = 0) {
      const res = await fetch(`http://127.0.0.1:${port}/__bench/log?since=${mark}`);
      const body = (await res.json()) as { calls: CallRecord[] };
      return body.calls.sort((a, b) => a.seq - b.seq);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
