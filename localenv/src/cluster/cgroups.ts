// The node's cgroup root (kubelet's cgroupRoot, /mecqkd-<name>) in every cgroup v1 hierarchy:
// created before kubelet starts (it refuses a root that does not exist), emptied and removed at
// teardown. Pods, their containers and kubelet's QoS cgroups all live below it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Mount points of the cgroup v1 hierarchies (cpu, memory, pids, name=systemd, ...). */
export function cgroupHierarchies(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f[f.indexOf('-') + 1] === 'cgroup')
    .map((f) => f[4] as string);
}

export function createCgroupRoot(root: string): void {
  for (const h of cgroupHierarchies()) {
    const dir = join(h, root);
    mkdirSync(dir, { recursive: true });
    // a new cpuset cgroup starts with no CPUs and no memory nodes: give it its parent's
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(h, f))) writeFileSync(join(dir, f), readFileSync(join(h, f), 'utf8'));
    }
  }
}

function walk(dir: string, out: string[]): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) walk(join(dir, e.name), out);
  out.push(dir);
  return out;
}

/** Every process still in the cgroup root (any hierarchy), e.g. containers whose shim has gone. */
export function cgroupProcesses(root: string): number[] {
  const pids = new Set<number>();
  for (const h of cgroupHierarchies()) {
    for (const dir of walk(join(h, root), [])) {
      const procs = join(dir, 'cgroup.procs');
      if (!existsSync(procs)) continue;
      for (const l of readFileSync(procs, 'utf8').split('\n')) if (l) pids.add(Number(l));
    }
  }
  return [...pids];
}

/** Removes the cgroup root and everything below it, deepest first; the caller has emptied it. */
export function removeCgroupRoot(root: string): string[] {
  const left: string[] = [];
  for (const h of cgroupHierarchies()) {
    for (const dir of walk(join(h, root), [])) {
      try {
        rmdirSync(dir);
      } catch (err) {
        left.push(`${dir}: ${(err as Error).message}`);
      }
    }
  }
  return left;
}

/** cgroup directories named like a node's (for --check-clean): /mecqkd-*, kubepods, k8s.io at a root. */
export function nodeCgroups(): string[] {
  const found: string[] = [];
  for (const h of cgroupHierarchies()) {
    if (!existsSync(h)) continue;
    for (const e of readdirSync(h, { withFileTypes: true })) {
      if (e.isDirectory() && (e.name.startsWith('mecqkd-') || e.name === 'kubepods' || e.name === 'k8s.io'))
        found.push(join(h, e.name));
    }
  }
  return found;
}
