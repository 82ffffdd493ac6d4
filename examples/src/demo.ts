// `make demo`: the hospital scenario on an embedded local control plane. It starts etcd and
// kube-apiserver, installs the CRDs, applies the hospital's catalog, hosts, links and a context,
// shows them with kubectl, and tears everything down (also on Ctrl-C).
import { join } from 'node:path';
import { type ControlPlane, startControlPlane } from '@mecqkd/localenv/control-plane';
import { stopAll } from '@mecqkd/localenv/process';

const MANIFESTS = join(import.meta.dirname, '..', 'manifests');
const NAMESPACE = 'hospital';

function step(text: string): void {
  console.log(`\n\u001b[1m== ${text}\u001b[0m`);
}

async function kubectl(cp: ControlPlane, args: string[]): Promise<string> {
  const r = await cp.kubectl(['-n', NAMESPACE, ...args]);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

async function main(): Promise<void> {
  step('Starting a local control plane (etcd + kube-apiserver built by make control-plane)');
  const cp = await startControlPlane();
  try {
    console.log(`apiserver ${cp.server} ready with the mecqkd CRDs in ${(cp.startupMs / 1000).toFixed(1)} s`);
    console.log(`kubeconfig: ${cp.kubeconfigPath}`);
    await cp.kubectl(['create', 'namespace', NAMESPACE]);

    step(`Applying examples/manifests to namespace ${NAMESPACE}`);
    process.stdout.write(await kubectl(cp, ['apply', '-f', MANIFESTS]));

    step('kubectl get mec  (every mecqkd kind, by category)');
    process.stdout.write(await kubectl(cp, ['get', 'mec']));

    step('kubectl explain appcontext.status.referenceURI');
    process.stdout.write(await kubectl(cp, ['explain', 'appcontext.status.referenceURI']));
  } finally {
    step('Cleaning up');
    await cp.stop();
    await stopAll();
    console.log('control plane stopped; nothing left running');
  }
}

main().catch((err) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
