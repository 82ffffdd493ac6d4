// The node's configuration files, each a pure function of the run's layout (unit-testable, no I/O).
// Every setting here was needed on this machine kind; ../shared/docs/local-cluster.md says why.
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DNS_SERVICE_IP, POD_CIDR } from './certs.ts';

export interface NodeLayout {
  name: string;
  runDir: string;
  nodeIp: string;
  /** kubelet's cgroupRoot, e.g. /mecqkd-<name>: this node's pods live under it in every hierarchy. */
  cgroupRoot: string;
  pauseImage: string;
}

export const paths = (runDir: string) => ({
  containerdConfig: join(runDir, 'containerd', 'config.toml'),
  containerdRoot: join(runDir, 'containerd', 'root'),
  containerdState: join(runDir, 'containerd', 'state'),
  containerdSocket: join(runDir, 'containerd', 'containerd.sock'),
  runcRoot: join(runDir, 'containerd', 'runc'),
  cniConfDir: join(runDir, 'cni', 'net.d'),
  cniIpamDir: join(runDir, 'cni', 'ipam'),
  kubeletConfig: join(runDir, 'kubelet', 'config.yaml'),
  kubeletRoot: join(runDir, 'kubelet', 'root'),
  kubeletCertDir: join(runDir, 'kubelet', 'pki'),
  volumePluginDir: join(runDir, 'kubelet', 'volume-plugins'),
  podLogsDir: join(runDir, 'kubelet', 'pod-logs'),
  resolvConf: join(runDir, 'kubelet', 'resolv.conf'),
  kubeProxyConfig: join(runDir, 'kube-proxy', 'config.yaml'),
  etcdData: join(runDir, 'etcd'),
  logs: join(runDir, 'logs'),
});

export function containerdConfigToml(l: NodeLayout): string {
  const p = paths(l.runDir);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${p.containerdRoot}"
state = "${p.containerdState}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${p.containerdSocket}"

[ttrpc]
  address = "${p.containerdSocket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${join(l.runDir, 'containerd', 'opt')}"

[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = "${p.runcRoot}-v1"

[${cri}]
  sandbox_image = "${l.pauseImage}"
  # root here lacks CAP_SYS_RESOURCE: without it every sandbox fails writing oom_score_adj
  restrict_oom_score_adj = true

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "${p.runcRoot}"

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${p.cniConfDir}"
`;
}

/** bridge + host-local + portmap; no masquerade: nothing leaves the node. */
export function cniConflist(l: NodeLayout): string {
  return JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: 'mecqkd',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          hairpinMode: true,
          ipMasq: false,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: POD_CIDR }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: paths(l.runDir).cniIpamDir,
          },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export function kubeletConfigYaml(l: NodeLayout, pki: { caCert: string; cert: string; key: string }): string {
  const p = paths(l.runDir);
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'cgroupfs',
    cgroupRoot: l.cgroupRoot,
    // 1.36 refuses cgroup v1 unless told otherwise; this machine kind has only v1
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    podLogsDir: p.podLogsDir,
    resolvConf: p.resolvConf,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: pki.caCert },
    },
    authorization: { mode: 'Webhook' },
    tlsCertFile: pki.cert,
    tlsPrivateKeyFile: pki.key,
    clusterDNS: [DNS_SERVICE_IP],
    clusterDomain: 'cluster.local',
    readOnlyPort: 0,
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'nodefs.inodesFree': '1%',
      'imagefs.available': '1%',
    },
    // imported images cannot be pulled again: never garbage-collect them
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
  });
}

export function kubeProxyConfigYaml(l: NodeLayout, kubeconfig: string): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    clientConnection: { kubeconfig },
    hostnameOverride: l.name,
    clusterCIDR: POD_CIDR,
    // zeros: kube-proxy leaves the host's (global) conntrack settings alone
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    metricsBindAddress: '127.0.0.1:10249',
    healthzBindAddress: '127.0.0.1:10256',
  });
}

/** Pods with dnsPolicy Default (CoreDNS itself) get this: there is no upstream resolver to reach. */
export const NODE_RESOLV_CONF = 'nameserver 127.0.0.1\noptions ndots:1\n';
