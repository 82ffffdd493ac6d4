// `make cluster`: starts a one-node Kubernetes, imports the images `make images` wrote, says how to
// use it, and runs until Ctrl-C (then tears it down and exits 0).
//   --check-clean   report what nodes left on the host (exit 1 if anything), start nothing
//   --clean-stale   tear down nodes whose program was killed (registry entries without a process)
//   --no-images     import only the node's own images (pause, CoreDNS)
//   --keep-logs     keep the run directory's logs after Ctrl-C
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { controlPlaneBinaries, imageArchiveDir } from '../binaries.ts';
import { registeredClusters, unregisterCluster } from './host-changes.ts';
import { startCluster } from './index.ts';
import { leftovers } from './leftovers.ts';
import { nodeNetwork } from './netns.ts';
import { removeRunDir, teardownNode } from './teardown.ts';

const say = (line: string) => console.log(`[cluster ${new Date().toISOString().slice(11, 19)}] ${line}`);
const args = new Set(process.argv.slice(2));
const known = ['--check-clean', '--clean-stale', '--no-images', '--keep-logs'];
const unknown = [...args].filter((a) => !known.includes(a));
if (unknown.length > 0) {
  console.error(`unknown option ${unknown.join(', ')} (known: ${known.join(', ')})`);
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error('make cluster needs root (network namespaces, mounts, cgroups)');
  process.exit(1);
}

if (args.has('--check-clean')) {
  const { running, found } = await leftovers();
  if (running.length > 0) say(`running now (not checked): ${running.join(', ')}`);
  for (const f of found) say(`left behind: ${f}`);
  say(found.length === 0 ? 'clean: nothing left behind' : `${found.length} things left behind`);
  process.exit(found.length === 0 ? 0 : 1);
}

if (args.has('--clean-stale')) {
  for (const c of registeredClusters().stale) {
    // the subnet octet is recorded; the rest of the node's identity follows from its name
    const report = await teardownNode(
      { name: c.name, runDir: c.runDir, cgroupRoot: `/mecqkd-${c.name}`, net: nodeNetwork(c.name, c.octet) },
      [],
    );
    await unregisterCluster(c.name);
    removeRunDir(c.runDir);
    say(
      `tore down stale node ${c.name} in ${report.ms} ms${report.problems.map((p) => `\n  ${p}`).join('')}`,
    );
  }
  process.exit(0);
}

const dir = imageArchiveDir();
const images =
  args.has('--no-images') || !existsSync(dir)
    ? []
    : readdirSync(dir)
        .filter((f) => f.endsWith('.tar'))
        .map((f) => join(dir, f));
say(
  images.length > 0 ? `importing ${images.length} images from ${dir}` : `no images in ${dir} (make images)`,
);
const cluster = await startCluster({
  images,
  keepLogs: args.has('--keep-logs'),
  exitCodeOnSignal: (signal) => (signal === 'SIGINT' ? 0 : undefined),
  log: say,
});
const t = cluster.timings;
const ns = `nsenter --net=${cluster.netnsPath} --`;
const kubectl = controlPlaneBinaries().kubectl;
console.log(`
node ${cluster.nodeName} Ready in ${(t.nodeReadyMs / 1000).toFixed(1)} s, CoreDNS Available in ${(t.corednsAvailableMs / 1000).toFixed(1)} s
images: ${cluster.images.join(', ') || '(none)'}  (pods use them with imagePullPolicy: Never)

Everything runs in the network namespace ${cluster.netns} (node IP ${cluster.nodeIp}); run clients there:
  export KUBECONFIG=${cluster.kubeconfigPath}
  ${ns} ${kubectl} get pods -A
  ${ns} env PATH=${dirname(kubectl)}:$PATH bash   # a shell in which kubectl reaches it
Logs: ${cluster.runDir}/logs   Ctrl-C tears it all down.
`);
say(
  `daemons' resident memory (MB): ${Object.entries(cluster.pids)
    .map(([n, pid]) => `${n} ${rssMb(pid)}`)
    .join(', ')}`,
);
await new Promise(() => {});

function rssMb(pid: number): string {
  try {
    const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1];
    return kb ? (Number(kb) / 1024).toFixed(0) : '?';
  } catch {
    return 'gone';
  }
}
