// CPU time of another process and its live children, read from /proc (Linux), so the benchmark can
// report CPU per operation: on a shared machine wall-clock throughput is noisy, CPU time much less.
// Live children are included because exited ones are not yet counted in the parent's cutime/cstime.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** utime + stime of one process in ms, or 0 once it has gone. */
export function ownCpuMs(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  // Fields after the parenthesised command name (which may contain spaces): state is field 3,
  // utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export interface CpuSample {
  /** The process itself. */
  selfMs: number;
  /** Its live children (e.g. whisk-sim action containers), per pid. */
  children: Map<number, number>;
}

export function sampleCpu(pid: number): CpuSample {
  return { selfMs: ownCpuMs(pid), children: new Map(childrenOf(pid).map((c) => [c, ownCpuMs(c)])) };
}

/** CPU ms spent between two samples, by the process and by the children alive at the end. */
export function cpuSpent(before: CpuSample, after: CpuSample): { selfMs: number; childrenMs: number } {
  let childrenMs = 0;
  for (const [pid, ms] of after.children) childrenMs += ms - (before.children.get(pid) ?? 0);
  return { selfMs: after.selfMs - before.selfMs, childrenMs };
}
