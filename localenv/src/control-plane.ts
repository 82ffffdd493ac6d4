// A real Kubernetes control plane (etcd + kube-apiserver) on free loopback ports, started the way
// controller-runtime's envtest does: our own serving and client CAs, an admin client certificate in
// system:masters, RBAC authorization, a kubeconfig, and the mecqkd CRDs installed and Established.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CertificateAuthority,
  createCa,
  createKeyPairPem,
  issueCertificate,
  type Pem,
} from '@mecqkd/common/pki';
import { freePort } from '@mecqkd/common/ports';
import { type ManagedProcess, startProcess, waitUntil } from '@mecqkd/common/process';
import { controlPlaneBinaries } from './binaries.ts';
import { httpsGet } from './https-probe.ts';
import { kubeconfigYaml } from './kubeconfig.ts';

export const CRD_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'crds');

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** http://127.0.0.1:<port> of etcd (tests compact it to force 410 Gone on watches). */
  etcdUrl: string;
  kubeconfigPath: string;
  /** CA that signed the apiserver serving certificate. */
  caPem: string;
  /** Admin user (system:masters). */
  admin: Pem;
  dir: string;
  startupMs: number;
  /** Process ids of the running etcd and apiserver, e.g. for benchmarks that report their CPU time. */
  readonly pids: { apiserver: number; etcd: number };
  /** The running process of a part (a chaos run SIGKILLs it). */
  process(part: ControlPlanePart): ManagedProcess;
  /**
   * Starts a part again after it died, with the same ports, certificates and etcd data directory,
   * and waits until it is healthy: a kubelet restarting a static pod.
   */
  restart(part: ControlPlanePart): Promise<ManagedProcess>;
  /** Runs the project-built kubectl against this control plane. */
  kubectl(args: string[], opts?: { input?: string; kubeconfig?: string }): Promise<KubectlResult>;
  /** A kubeconfig for another user, e.g. to test RBAC; groups become the certificate's O fields. */
  userKubeconfig(user: string, groups?: string[]): Promise<string>;
  stop(): Promise<void>;
}

export type ControlPlanePart = 'etcd' | 'kube-apiserver';

export interface ControlPlaneOptions {
  /** Install crds/*.yaml and wait until they are Established (default true). */
  installCrds?: boolean;
  /** Where logs and data go; a fresh temporary directory by default (removed on stop). */
  dir?: string;
  startTimeoutMs?: number;
}

async function issueKubePki(dir: string) {
  const servingCa = await createCa('mecqkd-apiserver-ca');
  const serving = await issueCertificate(servingCa, {
    commonName: 'kube-apiserver',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1', '10.0.0.1'],
    server: true,
  });
  const clientCa = await createCa('mecqkd-client-ca');
  const admin = await issueCertificate(clientCa, {
    commonName: 'admin',
    organizations: ['system:masters'],
    client: true,
    validDays: 7,
  });
  const files = {
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    clientCa: join(dir, 'client-cert-auth-ca.crt'),
    saKey: join(dir, 'sa-signer.key'),
    saPub: join(dir, 'sa-signer.pub'),
  };
  writeFileSync(files.servingCert, serving.cert);
  writeFileSync(files.servingKey, serving.key, { mode: 0o600 });
  writeFileSync(files.clientCa, clientCa.cert);
  const sa = await createKeyPairPem();
  writeFileSync(files.saKey, sa.privateKey, { mode: 0o600 });
  writeFileSync(files.saPub, sa.publicKey);
  return { servingCa, clientCa, admin, files };
}

