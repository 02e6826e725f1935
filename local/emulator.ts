/**
 * Starts and stops the local AWS API emulator (moto) for `sundown local`, the
 * tests and the benchmarks.
 *
 * - listens on loopback only, on a free port unless one is given;
 * - waits until the server answers before returning;
 * - `reset()` wipes all emulated state between test files;
 * - never leaves an orphan: stopped on `stop()`, on process exit, on SIGINT and
 *   SIGTERM, and the Python side exits by itself when this process dies (see
 *   `exit_with_parent` in moto_process.py; moto_launcher.py holds every moto patch).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const LAUNCHER = fileURLToPath(new URL('./moto_launcher.py', import.meta.url));
const MOTO_REQUIREMENT = 'moto[server]>=5.2,<6';

export interface Emulator {
  /** `http://localhost:PORT`: moto's CloudFormation needs the word localhost in template URLs. */
  readonly endpoint: string;
  readonly port: number;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartEmulatorOptions {
  port?: number;
  /** Seconds to wait for the server to answer. */
  readyTimeoutSeconds?: number;
  python?: string;
  /** Serve `forkEmulator` requests: copies of this emulator's state (see local/moto_fork.py). */
  forkable?: boolean;
}

export class EmulatorError extends Error {}

/** Finds a free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new EmulatorError('could not find a free port');
  return address.port;
}

function motoImports(python: string): boolean {
  return spawnSync(python, ['-c', 'import moto.server, flask'], { stdio: 'ignore' }).status === 0;
}

/**
 * Uses the installed moto; only where it is missing tries pip, and otherwise
 * fails with one sentence that says what to install.
 */
export function ensureMoto(python = process.env.SUNDOWN_PYTHON ?? 'python3'): void {
  if (spawnSync(python, ['--version'], { stdio: 'ignore' }).error) {
    throw new EmulatorError(
      `python3 was not found: install Python 3.9+ and then run: python3 -m pip install '${MOTO_REQUIREMENT}'`,
    );
  }
  if (motoImports(python)) return;
  spawnSync(python, ['-m', 'pip', 'install', '--quiet', MOTO_REQUIREMENT], { stdio: 'inherit' });
  if (!motoImports(python)) {
    throw new EmulatorError(
      `the AWS emulator moto is not installed and pip could not install it: run python3 -m pip install '${MOTO_REQUIREMENT}'`,
    );
  }
}

const running = new Set<ChildProcess>();
/** Forked copies (forkEmulator): children of the original emulator, not of this process. */
const forked = new Set<number>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = () => {
    for (const child of running) child.kill('SIGKILL');
    for (const pid of forked) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      // Only exit ourselves when nobody else handles the signal (the CLI does).
      if (process.listenerCount(signal) === 0) process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

async function waitUntilReady(
  endpoint: string,
  exited: () => string | undefined,
  timeoutSeconds: number,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let lastError = '';
  while (Date.now() < deadline) {
    const exit = exited();
    if (exit !== undefined) throw new EmulatorError(`the emulator exited ${exit} before it answered`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) return;
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new EmulatorError(
    `the emulator did not answer on ${endpoint} within ${timeoutSeconds}s (${lastError})`,
  );
}

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<Emulator> {
  const python = options.python ?? process.env.SUNDOWN_PYTHON ?? 'python3';
  ensureMoto(python);
  const port = options.port ?? (await freePort());
  const endpoint = `http://localhost:${port}`;
  const args = [LAUNCHER, '-H', '127.0.0.1', '-p', String(port), ...(options.forkable ? ['--forkable'] : [])];
  const child = spawn(python, args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, SUNDOWN_PARENT_PID: String(process.pid) },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  running.add(child);
  installExitHooks();
  child.once('exit', () => running.delete(child));
  try {
    const exited = () => (child.exitCode === null ? undefined : `with code ${child.exitCode}`);
    await waitUntilReady(endpoint, exited, options.readyTimeoutSeconds ?? 120);
  } catch (err) {
    child.kill('SIGKILL');
    const tail = stderr.trim().split('\n').slice(-3).join(' | ');
    throw new EmulatorError(`${(err as Error).message}${tail ? `: ${tail}` : ''}`);
  }
  return {
    endpoint,
    port,
    reset: () => reset(endpoint),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function reset(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new EmulatorError(`resetting the emulator failed with HTTP ${res.status}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A copy of a running emulator started with `forkable`, in a process of its own on its own port:
 * everything the original holds now (a deployed stack, say), nothing it does later. Stopping the
 * copy leaves the original running; the copy exits by itself when this process dies.
 */
export async function forkEmulator(from: string): Promise<Emulator> {
  const res = await fetch(`${from}/_sundown/fork`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ parentPid: process.pid }),
  });
  if (!res.ok) {
    throw new EmulatorError(
      `forking the emulator at ${from} failed with HTTP ${res.status}: ${await res.text()}`,
    );
  }
  // The copy listens before the original answers (requests wait in its backlog): it is ready now.
  const { pid, port } = (await res.json()) as { pid: number; port: number };
  forked.add(pid);
  installExitHooks();
  return {
    endpoint: `http://localhost:${port}`,
    port,
    reset: () => reset(`http://localhost:${port}`),
    async stop() {
      if (alive(pid)) {
        process.kill(pid, 'SIGTERM');
        const deadline = Date.now() + 3000;
        while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
      forked.delete(pid);
    },
  };
}
