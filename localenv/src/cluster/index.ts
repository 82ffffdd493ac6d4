// A real one-node Kubernetes started by the project: etcd, kube-apiserver, controller-manager,
// scheduler, containerd (CNI bridge), kubelet, kube-proxy and CoreDNS, all in a network namespace
// of this run's own, with a cgroup root, run directory and node subnet of its own, so several can
// run at once. stop() (also on SIGINT/SIGTERM/SIGHUP, and on a failed start) undoes everything.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { controlPlaneBinaries, corednsImageArchive, helmBinary, nodeBinaries } from '../binaries.ts';
import { APISERVER_KUBELET_CLIENT, issueNodePki } from './certs.ts';
import { createCgroupRoot } from './cgroups.ts';
import type { NodeLayout } from './config-files.ts';
import { importImages, startContainerd } from './containerd.ts';
import { startApiserver, startControllerManager, startEtcd, startScheduler } from './control-daemons.ts';
import { apiserverToKubeletBinding, corednsManifests } from './coredns.ts';
import { type Daemon, waitFor } from './daemon.ts';
import { registerCluster, unregisterCluster } from './host-changes.ts';
import { createNodeNetwork, inNetns, type NodeNetwork, nodeNetwork } from './netns.ts';
import { startKubelet, startKubeProxy } from './node-daemons.ts';
import { type ExecOptions, type ExecResult, run } from './run.ts';
import { removeRunDir, type TeardownReport, teardownNode } from './teardown.ts';

export type { ExecResult } from './run.ts';

