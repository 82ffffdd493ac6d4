// kubelet and kube-proxy: the node itself. kubelet's pods go under its own cgroupRoot (created here
// in every cgroup v1 hierarchy, as kubelet requires it to exist), so two nodes never share cgroups.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { nodeBinaries } from '../binaries.ts';
import type { NodePki } from './certs.ts';
import {
  kubeletConfigYaml,
  kubeProxyConfigYaml,
  NODE_RESOLV_CONF,
  type NodeLayout,
  paths,
} from './config-files.ts';
import { type Daemon, daemon } from './daemon.ts';
import type { NodeNetwork } from './netns.ts';

export function startKubelet(net: NodeNetwork, layout: NodeLayout, pki: NodePki): Daemon {
  const p = paths(layout.runDir);
  for (const d of [
    dirname(p.kubeletConfig),
    p.kubeletRoot,
    p.kubeletCertDir,
    p.volumePluginDir,
    p.podLogsDir,
  ])
    mkdirSync(d, { recursive: true });
  writeFileSync(p.resolvConf, NODE_RESOLV_CONF);
  writeFileSync(
    p.kubeletConfig,
    kubeletConfigYaml(layout, {
      caCert: pki.caCert,
      cert: pki.kubeletServingCert,
      key: pki.kubeletServingKey,
    }),
  );
  return daemon(net, layout.runDir, 'kubelet', nodeBinaries().kubelet, [
    `--config=${p.kubeletConfig}`,
    `--kubeconfig=${pki.kubeconfigs.kubelet}`,
    `--root-dir=${p.kubeletRoot}`,
    `--cert-dir=${p.kubeletCertDir}`,
    `--volume-plugin-dir=${p.volumePluginDir}`,
    `--node-ip=${net.nodeIp}`,
    `--hostname-override=${layout.name}`,
    '--v=1',
  ]);
}

export function startKubeProxy(net: NodeNetwork, layout: NodeLayout, pki: NodePki): Daemon {
  const p = paths(layout.runDir);
  mkdirSync(dirname(p.kubeProxyConfig), { recursive: true });
  writeFileSync(p.kubeProxyConfig, kubeProxyConfigYaml(layout, pki.kubeconfigs['kube-proxy']));
  return daemon(net, layout.runDir, 'kube-proxy', nodeBinaries().kubeProxy, [
    `--config=${p.kubeProxyConfig}`,
    '--v=1',
  ]);
}
