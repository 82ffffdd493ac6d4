// What a node changes outside its own run directory, and how it is undone. Some of it cannot be made
// per-cluster: kubelet sets three global sysctls, and kubelet, containerd, CNI and iptables create
// fixed host paths. Several clusters may run at once (a developer's, a test's, CI's), so a registry
// under /run records the live clusters, the paths that no cluster found on the host, and the sysctl
// values from before the first cluster; the last cluster to stop restores and removes them.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { must } from './run.ts';

export const REGISTRY_DIR = '/run/mecqkd-clusters';
const LOCK_DIR = `${REGISTRY_DIR}.lock`;

/** The host paths kubelet, containerd, CNI, iptables and buildah create whatever their settings say. */
export const HOST_PATHS = [
  '/var/lib/kubelet/device-plugins',
  '/var/log/containers',
  '/var/log/pods',
  '/usr/libexec/kubernetes',
  '/var/lib/cni/results',
  '/run/containerd',
  '/etc/cni/net.d/cni.lock',
  '/var/lib/containers/cache',
  '/run/xtables.lock',
  '/run/netns',
];

/** Global sysctls kubelet sets (vm.overcommit_memory=1, kernel.panic=10, kernel.panic_on_oops=1). */
export const GLOBAL_SYSCTLS = ['vm/overcommit_memory', 'kernel/panic', 'kernel/panic_on_oops'];

export interface ClusterEntry {
  name: string;
  pid: number;
  /** The node subnet's third octet: 10.201.<octet>.0/24. */
  octet: number;
  runDir: string;
}

interface Shared {
  created: string[];
  sysctls: Record<string, string>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** mkdir is atomic: the lock is held while the directory exists (broken after 15 s, a crashed holder). */
async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (Date.now() > deadline) rmSync(LOCK_DIR, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

function readShared(): Shared {
  const path = join(REGISTRY_DIR, 'shared.json');
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Shared) : { created: [], sysctls: {} };
}

/** Live clusters; entries of processes that have gone (killed with SIGKILL) are reported as stale. */
export function registeredClusters(): { live: ClusterEntry[]; stale: ClusterEntry[] } {
  const live: ClusterEntry[] = [];
  const stale: ClusterEntry[] = [];
  if (!existsSync(REGISTRY_DIR)) return { live, stale };
  for (const f of readdirSync(REGISTRY_DIR)) {
    if (!f.endsWith('.cluster.json')) continue;
    const entry = JSON.parse(readFileSync(join(REGISTRY_DIR, f), 'utf8')) as ClusterEntry;
    (alive(entry.pid) ? live : stale).push(entry);
  }
  return { live, stale };
}

/** The highest ancestor of path (or path itself) that does not exist yet. */
function topmostMissing(path: string): string | undefined {
  if (existsSync(path)) return undefined;
  let top = path;
  while (!existsSync(dirname(top))) top = dirname(top);
  return top;
}

async function hostSubnetsInUse(): Promise<Set<number>> {
  const out = await must('ip', ['-o', '-4', 'route', 'show', 'table', 'all']);
  const addrs = await must('ip', ['-o', '-4', 'addr', 'show']);
  const used = new Set<number>();
  for (const m of `${out}\n${addrs}`.matchAll(/\b10\.201\.(\d+)\./g)) used.add(Number(m[1]));
  return used;
}

/**
 * Registers a new cluster: picks a node subnet no other live cluster (nor the host) uses, and notes
 * which host paths exist and the sysctl values before the first cluster changes anything.
 */
export async function registerCluster(name: string, runDir: string): Promise<ClusterEntry> {
  return withLock(async () => {
    mkdirSync(REGISTRY_DIR, { recursive: true });
    const { live } = registeredClusters();
    const shared = readShared();
    if (live.length === 0) {
      shared.sysctls = {};
      for (const key of GLOBAL_SYSCTLS) shared.sysctls[key] = readFileSync(`/proc/sys/${key}`, 'utf8').trim();
    }
    for (const p of HOST_PATHS) {
      const top = topmostMissing(p);
      if (top && !shared.created.includes(top)) shared.created.push(top);
    }
    const used = await hostSubnetsInUse();
    for (const c of live) used.add(c.octet);
    const octet = [...Array(256).keys()].find((n) => !used.has(n));
    if (octet === undefined) throw new Error('no free node subnet in 10.201.0.0/16');
    const entry: ClusterEntry = { name, pid: process.pid, octet, runDir };
    writeFileSync(join(REGISTRY_DIR, 'shared.json'), JSON.stringify(shared, null, 2));
    writeFileSync(join(REGISTRY_DIR, `${name}.cluster.json`), JSON.stringify(entry));
    return entry;
  });
}

async function removeHostPath(path: string): Promise<void> {
  if (!existsSync(path)) return;
  // /run/netns is a bind mount of itself (ip netns); it goes only when no namespace is left in it
  if (path === '/run/netns' && readdirSync(path).length > 0) return;
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  if (mounts.split('\n').some((l) => l.split(' ')[4] === path)) await must('umount', [path]);
  rmSync(path, { recursive: true, force: true });
}

/**
 * Unregisters the cluster; when it was the last one, restores the sysctls and removes the host paths
 * that no cluster found on the host. Returns what it restored and removed (for the log).
 */
export async function unregisterCluster(name: string): Promise<{ last: boolean; removed: string[] }> {
  return withLock(async () => {
    rmSync(join(REGISTRY_DIR, `${name}.cluster.json`), { force: true });
    const { live, stale } = registeredClusters();
    if (live.length > 0 || stale.length > 0) return { last: false, removed: [] };
    const shared = readShared();
    for (const [key, value] of Object.entries(shared.sysctls)) writeFileSync(`/proc/sys/${key}`, value);
    const removed: string[] = [];
    for (const p of shared.created.filter((c) => existsSync(c))) {
      await removeHostPath(p);
      if (!existsSync(p)) removed.push(p);
    }
    rmSync(REGISTRY_DIR, { recursive: true, force: true });
    return { last: true, removed };
  });
}

/** The global sysctls as they are now (for --check-clean). */
export function currentSysctls(): Record<string, string> {
  return Object.fromEntries(GLOBAL_SYSCTLS.map((k) => [k, readFileSync(`/proc/sys/${k}`, 'utf8').trim()]));
}
