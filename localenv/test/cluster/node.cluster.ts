// Smoke test of the one-node cluster itself (`make cluster-smoke`; needs root and changes the host,
// so it is not a *.test.ts that `make test` picks up): a pod from a local image with ConfigMap and
// Secret volumes and probes, a ClusterIP Service reached by its DNS name through CoreDNS, kubectl
// logs and exec, and a teardown that leaves nothing behind. The image is one `make images` wrote
// (MECQKD_SMOKE_IMAGE, default kme-sim.tar): only its node binary is used.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { imageArchiveDir } from '../../src/binaries.ts';
import { currentSysctls, registeredClusters } from '../../src/cluster/host-changes.ts';
import { type Cluster, startCluster } from '../../src/cluster/index.ts';
import { leftoversOf } from '../../src/cluster/leftovers.ts';

const archive = process.env.MECQKD_SMOKE_IMAGE ?? join(imageArchiveDir(), 'kme-sim.tar');

const SERVER = `
const http = require('node:http');
const fs = require('node:fs');
http.createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  const body = fs.readFileSync('/config/greeting', 'utf8') + ' ' + fs.readFileSync('/secret/token', 'utf8');
  console.log('served ' + req.url);
  res.end(body);
}).listen(8080, () => console.log('listening on 8080'));
`;

function manifests(image: string) {
  const labels = { app: 'web' };
  const probe = { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 };
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'web' },
        data: { greeting: 'hello from a ConfigMap' },
      },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web' }, stringData: { token: 'and a Secret' } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              securityContext: { runAsNonRoot: true, runAsUser: 10001 },
              containers: [
                {
                  name: 'web',
                  image,
                  imagePullPolicy: 'Never',
                  command: ['node', '-e', SERVER],
                  readinessProbe: probe,
                  livenessProbe: probe,
                  volumeMounts: [
                    { name: 'config', mountPath: '/config' },
                    { name: 'secret', mountPath: '/secret' },
                  ],
                },
              ],
              volumes: [
                { name: 'config', configMap: { name: 'web' } },
                { name: 'secret', secret: { secretName: 'web' } },
              ],
            },
          },
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
      },
    ],
  };
}

describe('one-node cluster (make cluster-smoke)', function () {
  this.timeout(300_000);
  let cluster: Cluster;
  let image: string;
  const sysctlsBefore = currentSysctls();
  const aloneAtStart = registeredClusters().live.length === 0;

  before(async () => {
    if (!existsSync(archive)) throw new Error(`${archive} is missing: run \`make images\` first`);
    cluster = await startCluster({ images: [archive], log: (l) => console.log(`      ${l}`) });
    image = cluster.images[0] as string;
  });

  after(async () => {
    if (!cluster) return;
    const report = await cluster.stop();
    console.log(`      teardown ${report.ms} ms`);
  });

  it('runs a pod from the local image with ConfigMap and Secret volumes and probes', async () => {
    const applied = await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifests(image)) });
    expect(applied.stderr).to.equal('');
    const ready = await cluster.kubectl([
      'wait',
      '--for=condition=Available',
      'deployment/web',
      '--timeout=120s',
    ]);
    expect(ready.stdout, ready.stderr).to.contain('condition met');
  });

  it('reaches the ClusterIP Service by its DNS name through CoreDNS, from a pod (kubectl exec)', async () => {
    const pod = (
      await cluster.kubectl(['get', 'pod', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}'])
    ).stdout;
    const got = await cluster.kubectl([
      'exec',
      pod,
      '--',
      'node',
      '-e',
      "fetch('http://web.default.svc.cluster.local/').then(r => r.text()).then(t => console.log(t))",
    ]);
    expect(got.stdout.trim(), got.stderr).to.equal('hello from a ConfigMap and a Secret');
  });

  it('shows the pod log (kubectl logs)', async () => {
    const logs = await cluster.kubectl(['logs', 'deployment/web']);
    expect(logs.stdout, logs.stderr).to.contain('listening on 8080').and.to.contain('served /');
  });

  it('stops, leaving no process, mount, namespace, veth, cgroup or run directory behind', async () => {
    const name = cluster.name;
    await cluster.stop();
    expect(await leftoversOf(name)).to.deep.equal([]);
  });

  it("restores kubelet's global sysctls when no other node runs", function () {
    if (!aloneAtStart || registeredClusters().live.length > 0) this.skip(); // the last node out restores them
    expect(currentSysctls()).to.deep.equal(sysctlsBefore);
  });
});
