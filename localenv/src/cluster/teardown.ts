// Undoing a node, from what is observed rather than from memory, so the same code finishes a node
// whose program was killed: its processes are the ones whose command line names its run directory
// (or its containerd socket, for the shims), its mounts lie under the run directory, its pods'
// network namespaces are the ones its pods' processes were in.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupProcesses, removeCgroupRoot } from './cgroups.ts';
import { ctr } from './containerd.ts';
import type { Daemon } from './daemon.ts';
import { deleteNodeNetwork, type NodeNetwork } from './netns.ts';
import { run } from './run.ts';

export interface NodeIdentity {
  name: string;
  runDir: string;
  cgroupRoot: string;
  net: NodeNetwork;
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Processes of this node: daemons (their arguments name the run directory) and containerd's shims. */
export function nodeProcesses(runDir: string): number[] {
  const prefix = `${runDir}/`;
  return pids().filter((pid) => pid !== process.pid && cmdline(pid).some((a) => a.includes(prefix)));
}

const alive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false; // exited between the listing and this read
  }
};

async function killAndWait(list: number[], timeoutMs = 10_000): Promise<void> {
  for (const pid of list) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone already */
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (list.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** Network namespace inode of each process (a pod's sandbox namespace is named after nothing we know). */
function netnsInodes(list: number[]): Set<number> {
  const inodes = new Set<number>();
  for (const pid of list) {
    try {
      inodes.add(statSync(`/proc/${pid}/ns/net`).ino);
    } catch {
      /* gone */
    }
  }
  return inodes;
}

/** The network namespaces containerd made for this node's pod sandboxes (also of pods that died). */
async function sandboxNetnsPaths(runDir: string): Promise<Set<string>> {
  const found = new Set<string>();
  const ids = await ctr(runDir, ['containers', 'ls', '-q']);
  if (ids.code !== 0) return found;
  for (const id of ids.stdout.split('\n').filter(Boolean)) {
    const info = await ctr(runDir, ['containers', 'info', id]);
    if (info.code !== 0) continue;
    const spec = (
      JSON.parse(info.stdout) as { Spec?: { linux?: { namespaces?: { type: string; path?: string }[] } } }
    ).Spec;
    for (const ns of spec?.linux?.namespaces ?? []) {
      if (ns.type === 'network' && ns.path) found.add(ns.path.replace(/^\/var\/run\//, '/run/'));
    }
  }
  return found;
}

function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) =>
      (l.split(' ')[4] as string).replace(/\\(\d{3})/g, (_, o: string) =>
        String.fromCharCode(Number.parseInt(o, 8)),
      ),
    );
}

export function mountsUnder(dir: string): string[] {
  return mountPoints().filter((m) => m === dir || m.startsWith(`${dir}/`));
}

async function unmountAll(list: string[]): Promise<string[]> {
  const failed: string[] = [];
  for (const m of [...new Set(list)].sort((a, b) => b.length - a.length)) {
    const res = await run('umount', [m]);
    if (res.code !== 0 && (await run('umount', ['-l', m])).code !== 0)
      failed.push(`${m}: ${res.stderr.trim()}`);
  }
  return failed;
}

export interface TeardownReport {
  ms: number;
  problems: string[];
}

/**
 * Stops the node: kubelet and kube-proxy first (nothing restarts pods), then the pods' processes,
 * containerd and its shims, the control plane; then unmounts, deletes the pods' and the node's
 * namespaces and the cgroup root. The run directory goes last unless keepLogs (its logs stay).
 */
export async function teardownNode(node: NodeIdentity, daemons: Daemon[]): Promise<TeardownReport> {
  const t0 = Date.now();
  const problems: string[] = [];
  const byName = (n: string) => daemons.filter((d) => d.name === n);
  for (const group of [
    ['kubelet', 'kube-proxy'],
    ['kube-scheduler', 'kube-controller-manager'],
  ]) {
    await Promise.all(group.flatMap(byName).map((d) => d.stop()));
  }
  const podProcs = cgroupProcesses(node.cgroupRoot);
  const podNetns = netnsInodes(podProcs);
  const sandboxNetns = await sandboxNetnsPaths(node.runDir);
  await killAndWait(podProcs);
  await Promise.all(byName('containerd').map((d) => d.stop()));
  for (const n of ['kube-apiserver', 'etcd']) await Promise.all(byName(n).map((d) => d.stop()));
  // whatever is left: shims (containerd leaves them running by design), or a killed run's daemons
  await killAndWait(nodeProcesses(node.runDir));
  await killAndWait(cgroupProcesses(node.cgroupRoot));
  for (const pid of [...nodeProcesses(node.runDir), ...cgroupProcesses(node.cgroupRoot)])
    problems.push(`process ${pid} did not exit: ${cmdline(pid).join(' ')}`);

  const podNetnsMounts = existsSync('/run/netns')
    ? readdirSync('/run/netns')
        .map((n) => `/run/netns/${n}`)
        .filter((p) => p !== node.net.path && (podNetns.has(statSync(p).ino) || sandboxNetns.has(p)))
    : [];
  problems.push(...(await unmountAll([...mountsUnder(node.runDir), ...podNetnsMounts])));
  for (const p of podNetnsMounts) rmSync(p, { force: true });
  try {
    await deleteNodeNetwork(node.net);
  } catch (err) {
    problems.push((err as Error).message);
  }
  problems.push(...removeCgroupRoot(node.cgroupRoot));
  return { ms: Date.now() - t0, problems };
}

/** Removes the run directory (after teardownNode); with keepLogs, all of it but its logs. */
export function removeRunDir(runDir: string, keepLogs = false): void {
  if (mountsUnder(runDir).length > 0) return; // never delete through a mount that did not go
  if (!existsSync(runDir)) return;
  for (const e of readdirSync(runDir))
    if (!keepLogs || e !== 'logs') rmSync(join(runDir, e), { recursive: true, force: true });
  if (!keepLogs) rmSync(runDir, { recursive: true, force: true });
}
