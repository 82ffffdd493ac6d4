// `make demo`: the hospital scenario on an embedded local control plane. Two MEC hosts (whisk-sim),
// KMEs for the client and both hosts with QKD links (kme-sim), Redis, and the operator; the
// hospital's catalog (cardiovascular and COVID-19 risk models) from examples/manifests; ward tablets
// open contexts, the operator places them and deploys the actions, a client invokes a model at its
// referenceURI, a host overloads and contexts migrate, contexts end and actions go. Everything is
// torn down at the end, also on Ctrl-C.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { createLogger } from '@mecqkd/common/logger';
import { stopAll } from '@mecqkd/common/process';
import type { AppContext } from '@mecqkd/crds';
import { createQkd014Client } from '@mecqkd/kme-sim/client';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { stopShared } from '@mecqkd/localenv/shared';
import { parseOperatorConfig } from '@mecqkd/operator/config';
import { type RunningOperator, startOperator } from '@mecqkd/operator/operator';
import { buildParts } from '@mecqkd/operator/parts';
import { createKeySupply } from '@mecqkd/sdk/key-supply';
import { createSecureInvoker } from '@mecqkd/sdk/secure-invoke';
import openwhisk from 'openwhisk';

const MANIFESTS = join(import.meta.dirname, '..', 'manifests');
const NAMESPACE = 'hospital';

