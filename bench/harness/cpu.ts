/**
 * CPU seconds each part of the stack spends during a run, read from /proc (Linux): the Temporal dev
 * server, each stack's process, and PostgreSQL (every backend of the server, plus what its
 * finished backends left in the postmaster's children's counters). Divided by the work done it
 * says where a variant's time goes — the profile the issue asks for, beside the ratios, without a
 * profiler's overhead in the measured runs.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ; `getconf CLK_TCK` is 100 on Linux x86-64 and arm64

/** utime, stime, cutime, cstime of one process in ticks, or null when it is gone. */
function ticks(pid: number): [number, number, number, number] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command (which may hold spaces): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(fields[11]), Number(fields[12]), Number(fields[13]), Number(fields[14])];
  } catch {
    return null;
  }
}

function postgresTicks(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (comm !== 'postgres') continue;
    const t = ticks(Number(entry));
    if (!t) continue;
    // Only the postmaster's children counters matter (the backends that have exited); a backend's own are 0.
    total += t[0] + t[1] + t[2] + t[3];
  }
  return total;
}

export type CpuParts = Record<string, number>;

/** Starts a measurement over the given processes (name → pid) and PostgreSQL; `stop` answers seconds per part. */
export function cpuMeter(pids: Record<string, number | undefined>) {
  const read = (): CpuParts => {
    const parts: CpuParts = {};
    for (const [name, pid] of Object.entries(pids)) {
      const t = pid === undefined ? null : ticks(pid);
      if (t) parts[name] = t[0] + t[1];
    }
    parts.postgres = postgresTicks();
    return parts;
  };
  const before = read();
  return {
    stop(): CpuParts {
      const after = read();
      return Object.fromEntries(Object.keys(after).map((k) => [k, (after[k]! - (before[k] ?? 0)) / TICKS_PER_SECOND]));
    },
  };
}