export interface ClusterOptions {
  /** OCI archives (e.g. `make images` output) imported before the node starts. */
  images?: string[];
  startTimeoutMs?: number;
  /** Install CoreDNS and wait until it is Available (default true). */
  coreDns?: boolean;
  /** Keep the run directory's logs after stop (default: only when the start failed). */
  keepLogs?: boolean;
  /** Exit code after the teardown that a signal triggers (undefined: 128 + signal number). */
  exitCodeOnSignal?: (signal: NodeJS.Signals) => number | undefined;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface ClusterTimings {
  /** From startCluster() to kube-apiserver /readyz, node Ready, deployment/coredns Available (= node Ready without CoreDNS). */
  apiserverReadyMs: number;
  nodeReadyMs: number;
  corednsAvailableMs: number;
  /** Importing the images (pause, CoreDNS, options.images; overlaps the start). */
  imagesMs: number;
}

export interface Cluster {
  name: string;
  nodeName: string;
  nodeIp: string;
  /** The node's network namespace (/run/netns/<netns>): run clients with `nsenter --net=<path> --`. */
  netns: string;
  netnsPath: string;
  runDir: string;
  /** Admin (system:masters) kubeconfig; its server is https://<nodeIp>:6443, reachable inside the netns. */
  kubeconfigPath: string;
  server: string;
  /** Image names imported at start, in options.images order. */
  images: string[];
  timings: ClusterTimings;
  /** PID of each daemon by name. */
  pids: Record<string, number>;
  /** Runs cmd inside the node's network namespace, KUBECONFIG set, kubectl and helm on PATH. */
  exec(cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  kubectl(args: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Loads OCI archives into the node's containerd (pods use them with imagePullPolicy Never/IfNotPresent). */
  importImages(archives: string[]): Promise<string[]>;
  /** Tears the node down; idempotent. */
  stop(): Promise<TeardownReport>;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const t0 = Date.now();
  const log = options.log ?? (() => {});
  const timeoutMs = options.startTimeoutMs ?? 180_000;
  const cp = controlPlaneBinaries();
  const bins = nodeBinaries();
  const name = `mqc-${randomBytes(3).toString('hex')}`;
  const runDir = join(tmpdir(), `mecqkd-${name}`);
  mkdirSync(runDir, { recursive: true });
  const entry = await registerCluster(name, runDir);
  const net: NodeNetwork = nodeNetwork(name, entry.octet);
  const layout: NodeLayout = {
    name,
    runDir,
    nodeIp: net.nodeIp,
    cgroupRoot: `/mecqkd-${name}`,
    pauseImage: bins.pauseImageName,
  };
  const daemons: Daemon[] = [];
  const env = {
    ...process.env,
    PATH: [dirname(cp.kubectl), dirname(helmPathOrEmpty()), process.env.PATH].filter(Boolean).join(':'),
  };
  let kubeconfigPath = '';
  const exec = (cmd: string[], opts: ExecOptions = {}) =>
    run(...inNetns(net, cmd[0] as string, cmd.slice(1)), {
      ...opts,
      env: { ...env, KUBECONFIG: kubeconfigPath, ...opts.env },
    });
  const kubectl = (args: string[], opts?: ExecOptions) => exec([cp.kubectl, ...args], opts);

  let stopping: Promise<TeardownReport> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: tearing the node down`);
    void stop().finally(() =>
      process.exit(options.exitCodeOnSignal?.(signal) ?? 128 + (SIGNAL_NUMBERS[signal] ?? 1)),
    );
  };
  const stop = (keepLogs = options.keepLogs ?? false): Promise<TeardownReport> => {
    stopping ??= (async () => {
      const tStop = Date.now();
      for (const s of SIGNALS) process.off(s, onSignal);
      process.off('exit', killOnExit);
      const report = await teardownNode({ name, runDir, cgroupRoot: layout.cgroupRoot, net }, daemons);
      const { removed } = await unregisterCluster(name);
      if (removed.length > 0) log(`removed host paths no cluster had found: ${removed.join(', ')}`);
      removeRunDir(runDir, keepLogs);
      for (const p of report.problems) log(`teardown: ${p}`);
      const ms = Date.now() - tStop;
      log(
        `node ${name} torn down in ${ms} ms (daemons, mounts, namespaces, cgroups: ${report.ms} ms)` +
          (keepLogs ? `; logs kept in ${runDir}/logs` : ''),
      );
      return { ...report, ms };
    })();
    return stopping;
  };
  // exiting without stop() (nothing async can run then): at least no daemon outlives the program;
  // `make cluster CLUSTER_ARGS=--clean-stale` undoes the rest (its registry entry is stale now)
  const killOnExit = () => {
    for (const d of daemons) if (!d.hasExited()) d.kill();
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('exit', killOnExit);

  try {
    log(`node ${name}: netns ${net.netns}, node IP ${net.nodeIp}, run directory ${runDir}`);
    const [pki] = await Promise.all([issueNodePki(runDir, name, net.nodeIp), createNodeNetwork(net)]);
    kubeconfigPath = pki.kubeconfigs.admin;
    createCgroupRoot(layout.cgroupRoot);
    daemons.push(startEtcd(net, runDir));
    daemons.push(startApiserver(net, runDir, pki));
    daemons.push(await startContainerd(net, layout));
    const tImages = Date.now();
    const withDns = options.coreDns ?? true;
    const [, corednsImage] = await importImages(runDir, [
      bins.pauseImage,
      ...(withDns ? [corednsImageArchive()] : []),
    ]);
    // the components' images (large: mostly gunzip) load while the node comes up
    const imported = importImages(runDir, options.images ?? []);
    imported.catch(() => {}); // awaited below
    const needs = () => daemons;
    await waitFor(
      'kube-apiserver /readyz',
      async () => (await kubectl(['get', '--raw', '/readyz'])).code === 0,
      {
        timeoutMs,
        needs: needs(),
      },
    );
    const apiserverReadyMs = Date.now() - t0;
    log(`kube-apiserver ready after ${apiserverReadyMs} ms`);
    daemons.push(startControllerManager(net, runDir, pki), startScheduler(net, runDir, pki));
    daemons.push(startKubelet(net, layout, pki), startKubeProxy(net, layout, pki));
    const manifests = [
      apiserverToKubeletBinding(APISERVER_KUBELET_CLIENT),
      ...(corednsImage ? corednsManifests(corednsImage) : []),
    ];
    const applied = await kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }),
    });
    if (applied.code !== 0) throw new Error(`applying CoreDNS and RBAC failed: ${applied.stderr}`);
    await waitFor(
      `node ${name} Ready`,
      async () =>
        (
          await kubectl([
            'get',
            'node',
            name,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          ])
        ).stdout === 'True',
      { timeoutMs, needs: needs(), intervalMs: 300 },
    );
    const nodeReadyMs = Date.now() - t0;
    log(`node ${name} Ready after ${nodeReadyMs} ms`);
    if (corednsImage)
      await waitFor(
        'deployment/coredns Available',
        async () =>
          (
            await kubectl([
              '-n',
              'kube-system',
              'get',
              'deployment',
              'coredns',
              '-o',
              'jsonpath={.status.conditions[?(@.type=="Available")].status}',
            ])
          ).stdout === 'True',
        { timeoutMs, needs: needs(), intervalMs: 300 },
      );
    const corednsAvailableMs = Date.now() - t0;
    if (corednsImage) log(`CoreDNS Available after ${corednsAvailableMs} ms`);
    const images = await imported;
    const imagesMs = Date.now() - tImages;
    log(`imported ${images.length} images (and the node's own) in ${imagesMs} ms`);
    return {
      name,
      nodeName: name,
      nodeIp: net.nodeIp,
      netns: net.netns,
      netnsPath: net.path,
      runDir,
      kubeconfigPath,
      server: `https://${net.nodeIp}:6443`,
      images,
      timings: { apiserverReadyMs, nodeReadyMs, corednsAvailableMs, imagesMs },
      pids: Object.fromEntries(daemons.map((d) => [d.name, d.pid])),
      exec,
      kubectl,
      importImages: (archives) => importImages(runDir, archives),
      stop: () => stop(),
    };
  } catch (err) {
    log(`start failed: ${(err as Error).message}`);
    await stop(true);
    throw err;
  }
}

function helmPathOrEmpty(): string {
  try {
    return helmBinary();
  } catch {
    return '';
  }
}