/** etcd on fixed ports with its data directory under `dir`: a restart finds the same store. */
async function startEtcd(
  etcd: string,
  dir: string,
  ports: { client: number; peer: number },
  timeoutMs: number,
  spawned: (p: ManagedProcess) => void,
): Promise<ManagedProcess> {
  const url = `http://127.0.0.1:${ports.client}`;
  const peer = `http://127.0.0.1:${ports.peer}`;
  const proc = startProcess({
    name: 'etcd',
    command: etcd,
    args: [
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      '--unsafe-no-fsync=true',
      // etcd keeps this many applied raft entries in memory for a slow follower to catch up from
      // (default 5000): at the soak's ≈ 14 writes/s of ≈ 2.2 KB that fills in ≈ 6 minutes and held
      // etcd's Go heap at 36–49 MB (17–26 MB with 100), which `make soak` saw as growth. A single
      // member has no follower; a production cluster of 3 or 5 members keeps the default (a
      // follower further behind than that needs a whole snapshot sent) and sizes its memory for it.
      '--snapshot-catchup-entries=100',
      '--log-level=warn',
    ],
    logFile: join(dir, 'etcd.log'),
  });
  spawned(proc);
  await waitUntil(
    'etcd /health',
    async () => {
      const res = await fetch(`${url}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    },
    { timeoutMs, process: proc },
  );
  return proc;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = Date.now();
  const bins = controlPlaneBinaries();
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'mecqkd-cp-'));
  mkdirSync(dir, { recursive: true });
  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  // the parts running now, newest last (a restart replaces its entry)
  const running: Partial<Record<ControlPlanePart, ManagedProcess>> = {};
  const stopProcesses = async () => {
    for (const part of ['kube-apiserver', 'etcd'] as const) await running[part]?.stop('SIGTERM', 20_000);
  };
  const stop = async () => {
    await stopProcesses();
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pki = await issueKubePki(dir);
    const etcdPorts = { client: await freePort(), peer: await freePort() };
    const etcdUrl = `http://127.0.0.1:${etcdPorts.client}`;
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const tls = { ca: pki.servingCa.cert, cert: pki.admin.cert, key: pki.admin.key };
    // a part is tracked from its spawn on, so that one failing to become healthy is stopped too
    const spawned = (part: ControlPlanePart) => (p: ManagedProcess) => {
      running[part] = p;
    };
    const start: Record<ControlPlanePart, () => Promise<ManagedProcess>> = {
      etcd: () => startEtcd(bins.etcd, dir, etcdPorts, timeoutMs, spawned('etcd')),
      'kube-apiserver': async () => {
        const apiserver = startProcess({
          name: 'kube-apiserver',
          command: bins.kubeApiserver,
          args: [
            `--etcd-servers=${etcdUrl}`,
            `--cert-dir=${dir}`,
            `--tls-cert-file=${pki.files.servingCert}`,
            `--tls-private-key-file=${pki.files.servingKey}`,
            `--secure-port=${port}`,
            '--bind-address=127.0.0.1',
            '--service-cluster-ip-range=10.0.0.0/24',
            '--authorization-mode=RBAC',
            '--allow-privileged=true',
            '--disable-admission-plugins=ServiceAccount',
            `--service-account-issuer=${server}/`,
            `--service-account-key-file=${pki.files.saPub}`,
            `--service-account-signing-key-file=${pki.files.saKey}`,
            `--client-ca-file=${pki.files.clientCa}`,
            '--v=1',
          ],
          logFile: join(dir, 'kube-apiserver.log'),
        });
        spawned('kube-apiserver')(apiserver);
        await waitUntil(
          'kube-apiserver /readyz',
          async () => (await httpsGet(`${server}/readyz`, tls)).status === 200,
          { timeoutMs, process: apiserver, intervalMs: 200 },
        );
        return apiserver;
      },
    };
    await start.etcd();
    await start['kube-apiserver']();
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfigPath,
      kubeconfigYaml({
        name: 'mecqkd-local',
        server,
        caPem: pki.servingCa.cert,
        certPem: pki.admin.cert,
        keyPem: pki.admin.key,
      }),
      { mode: 0o600 },
    );
    const kubectl = makeKubectl(bins.kubectl, kubeconfigPath);
    const plane: ControlPlane = {
      server,
      etcdUrl,
      kubeconfigPath,
      caPem: pki.servingCa.cert,
      admin: pki.admin,
      dir,
      startupMs: 0,
      get pids() {
        return { apiserver: running['kube-apiserver']!.pid, etcd: running.etcd!.pid };
      },
      process: (part) => running[part]!,
      restart: (part) => start[part](),
      kubectl,
      userKubeconfig: (user, groups) =>
        writeUserKubeconfig(dir, server, pki.servingCa.cert, pki.clientCa, user, groups),
      stop,
    };
    if (opts.installCrds ?? true) await installCrds(kubectl);
    plane.startupMs = Date.now() - t0;
    return plane;
  } catch (err) {
    await stopProcesses(); // the directory and its logs stay for the post-mortem the error points to
    throw err;
  }
}

function makeKubectl(binary: string, kubeconfigPath: string): ControlPlane['kubectl'] {
  return (args, opts = {}) =>
    new Promise((resolve) => {
      const child = execFile(
        binary,
        args,
        {
          env: { ...process.env, KUBECONFIG: opts.kubeconfig ?? kubeconfigPath },
          maxBuffer: 64 * 1024 * 1024,
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (opts.input !== undefined) child.stdin?.end(opts.input);
      else child.stdin?.end();
    });
}

/** The generated CRD manifests, as kubectl `-f` arguments. */
export function crdFileArgs(): string[] {
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => ['-f', join(CRD_DIR, f)]);
}

async function installCrds(kubectl: ControlPlane['kubectl']): Promise<void> {
  const applied = await kubectl(['apply', '--server-side', ...crdFileArgs()]);
  if (applied.code !== 0) throw new Error(`installing CRDs from ${CRD_DIR} failed: ${applied.stderr}`);
  const established = await kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...crdFileArgs(),
  ]);
  if (established.code !== 0) throw new Error(`CRDs did not become Established: ${established.stderr}`);
}

async function writeUserKubeconfig(
  dir: string,
  server: string,
  caPem: string,
  clientCa: CertificateAuthority,
  user: string,
  groups: string[] = [],
): Promise<string> {
  const pem = await issueCertificate(clientCa, {
    commonName: user,
    organizations: groups,
    client: true,
    validDays: 1,
  });
  const path = join(dir, `kubeconfig-${user.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
  writeFileSync(path, kubeconfigYaml({ name: user, server, caPem, certPem: pem.cert, keyPem: pem.key }), {
    mode: 0o600,
  });
  return path;
}