const step = (text: string) => console.log(`\n\u001b[1m== ${text}\u001b[0m`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(300);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function contexts(tb: MecTestbed): Promise<AppContext[]> {
  return JSON.parse(await tb.kubectl(['get', 'appcontexts', '-o', 'json'])).items;
}

async function openContext(tb: MecTestbed, id: string, app: string, device: string): Promise<void> {
  await tb.kubectl(
    ['create', '-f', '-'],
    toKubeYaml({
      apiVersion: 'mecqkd.io/v1alpha1',
      kind: 'AppContext',
      metadata: { name: id },
      spec: {
        appName: app,
        associateDevAppId: device,
        client: { kmeId: tb.clientKmeId, saeId: tb.clientSae.id },
      },
    }),
  );
}

async function scenario(tb: MecTestbed): Promise<void> {
  step('The MEC system: hosts (OpenWhisk) and QKD links, as the operator sees them');
  await until('hosts Ready', async () => {
    const out = await tb.kubectl([
      'get',
      'mechosts',
      '-o',
      'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}',
    ]);
    return out.split(' ').filter((s) => s === 'True').length === 2 ? true : undefined;
  });
  await until('links ACTIVE', async () =>
    (await tb.kubectl(['get', 'qkdlinks', '-o', 'jsonpath={.items[*].status.state}']))
      .split(' ')
      .every((s) => s === 'ACTIVE')
      ? true
      : undefined,
  );
  process.stdout.write(await tb.kubectl(['get', 'mechosts,qkdlinks']));

  step('The hospital catalog: examples/manifests (MecApps and the ConfigMap with their code)');
  process.stdout.write(
    await tb.kubectl([
      'apply',
      '-f',
      join(MANIFESTS, 'actions-configmap.yaml'),
      '-f',
      join(MANIFESTS, 'mecapp-cardio.yaml'),
      '-f',
      join(MANIFESTS, 'mecapp-covid.yaml'),
    ]),
  );
  process.stdout.write(await tb.kubectl(['get', 'mecapps']));

  step('Ward tablets open application contexts (as the LCMP does for POST /app_contexts)');
  const ids = {
    cardio1: 'c0de0000000000000000000000000001',
    cardio2: 'c0de0000000000000000000000000002',
    cardio3: 'c0de0000000000000000000000000003',
    covid1: 'c0de0000000000000000000000000004',
  };
  await openContext(tb, ids.cardio1, 'cardio-risk', 'ward-7-tablet-1');
  await openContext(tb, ids.cardio2, 'cardio-risk', 'ward-7-tablet-2');
  await openContext(tb, ids.cardio3, 'cardio-risk', 'ward-3-tablet-1');
  await openContext(tb, ids.covid1, 'covid-risk', 'icu-tablet-1');
  await until('contexts Placed', async () =>
    (await contexts(tb)).every((c) => c.status?.phase === 'Placed') ? true : undefined,
  );
  process.stdout.write(await tb.kubectl(['get', 'appcontexts', '-o', 'wide']));
  console.log('covid-risk only runs in the east wing (hostSelector): it went to host-1.');

  step('A client invokes the cardiovascular model at its referenceURI');
  const ctx = (await contexts(tb)).find((c) => c.metadata.name === ids.cardio1)!;
  console.log(`referenceURI: ${ctx.status?.referenceURI}`);
  console.log(
    `keys for this context come from ${ctx.status?.keyPath?.join(' → ')} (host SAE ${ctx.status?.hostSaeId})`,
  );
  const patient = {
    sex: 'male',
    age: 61,
    totalCholesterol: 180,
    hdlCholesterol: 47,
    systolicBloodPressure: 124,
    bloodPressureTreated: false,
    smoker: true,
    diabetes: false,
  };
  // Keys from the client KME (enc_keys for the host SAE), arguments sealed, no OpenWhisk key needed.
  const sae = tb.clientSae;
  const kme = createQkd014Client({
    url: sae.url,
    ca: readFileSync(sae.ca),
    cert: readFileSync(sae.cert),
    key: readFileSync(sae.key),
  });
  const keys = createKeySupply({ kme, hostSaeId: ctx.status!.hostSaeId!, invocationsPerKey: 1 });
  const invoker = createSecureInvoker(
    {
      referenceURI: ctx.status!.referenceURI!,
      contextId: ctx.metadata.name,
      clientSaeId: sae.id,
      invocationsPerKey: 1,
    },
    keys,
  );
  console.log(
    `patient ${JSON.stringify(patient)}\n→ ${JSON.stringify(await invoker.invoke(patient))} (sealed both ways)`,
  );
  keys.close();
  kme.close();

  step('host-2 gets overloaded (its OpenWhisk memory fills up): the operator migrates its contexts');
  const busy = (await contexts(tb)).filter((c) => c.status?.host === 'host-2').map((c) => c.metadata.name);
  const ow = openwhisk({
    apihost: tb.whisks['host-2']!.apiHost,
    api_key: tb.whisks['host-2']!.auth,
    namespace: tb.whisks['host-2']!.namespace,
  });
  await ow.actions.update({
    name: 'night-batch',
    action: 'function main(p) { return new Promise((r) => setTimeout(() => r({}), p.ms)); }',
    limits: { memory: 256, timeout: 60_000 },
  });
  for (let i = 0; i < 4; i++)
    await ow.actions.invoke({ name: 'night-batch', blocking: false, params: { ms: 15_000 } });
  await until(
    'contexts off host-2',
    async () => ((await contexts(tb)).every((c) => c.status?.host !== 'host-2') ? true : undefined),
    60_000,
  );
  process.stdout.write(await tb.kubectl(['get', 'mechosts,appcontexts']));
  for (const c of (await contexts(tb)).filter((x) => busy.includes(x.metadata.name))) {
    const m = c.status?.migrations?.at(-1);
    console.log(
      `${c.metadata.name}: ${m?.from} → ${m?.to} (${m?.reason}), new referenceURI ${c.status?.referenceURI}`,
    );
  }
  process.stdout.write(
    await tb.kubectl(['get', 'events.events.k8s.io', '--field-selector', 'reason=Migrated']),
  );

  step('Tablets close their contexts: the last one of an app on a host removes its action');
  for (const id of Object.values(ids)) await tb.kubectl(['delete', 'appcontext', id]);
  const managed = async (host: string) => {
    const list = await openwhisk({
      apihost: tb.whisks[host]!.apiHost,
      api_key: tb.whisks[host]!.auth,
      namespace: tb.whisks[host]!.namespace,
    }).actions.list();
    return list
      .filter((a) => a.annotations?.some((x: { key: string }) => x.key === 'mecqkd.io/managed'))
      .map((a) => a.name);
  };
  console.log(
    `mecqkd actions left on host-1: ${JSON.stringify(await managed('host-1'))}, host-2: ${JSON.stringify(await managed('host-2'))}`,
  );
}

async function main(): Promise<void> {
  step('Starting the local MEC system: control plane, Redis, 2 × whisk-sim, kme-sim KMEs with QKD links');
  const tb = await startMecTestbed({
    namespace: NAMESPACE,
    hosts: [
      { name: 'host-1', capacityMb: 1024, labels: { 'mecqkd.io/zone': 'east-wing' }, fibreKm: 10 },
      { name: 'host-2', capacityMb: 1024, labels: { 'mecqkd.io/zone': 'west-wing' }, fibreKm: 25 },
    ],
  });
  let op: RunningOperator | undefined;
  try {
    console.log(`apiserver ${tb.cp.server} (kubeconfig ${tb.cp.kubeconfigPath}), redis ${tb.redis.url}`);
    step('Starting the operator (MEC orchestrator)');
    const cfg = parseOperatorConfig(
      [
        '--kubeconfig',
        tb.cp.kubeconfigPath,
        '--namespace',
        NAMESPACE,
        '--redis-url',
        tb.redis.url,
        '--lease-namespace',
        NAMESPACE,
        '--health-port',
        '0',
        '--health-address',
        '127.0.0.1',
        '--probe-period',
        '2',
        '--telemetry-period',
        '1',
        '--optimise-period',
        '2',
        '--migration-cooldown',
        '5',
        // the local whisk-sims serve plain HTTP
        '--allow-insecure-hosts',
        '--wrapper-secret-file',
        tb.secure.wrapperSecretFile,
        '--host-sae-ca-file',
        tb.secure.hostSaeCaFile,
      ],
      {},
    );
    op = await startOperator(
      cfg,
      await buildParts(cfg, createLogger('operator', process.env.LOG_LEVEL ?? 'warn')),
    );
    await op.leading;
    console.log(`operator leading; /healthz, /readyz and /metrics on ${op.health.address}:${op.health.port}`);
    await scenario(tb);
  } finally {
    step('Cleaning up');
    await op?.stop();
    await tb.stop();
    await stopShared();
    await stopAll();
    console.log('everything stopped');
  }
}

main().catch((err) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
