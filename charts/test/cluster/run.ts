// `make test-cluster`: starts a real one-node cluster (localenv/src/cluster) with the images of
// `make images`, runs the chart's cluster scenario (charts/test/cluster/*.cluster.ts) with mocha
// inside the node's network namespace — where Service IPs, the node IP and, through a resolv.conf
// naming CoreDNS in a mount namespace of the test's own, the Services' DNS names work as in a pod —
// then tears the node down. Prints the wall time of each step.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { controlPlaneBinaries, helmBinary, imageArchiveDir } from '@mecqkd/localenv/binaries';
import { type Cluster, startCluster } from '@mecqkd/localenv/cluster/index';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const IMAGES = ['operator', 'lcmp', 'kme-sim', 'whisk-sim', 'host-sae', 'redis'].map((c) =>
  join(imageArchiveDir(), `${c}.tar`),
);
const SPEC = process.env.CLUSTER_SPEC ?? 'charts/test/cluster/*.cluster.ts';

const t0 = Date.now();
const say = (line: string) => console.log(`[test-cluster ${new Date().toISOString().slice(11, 19)}] ${line}`);
const steps: [string, number][] = [];
async function step<T>(name: string, f: () => Promise<T>): Promise<T> {
  const t = Date.now();
  say(`${name}…`);
  try {
    return await f();
  } finally {
    const s = (Date.now() - t) / 1000;
    steps.push([name, s]);
    say(`${name}: ${s.toFixed(1)} s`);
  }
}

/** The in-cluster resolver for the test process: CoreDNS's Service, the cluster's search path. */
async function resolvConf(cluster: Cluster, dir: string): Promise<string> {
  const ip = await cluster.kubectl([
    '-n',
    'kube-system',
    'get',
    'service',
    'kube-dns',
    '-o',
    'jsonpath={.spec.clusterIP}',
  ]);
  if (ip.code !== 0 || !ip.stdout) throw new Error(`no CoreDNS Service: ${ip.stderr}`);
  const file = join(dir, 'resolv.conf');
  writeFileSync(file, `nameserver ${ip.stdout}\nsearch svc.cluster.local cluster.local\noptions ndots:5\n`);
  return file;
}

/**
 * mocha on SPEC in the node's network namespace, /etc/resolv.conf replaced in a private mount
 * namespace. Resolves to the exit code and mocha's failure report (its output from "N failing" on).
 */
function runScenario(cluster: Cluster, resolv: string): Promise<{ code: number; failures: string }> {
  const env = {
    ...process.env,
    KUBECONFIG: cluster.kubeconfigPath,
    PATH: [dirname(controlPlaneBinaries().kubectl), dirname(helmBinary()), process.env.PATH].join(':'),
    MECQKD_CLUSTER_NODE_IP: cluster.nodeIp,
    MECQKD_CLUSTER_NAME: cluster.name,
  };
  const script = 'mount --bind "$0" /etc/resolv.conf && exec npx mocha --bail --timeout 600000 "$1"';
  const child = spawn(
    'nsenter',
    [
      `--net=${cluster.netnsPath}`,
      '--',
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      resolv,
      SPEC,
    ],
    { cwd: ROOT, env, stdio: ['inherit', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk);
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const at = out.search(/^ {2}\d+ failing/m);
      resolve({ code: code ?? (signal ? 1 : 0), failures: at < 0 ? '' : out.slice(at) });
    });
  });
}

/** What a failed run leaves to read: the pods, the MEC objects, and the last log lines of each pod. */
async function diagnose(cluster: Cluster): Promise<void> {
  const show = async (args: string[]) => {
    const r = await cluster.kubectl(args).catch((err: unknown) => ({ stdout: '', stderr: String(err) }));
    process.stderr.write(`\n$ kubectl ${args.join(' ')}\n${r.stdout}${r.stderr ?? ''}`);
  };
  await show(['get', 'pods,mechosts,appcontexts,qkdlinks', '-A', '-o', 'wide']);
  const pods = await cluster
    .kubectl([
      'get',
      'pods',
      '-A',
      '-o',
      'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}',
    ])
    .catch(() => ({ stdout: '' }));
  for (const p of pods.stdout.split('\n').filter((l) => l && !l.startsWith('kube-system/'))) {
    const [ns, name] = p.split('/') as [string, string];
    await show(['logs', '-n', ns, name, '--all-containers', '--tail', '40']);
  }
}

let failures = '';

async function main(): Promise<number> {
  const missing = IMAGES.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`no images: ${missing.join(', ')} (make images)`);
  const dir = mkdtempSync(join(tmpdir(), 'mecqkd-test-cluster-'));
  const cluster = await step('start the node and import the images', () =>
    startCluster({ images: IMAGES, log: (l) => say(`  ${l}`) }),
  );
  let code = 1;
  try {
    const resolv = await resolvConf(cluster, dir);
    const run = await step(`scenario (${SPEC})`, () => runScenario(cluster, resolv));
    code = run.code;
    failures = run.failures || '(mocha printed no failure report: see its errors above)';
    if (code !== 0) await diagnose(cluster);
  } finally {
    await step('tear the node down', () => cluster.stop());
    rmSync(dir, { recursive: true, force: true });
  }
  return code;
}

main().then(
  (code) => {
    // the scenario's failures again, after the pods' logs: the tail of a CI log says what failed
    if (code !== 0) process.stderr.write(`\n${failures.trimEnd()}\n\n`);
    say(`wall time per step: ${steps.map(([n, s]) => `${n} ${s.toFixed(1)} s`).join('; ')}`);
    say(`${code === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    process.exit(code);
  },
  (err: unknown) => {
    say(`FAILED: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
