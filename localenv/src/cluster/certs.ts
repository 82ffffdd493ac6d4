// The node's PKI: one CA for serving and client certificates, a kubeconfig per daemon (the
// apiserver's Node and RBAC authorizers know each one by its certificate's name and groups), the
// kubelet's serving certificate (the apiserver verifies it for logs/exec), and the service-account
// signing key. All files go to <runDir>/pki, private keys mode 0600.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, createKeyPairPem, issueCertificate, type Pem } from '@mecqkd/common/pki';
import { kubeconfigYaml } from '../kubeconfig.ts';

export const SERVICE_CIDR = '10.0.0.0/24';
export const KUBERNETES_SERVICE_IP = '10.0.0.1';
export const DNS_SERVICE_IP = '10.0.0.10';
export const POD_CIDR = '10.244.0.0/24';
export const APISERVER_PORT = 6443;

/** Who each client certificate is, as the apiserver's authorizers see it. */
type Client = 'admin' | 'kube-controller-manager' | 'kube-scheduler' | 'kube-proxy';
const CLIENTS: Record<Client, { commonName: string; organizations?: string[] }> = {
  admin: { commonName: 'admin', organizations: ['system:masters'] },
  'kube-controller-manager': { commonName: 'system:kube-controller-manager' },
  'kube-scheduler': { commonName: 'system:kube-scheduler' },
  'kube-proxy': { commonName: 'system:kube-proxy' },
};
export const APISERVER_KUBELET_CLIENT = 'kube-apiserver-kubelet-client';

export interface NodePki {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  kubeletClientCert: string;
  kubeletClientKey: string;
  kubeletServingCert: string;
  kubeletServingKey: string;
  saKey: string;
  saPub: string;
  kubeconfigs: Record<Client | 'kubelet', string>;
}

export async function issueNodePki(runDir: string, nodeName: string, nodeIp: string): Promise<NodePki> {
  const dir = join(runDir, 'pki');
  mkdirSync(dir, { recursive: true });
  const write = (file: string, content: string, secret = false) => {
    const path = join(dir, file);
    writeFileSync(path, content, { mode: secret ? 0o600 : 0o644 });
    return path;
  };
  const pair = (name: string, pem: Pem) => [
    write(`${name}.crt`, pem.cert),
    write(`${name}.key`, pem.key, true),
  ];
  const ca = await createCa(`mecqkd-cluster-ca-${nodeName}`);
  const server = `https://${nodeIp}:${APISERVER_PORT}`;
  const kubeconfig = (name: string, pem: Pem) =>
    write(
      `${name}.kubeconfig`,
      kubeconfigYaml({ name: nodeName, server, caPem: ca.cert, certPem: pem.cert, keyPem: pem.key }),
      true,
    );
  const [apiserverCert, apiserverKey] = pair(
    'apiserver',
    await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      dnsNames: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
      ipAddresses: ['127.0.0.1', KUBERNETES_SERVICE_IP, nodeIp],
      server: true,
    }),
  );
  const kubeletClient = await issueCertificate(ca, {
    commonName: `system:node:${nodeName}`,
    organizations: ['system:nodes'],
    client: true,
  });
  const [kubeletClientCert, kubeletClientKey] = pair(
    'apiserver-kubelet-client',
    await issueCertificate(ca, { commonName: APISERVER_KUBELET_CLIENT, client: true }),
  );
  const [kubeletServingCert, kubeletServingKey] = pair(
    'kubelet-serving',
    await issueCertificate(ca, {
      commonName: nodeName,
      dnsNames: [nodeName],
      ipAddresses: [nodeIp],
      server: true,
    }),
  );
  const sa = await createKeyPairPem();
  const kubeconfigs = { kubelet: kubeconfig('kubelet', kubeletClient) } as NodePki['kubeconfigs'];
  for (const [name, subject] of Object.entries(CLIENTS)) {
    kubeconfigs[name as Client] = kubeconfig(name, await issueCertificate(ca, { ...subject, client: true }));
  }
  return {
    dir,
    caCert: write('ca.crt', ca.cert),
    caKey: write('ca.key', ca.key, true),
    apiserverCert: apiserverCert as string,
    apiserverKey: apiserverKey as string,
    kubeletClientCert: kubeletClientCert as string,
    kubeletClientKey: kubeletClientKey as string,
    kubeletServingCert: kubeletServingCert as string,
    kubeletServingKey: kubeletServingKey as string,
    saKey: write('sa.key', sa.privateKey, true),
    saPub: write('sa.pub', sa.publicKey),
    kubeconfigs,
  };
}
