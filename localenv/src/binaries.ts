// Where `make control-plane` put the Go-built binaries (a per-machine cache outside the clone).
import { existsSync } from 'node:fs';
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
