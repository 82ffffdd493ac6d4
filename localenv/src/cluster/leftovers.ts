// What nodes left on the host (`make cluster CLUSTER_ARGS=--check-clean`, and the smoke test after
// stop): processes, mounts, network namespaces, veths, cgroups and run directories of any node that
// is not running now, and the registry and the global sysctls once no node runs.
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupHierarchies } from './cgroups.ts';
import { registeredClusters } from './host-changes.ts';
import { nodeNetwork } from './netns.ts';
import { must } from './run.ts';
import { mountsUnder, nodeProcesses } from './teardown.ts';

const NODE_PREFIX = 'mqc-';
const runDirOf = (name: string) => join(tmpdir(), `mecqkd-${name}`);

/** Names of nodes something is left of on the host (running ones excluded unless `only` names one). */
async function nodeNamesSeen(): Promise<Set<string>> {
  const names = new Set<string>();
  const add = (s: string) => {
    const m = s.match(/mqc-[0-9a-f]{6}/);
    if (m) names.add(m[0]);
  };
  for (const d of readdirSync(tmpdir())) if (d.startsWith(`mecqkd-${NODE_PREFIX}`)) add(d);
  if (existsSync('/run/netns'))
    for (const n of readdirSync('/run/netns')) if (n.startsWith(NODE_PREFIX)) add(n);
  for (const h of cgroupHierarchies())
    for (const d of existsSync(h) ? readdirSync(h) : []) if (d.startsWith('mecqkd-mqc-')) add(d);
  for (const l of (await must('ip', ['-o', 'link', 'show'])).split('\n'))
    if (l.includes(': vqmqc-')) add(l.replace('vqmqc-', 'mqc-'));
  return names;
}

/** Everything left of node `name` (after its stop()), as readable lines; empty when clean. */
export async function leftoversOf(name: string): Promise<string[]> {
  const runDir = runDirOf(name);
  const found: string[] = [];
  for (const pid of nodeProcesses(runDir)) found.push(`process ${pid} of ${name}`);
  for (const m of mountsUnder(runDir)) found.push(`mount ${m}`);
  const net = nodeNetwork(name, 0);
  if (existsSync(net.path)) found.push(`network namespace ${net.path}`);
  if ((await must('ip', ['-o', 'link', 'show'])).includes(`: ${net.hostVeth}@`))
    found.push(`veth ${net.hostVeth}`);
  for (const h of cgroupHierarchies())
    if (existsSync(join(h, `mecqkd-${name}`))) found.push(`cgroup ${join(h, `mecqkd-${name}`)}`);
  if (existsSync(runDir)) found.push(`run directory ${runDir}`);
  return found;
}

/** Leftovers of every node that is not running, and of the shared host changes once none runs. */
export async function leftovers(): Promise<{ running: string[]; found: string[] }> {
  const { live, stale } = registeredClusters();
  const running = live.map((c) => c.name);
  const found: string[] = stale.map(
    (c) => `registry entry of ${c.name} (its program, pid ${c.pid}, has gone)`,
  );
  for (const name of await nodeNamesSeen())
    if (!running.includes(name)) found.push(...(await leftoversOf(name)));
  if (running.length === 0) {
    for (const h of cgroupHierarchies()) {
      for (const d of ['kubepods', 'k8s.io']) if (existsSync(join(h, d))) found.push(`cgroup ${join(h, d)}`);
    }
    if (existsSync('/run/mecqkd-clusters')) found.push('registry /run/mecqkd-clusters');
  }
  return { running, found };
}
