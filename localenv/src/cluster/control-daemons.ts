// etcd, kube-apiserver, kube-controller-manager and kube-scheduler of the node, each a process of its
// own inside the node's network namespace (fixed ports are fine there: the namespace is this run's).

import { controlPlaneBinaries, nodeBinaries } from '../binaries.ts';
import { APISERVER_PORT, type NodePki, POD_CIDR, SERVICE_CIDR } from './certs.ts';
import { paths } from './config-files.ts';
import { type Daemon, daemon } from './daemon.ts';
import type { NodeNetwork } from './netns.ts';

export const ETCD_URL = 'http://127.0.0.1:2379';

export function startEtcd(net: NodeNetwork, runDir: string): Daemon {
  return daemon(net, runDir, 'etcd', controlPlaneBinaries().etcd, [
    `--data-dir=${paths(runDir).etcdData}`,
    `--listen-client-urls=${ETCD_URL}`,
    `--advertise-client-urls=${ETCD_URL}`,
    '--listen-peer-urls=http://127.0.0.1:2380',
    '--initial-advertise-peer-urls=http://127.0.0.1:2380',
    '--initial-cluster=default=http://127.0.0.1:2380',
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ]);
}

export function startApiserver(net: NodeNetwork, runDir: string, pki: NodePki): Daemon {
  return daemon(net, runDir, 'kube-apiserver', controlPlaneBinaries().kubeApiserver, [
    `--etcd-servers=${ETCD_URL}`,
    `--cert-dir=${pki.dir}`,
    `--tls-cert-file=${pki.apiserverCert}`,
    `--tls-private-key-file=${pki.apiserverKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--secure-port=${APISERVER_PORT}`,
    '--bind-address=0.0.0.0',
    `--advertise-address=${net.nodeIp}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    `--kubelet-client-certificate=${pki.kubeletClientCert}`,
    `--kubelet-client-key=${pki.kubeletClientKey}`,
    `--kubelet-certificate-authority=${pki.caCert}`,
    '--kubelet-preferred-address-types=InternalIP,Hostname',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    '--v=1',
  ]);
}

export function startControllerManager(net: NodeNetwork, runDir: string, pki: NodePki): Daemon {
  const kubeconfig = pki.kubeconfigs['kube-controller-manager'];
  return daemon(net, runDir, 'kube-controller-manager', nodeBinaries().kubeControllerManager, [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    '--use-service-account-credentials',
    '--leader-elect=false',
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    `--cluster-cidr=${POD_CIDR}`,
    '--bind-address=127.0.0.1',
    '--v=1',
  ]);
}

export function startScheduler(net: NodeNetwork, runDir: string, pki: NodePki): Daemon {
  const kubeconfig = pki.kubeconfigs['kube-scheduler'];
  return daemon(net, runDir, 'kube-scheduler', nodeBinaries().kubeScheduler, [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    '--v=1',
  ]);
}
