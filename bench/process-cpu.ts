/**
 * CPU time of the bench's processes (this one, the emulator and the counting proxy), read before and
 * after a measured window.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { CountingProxy } from './proxy-client.ts';

/** CPU time (ms) used so far by this process (Sundown's handlers + the driver), the emulator and the proxy. */
export interface CpuSnapshot {
  benchProcess: number;
  emulator: number;
  proxy: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process, in ms, from /proc (Linux); 0 when unavailable. */
function processCpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The emulator's PID, found by the port on its command line (local/emulator.ts does not expose it). */
export function emulatorPid(port: number): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        if (cmdline.some((a) => a.endsWith('moto_launcher.py')) && cmdline.includes(String(port)))
          return Number(entry);
      } catch {
        // process gone
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}

export function cpuSnapshot(env: {
  emulatorPid: number | undefined;
  proxy: Pick<CountingProxy, 'pid'>;
}): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    benchProcess: (usage.user + usage.system) / 1000,
    emulator: processCpuMs(env.emulatorPid),
    proxy: processCpuMs(env.proxy.pid),
  };
}

export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  return {
    benchProcess: Math.round(after.benchProcess - before.benchProcess),
    emulator: Math.round(after.emulator - before.emulator),
    proxy: Math.round(after.proxy - before.proxy),
  };
}
