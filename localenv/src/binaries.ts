// Where `make control-plane` put the Go-built binaries (a per-machine cache outside the clone).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const K8S_VERSION = process.env.K8S_VERSION ?? 'v1.36.3';
export const ETCD_VERSION = process.env.ETCD_VERSION ?? 'v3.6.8';

function cacheDir(): string {
  return process.env.MECQKD_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mecqkd');
}

export interface ControlPlaneBinaries {
  kubeApiserver: string;
  kubectl: string;
  etcd: string;
}

export function controlPlaneBinaries(): ControlPlaneBinaries {
  const k8s = join(cacheDir(), 'bin', `k8s-${K8S_VERSION}`);
  const bins = {
    kubeApiserver: join(k8s, 'kube-apiserver'),
    kubectl: join(k8s, 'kubectl'),
    etcd: join(cacheDir(), 'bin', `etcd-${ETCD_VERSION}`, 'etcd'),
  };
  for (const path of Object.values(bins)) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`make control-plane\` to build it`);
  }
  return bins;
}

export function redisServerBinary(): string {
  for (const path of ['/usr/bin/redis-server', '/usr/local/bin/redis-server'])
    if (existsSync(path)) return path;
  throw new Error('redis-server is missing: run `make system-deps` (installs the Debian package)');
}

export const HELM_VERSION = process.env.HELM_VERSION ?? 'v3.22.0';

/** helm, built from Go module sources by `make helm`. */
export function helmBinary(): string {
  const path = join(cacheDir(), 'bin', `helm-${HELM_VERSION}`, 'helm');
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make helm\` to build it`);
  return path;
}

export const COREDNS_VERSION = process.env.COREDNS_VERSION ?? 'v1.15.0';

export interface NodeBinaries {
  kubelet: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubeProxy: string;
  /** OCI archive of the pod sandbox image, and its name. */
  pauseImage: string;
  pauseImageName: string;
}

/** The node's daemons and images, built by `make cluster-bins`. */
export function nodeBinaries(): NodeBinaries {
  const bin = join(cacheDir(), 'bin');
  const k8s = join(bin, `k8s-${K8S_VERSION}`);
  const pause = join(bin, `pause-${K8S_VERSION}`);
  const bins = {
    kubelet: join(k8s, 'kubelet'),
    kubeControllerManager: join(k8s, 'kube-controller-manager'),
    kubeScheduler: join(k8s, 'kube-scheduler'),
    kubeProxy: join(k8s, 'kube-proxy'),
    pauseImage: join(pause, 'pause.tar'),
    pauseImageFile: join(pause, 'image'),
  };
  for (const path of Object.values(bins)) {
    if (!existsSync(path)) throw new Error(`${path} is missing: run \`make cluster-bins\` to build it`);
  }
  const { pauseImageFile, ...rest } = bins;
  return { ...rest, pauseImageName: readFileSync(pauseImageFile, 'utf8').trim() };
}

/** CoreDNS's image (OCI archive), built by `make cluster-bins`. */
export function corednsImageArchive(): string {
  const path = join(cacheDir(), 'bin', `coredns-${COREDNS_VERSION}`, 'coredns.tar');
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make cluster-bins\` to build it`);
  return path;
}

/** Where `make images` writes the components' OCI archives. */
export function imageArchiveDir(): string {
  return join(cacheDir(), 'images');
}
