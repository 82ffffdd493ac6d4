// What the kube-apiserver's CPU per Mx2 context is made of (issue 11), one request kind at a time on
// a control plane of its own: ConfigMap creates (the bench's "raw create"), AppContext creates in the
// LCMP's shape, the operator's status PUT of each, each kind with and without two watchers of the
// collection (the operator's and the LCMP's informers). Each phase runs for a fixed time at
// CONCURRENCY; the apiserver's CPU per request comes from /proc, and APISERVER_COST_PROF=<dir> writes
// a pprof CPU profile of every phase there (`go tool pprof -top`).
import { writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { report } from '@mecqkd/common/bench';
import { cpuSpent, sampleCpu } from '@mecqkd/common/proc-cpu';
import { APP_CONTEXTS } from '@mecqkd/crds/api-resources';
import { createKubeClient, type KubeClient } from '@mecqkd/kube/kube-client';
import { collectionPath, objectPath } from '@mecqkd/kube/kube-paths';
import { type ControlPlane, startControlPlane } from '@mecqkd/localenv/control-plane';

const SECONDS = Number(process.env.APISERVER_COST_SECONDS ?? 8);
const PROF = process.env.APISERVER_COST_PROF;
const CONCURRENCY = 32;
const NS = 'apiserver-cost';

function adminGet(cp: ControlPlane, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tls = { ca: cp.caPem, cert: cp.admin.cert, key: cp.admin.key };
    const req = httpsRequest(`${cp.server}${path}`, tls, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    });
    req.on('error', reject);
    req.end();
  });
}

/** An AppContext as the LCMP creates it (contexts.ts contextResource). */
const appContext = (name: string) => ({
  apiVersion: 'mecqkd.io/v1alpha1',
  kind: 'AppContext',
  metadata: {
    name,
    labels: { 'app.kubernetes.io/managed-by': 'mecqkd-lcmp' },
    annotations: {
      'mecqkd.io/lcmp-owner': 'bench',
      'mecqkd.io/mx2-app-info': '{"appName":"model-1","appProvider":"bench","appDVersion":"1"}',
      'mecqkd.io/traceparent': '00-56ebc82efc53e7799d05fb8094f342fb-9d4a0a56da6c92ff-01',
    },
    finalizers: ['mecqkd.io/action-cleanup', 'mecqkd.io/lcmp-notify'],
  },
  spec: {
    appName: 'model-1',
    associateDevAppId: 'bench',
    client: { kmeId: 'KME_CLIENT', saeId: 'SAE_CLIENT' },
  },
});

/** The operator's placed status (controllers/appcontext-status.ts placedStatus). */
const placedStatus = (now: string) => ({
  observedGeneration: 1,
  phase: 'Placed',
  host: 'host-1',
  appInstanceId: 'host-1/mecqkd-model-1-67737c308476',
  referenceURI: 'http://127.0.0.1:41417/api/v1/web/guest/default/mecqkd-model-1-67737c308476.json',
  hostKmeId: 'KME_HOST_1',
  hostSaeId: 'SAE_HOST_1',
  keyPath: ['KME_CLIENT', 'KME_HOST_1'],
  placedTime: now,
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      observedGeneration: 1,
      lastTransitionTime: now,
      reason: 'Placed',
      message:
        'served by host-1 (action mecqkd-model-1-67737c308476); keys over 1 QKD hop KME_CLIENT → KME_HOST_1',
    },
  ],
});

/** `op(i)` by CONCURRENCY clients for SECONDS (or until `limit` ops): apiserver CPU ms per op. */
async function phase(cp: ControlPlane, name: string, limit: number, op: (i: number) => Promise<void>) {
  let next = 0;
  const before = sampleCpu(cp.pids.apiserver);
  const prof = PROF
    ? adminGet(cp, `/debug/pprof/profile?seconds=${SECONDS}`).then((p) =>
        writeFileSync(join(PROF, `${name}.pprof`), p),
      )
    : undefined;
  const deadline = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline && next < limit) await op(next++);
    }),
  );
  const ms = cpuSpent(before, sampleCpu(cp.pids.apiserver)).selfMs;
  await prof;
  console.log(`${name}: ${next} ops, ${(ms / next).toFixed(3)} ms apiserver CPU each`);
  return { ops: next, msPerOp: ms / next };
}

/** Watches the collection and drops what arrives, as an informer does after decoding it. */
async function watchers(kube: KubeClient, n: number, signal: AbortSignal): Promise<Promise<void>[]> {
  const path = collectionPath(APP_CONTEXTS, NS);
  // from now on: no initial ADDED events for what earlier phases created
  const { resourceVersion } = await kube.list(path, { pageSize: 1 });
  return Array.from({ length: n }, async () => {
    try {
      for await (const _ of kube.watch(path, { signal, resourceVersion })) {
        // each event decoded by the client, then dropped
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  });
}

async function main(): Promise<void> {
  const cp = await startControlPlane();
  const kube = await createKubeClient({ kubeconfigPath: cp.kubeconfigPath, connections: CONCURRENCY });
  try {
    await cp.kubectl(['create', 'namespace', NS]);
    const rows: { metric: string; value: number; unit: string }[] = [];
    let seq = 0;
    // warm-up: connections, the CRD's handler, the watch cache
    for (let i = 0; i < 64; i++)
      await kube.create(collectionPath(APP_CONTEXTS, NS), appContext(`f${i.toString(16).padStart(31, '0')}`));
    for (const w of [0, 2]) {
      const stop = new AbortController();
      const watching = await watchers(kube, w, stop.signal);
      const cm = await phase(cp, `configmap-create-w${w}`, Number.MAX_SAFE_INTEGER, async () => {
        await kube.create(collectionPath({ group: '', version: 'v1', plural: 'configmaps' }, NS), {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `cm-${seq++}` },
          data: { n: String(seq) },
        });
      });
      const created: { name: string; resourceVersion: string }[] = [];
      const ac = await phase(cp, `appcontext-create-w${w}`, Number.MAX_SAFE_INTEGER, async () => {
        const name = (seq++).toString(16).padStart(32, '0');
        const obj = await kube.create(collectionPath(APP_CONTEXTS, NS), appContext(name));
        created.push({ name, resourceVersion: obj.metadata.resourceVersion! });
      });
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const st = await phase(cp, `appcontext-status-put-w${w}`, created.length, async (i) => {
        const { name, resourceVersion } = created[i]!;
        await kube.replace(`${objectPath(APP_CONTEXTS, NS, name)}/status`, {
          apiVersion: 'mecqkd.io/v1alpha1',
          kind: 'AppContext',
          metadata: { name, namespace: NS, resourceVersion },
          status: placedStatus(now),
        });
      });
      stop.abort();
      await Promise.allSettled(watching);
      rows.push(
        { metric: `ConfigMap create, ${w} watchers of appcontexts`, value: cm.msPerOp, unit: 'ms' },
        { metric: `AppContext create, ${w} watchers`, value: ac.msPerOp, unit: 'ms' },
        { metric: `AppContext status PUT, ${w} watchers`, value: st.msPerOp, unit: 'ms' },
      );
    }
    report('apiserver-cost', rows, { seconds: SECONDS, concurrency: CONCURRENCY, loadavg: loadavg() });
    console.log(
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await kube.close();
    await cp.stop();
  }
}

main().catch((err) => {
  console.error(`apiserver-cost bench failed: ${(err as Error).stack}`);
  process.exitCode = 1;
});
