// The whole hospital MEC system on this machine, for `make demo`, its test and the ward tablet
// console: the local control plane and Redis, two MEC hosts (whisk-sim + host SAE + KME each; host-2
// reached only through a trusted relay KME), the client KME, the operator and the LCMP as processes
// of their own, the hospital catalog of examples/manifests applied with kubectl, and one registered
// LCMP client (the ward tablets). Every component writes its log to a file under the run directory,
// which `mecqkd trace` reads. `startDemoSystem` returns what a client needs to reach it.
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { freePort } from '@mecqkd/common/ports';
import { startProcess, waitUntil } from '@mecqkd/common/process';
import { type AppContext, type MecHost, mecAppSpec, type QkdLink } from '@mecqkd/crds';
import { hashSecret } from '@mecqkd/lcmp/auth/secret-hash';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import { type PrometheusServer, startPrometheus } from '@mecqkd/localenv/prometheus';
import { saeKeyQuota } from '@mecqkd/sdk/key-allowance';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MANIFESTS = join(ROOT, 'examples', 'manifests');
/** What `make demo` applies: the hospital's two models and the ConfigMap with their code. */
export const CATALOG = ['actions-configmap.yaml', 'mecapp-cardio.yaml', 'mecapp-covid.yaml'];
export const MODELS = { cardio: 'cardio-risk', covid: 'covid-risk' } as const;

/** The ward tablets' registration at the LCMP (client credentials grant). */
export const WARD_CLIENT = {
  clientId: 'ward-tablets',
  secret: 'ward-tablets-demo-secret-0123456789',
  devAppIds: ['ward-7-tablet-1', 'ward-7-tablet-2', 'icu-tablet-1', 'console'],
} as const;

/**
 * The client SAE's key quota at the client KME: the declared demand of every context the ward
 * tablets may hold at once — one per tablet and model of the catalog — summed by the same rule as
 * the host SAEs' allowance.
 */
export function clientKeyQuota() {
  const placements = CATALOG.flatMap((file) =>
    parseAllDocuments(readFileSync(join(MANIFESTS, file), 'utf8'))
      .map((d) => d.toJS() as { kind?: string; spec?: unknown } | null)
      .filter((d) => d?.kind === 'MecApp')
      .map((d) => mecAppSpec.parse(d?.spec).placement),
  );
  return saeKeyQuota(placements.flatMap((p) => WARD_CLIENT.devAppIds.map(() => p)));
}

export interface DemoSystemOptions {
  /** Logs, configs and certificates go here (kept after stop, for `mecqkd trace`). */
  runDir: string;
  namespace?: string;
  /** Also start a Prometheus server scraping every component (for people to look at). */
  prometheus?: boolean;
  /** Progress lines while starting. */
  progress?: (line: string) => void;
}

export interface DemoSystem {
  runDir: string;
  namespace: string;
  kubeconfig: string;
  tb: MecTestbed;
  /** Base URL of the LCMP's Mx2 API (…/dev_app/v1 is under it) and its token endpoint. */
  lcmpUrl: string;
  tokenUrl: string;
  client: typeof WARD_CLIENT;
  /** The client perimeter: its SAE ID and the files of its QKD 014 identity at the client KME. */
  clientSae: { id: string; kmeUrl: string; ca: string; cert: string; key: string };
  operatorHealthUrl: string;
  prometheusUrl?: string;
  kubectl(args: string[], input?: string): Promise<string>;
  hosts(): Promise<MecHost[]>;
  links(): Promise<QkdLink[]>;
  contexts(): Promise<AppContext[]>;
  stop(): Promise<void>;
}

/** The bundled binaries `make build` writes: they start in a fraction of the time tsx takes. */
const binary = (bin: string, args: string[]) => ({
  command: process.execPath,
  args: [join(ROOT, bin), ...args],
});

/** `{ healthPort: 1 }` → `--health-port 1`; a `true` flag stands alone. */
const flags = (f: Record<string, string | number | boolean>) =>
  Object.entries(f).flatMap(([k, v]) => {
    const name = `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    return v === true ? [name] : [name, String(v)];
  });

async function startOperatorProcess(tb: MecTestbed, logs: string) {
  const health = await freePort();
  const proc = startProcess({
    name: 'operator',
    ...binary(
      'operator/bin/operator.mjs',
      flags({
        kubeconfig: tb.cp.kubeconfigPath,
        namespace: tb.namespace,
        redisUrl: tb.redis.url,
        leaseNamespace: tb.namespace,
        healthPort: health,
        healthAddress: '127.0.0.1',
        // quick reactions for a demo: probes, telemetry and re-optimisation every 1–2 s;
        probePeriod: 2,
        telemetryPeriod: 1,
        optimisePeriod: 1,
        // a moved context stays where it went: the overload's end does not pull it back
        migrationCooldown: 300,
        // the local whisk-sims serve plain HTTP; actions are wrapped for the host SAEs as in production
        allowInsecureHosts: true,
        wrapperSecretFile: tb.secure.wrapperSecretFile,
        hostSaeCaFile: tb.secure.hostSaeCaFile,
      }),
    ),
    env: { ...process.env, LOG_LEVEL: 'info' },
    logFile: join(logs, 'operator.log'),
  });
  const url = `http://127.0.0.1:${health}`;
  await waitUntil('operator ready', async () => (await fetch(`${url}/readyz`)).ok, {
    timeoutMs: 90_000,
    process: proc,
  });
  return { proc, url };
}

async function startLcmpProcess(tb: MecTestbed, logs: string) {
  const [port, health] = [await freePort(), await freePort()];
  const proc = startProcess({
    name: 'lcmp',
    ...binary(
      'lcmp/bin/lcmp.mjs',
      flags({
        kubeconfig: tb.cp.kubeconfigPath,
        namespace: tb.namespace,
        tokenEndpoint: 'true',
        port,
        healthPort: health,
        placeTimeout: 30,
        // the device apps' notification receivers listen on this machine: allowed explicitly
        callbackAllow: '127.0.0.0/8',
        notifyBackoff: 0.2,
        notifyMaxBackoff: 2,
      }),
    ),
    env: { ...process.env, LOG_LEVEL: 'info' },
    logFile: join(logs, 'lcmp.log'),
  });
  await waitUntil('LCMP ready', async () => (await fetch(`http://127.0.0.1:${health}/readyz`)).ok, {
    timeoutMs: 90_000,
    process: proc,
  });
  return { proc, url: `http://127.0.0.1:${port}` };
}

async function registerWardClient(tb: MecTestbed): Promise<void> {
  await tb.kubectl(
    ['apply', '-f', '-'],
    toKubeYaml({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `lcmp-client-${WARD_CLIENT.clientId}`, labels: { 'mecqkd.io/lcmp-client': 'true' } },
      type: 'Opaque',
      stringData: {
        clientId: WARD_CLIENT.clientId,
        secretHash: await hashSecret(WARD_CLIENT.secret),
        devAppIds: WARD_CLIENT.devAppIds.join(','),
        apps: '*',
        kmeId: tb.clientKmeId,
        saeId: tb.clientSae.id,
      },
    }),
  );
}

const hostPort = (url: string) => new URL(url).host;

/** Every component's /metrics, for a person browsing Prometheus; the operator scrapes directly. */
function scrapeEverything(tb: MecTestbed, operatorUrl: string) {
  return startPrometheus({
    scrapeIntervalMs: 2000,
    jobs: [
      {
        job: 'openwhisk',
        targets: Object.values(tb.whisks).map((w) => ({
          address: hostPort(w.apiHost),
          labels: { host: w.name },
        })),
      },
      { job: 'kme', targets: Object.values(tb.kmes.kmes).map((k) => ({ address: hostPort(k.opsUrl) })) },
      {
        job: 'host-sae',
        targets: Object.entries(tb.secure.hostSaes).map(([host, s]) => ({
          address: hostPort(s.opsUrl),
          labels: { host },
        })),
      },
      { job: 'operator', targets: [{ address: hostPort(operatorUrl) }] },
    ],
  });
}

export async function startDemoSystem(opts: DemoSystemOptions): Promise<DemoSystem> {
  const say = opts.progress ?? (() => undefined);
  const namespace = opts.namespace ?? 'hospital';
  const logs = join(opts.runDir, 'logs');
  mkdirSync(logs, { recursive: true });
  say('control plane (etcd + kube-apiserver), Redis, KMEs with QKD links, host SAEs, 2 × whisk-sim');
  const tb = await startMecTestbed({
    namespace,
    dir: opts.runDir,
    clientAppQos: clientKeyQuota(),
    hosts: [
      { name: 'host-1', capacityMb: 1024, fibreKm: 20, labels: { 'mecqkd.io/site': 'pisa-hospital' } },
      // in another building: its KME is reached through a trusted relay node
      {
        name: 'host-2',
        capacityMb: 1024,
        fibreKm: 15,
        relayed: true,
        labels: { 'mecqkd.io/site': 'pisa-hospital' },
      },
    ],
  });
  const stoppers: (() => Promise<void>)[] = [() => tb.stop()];
  const stop = async () => {
    for (const s of stoppers.splice(0).reverse()) await s();
  };
  try {
    say('operator (MEC orchestrator) and LCMP (Mx2), as processes of their own');
    const [operator, lcmp] = await Promise.all([startOperatorProcess(tb, logs), startLcmpProcess(tb, logs)]);
    stoppers.push(
      () => operator.proc.stop(),
      () => lcmp.proc.stop(),
    );
    let prometheus: PrometheusServer | undefined;
    if (opts.prometheus) {
      say('Prometheus scraping every component');
      prometheus = await scrapeEverything(tb, operator.url);
      stoppers.push(() => prometheus!.stop());
    }
    await registerWardClient(tb);
    await tb.kubectl(['apply', ...CATALOG.flatMap((f) => ['-f', join(MANIFESTS, f)])]);
    const list = async <T>(plural: string): Promise<T[]> =>
      JSON.parse(await tb.kubectl(['get', plural, '-o', 'json'])).items;
    const sae = tb.clientSae;
    return {
      runDir: opts.runDir,
      namespace,
      kubeconfig: tb.cp.kubeconfigPath,
      tb,
      lcmpUrl: lcmp.url,
      tokenUrl: `${lcmp.url}/oauth2/token`,
      client: WARD_CLIENT,
      clientSae: { id: sae.id, kmeUrl: sae.url, ca: sae.ca, cert: sae.cert, key: sae.key },
      operatorHealthUrl: operator.url,
      ...(prometheus ? { prometheusUrl: prometheus.url } : {}),
      kubectl: tb.kubectl,
      hosts: () => list<MecHost>('mechosts'),
      links: () => list<QkdLink>('qkdlinks'),
      contexts: () => list<AppContext>('appcontexts'),
      stop,
    };
  } catch (err) {
    await stop();
    throw new Error(`starting the demo system failed (logs in ${logs}): ${(err as Error).message}`);
  }
}

/** `.run/demo/<time>` in the clone, with `.run/demo/latest` pointing at it (the CLI's default). */
export function newRunDir(): string {
  const base = join(ROOT, '.run', 'demo');
  const dir = join(base, new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(dir, { recursive: true });
  rmSync(join(base, 'latest'), { force: true });
  symlinkSync(dir, join(base, 'latest'));
  return dir;
}

/** Writes the connection details a second program (the console, a copied client app) reads. */
export function writeConnectionFile(sys: DemoSystem): string {
  const file = join(sys.runDir, 'connection.json');
  const { lcmpUrl, tokenUrl, client, clientSae, namespace, kubeconfig, prometheusUrl } = sys;
  writeFileSync(
    file,
    JSON.stringify({ lcmpUrl, tokenUrl, client, clientSae, namespace, kubeconfig, prometheusUrl }, null, 2),
    { mode: 0o600 },
  );
  return file;
}

export const readConnectionFile = (file: string) =>
  JSON.parse(readFileSync(file, 'utf8')) as Pick<
    DemoSystem,
    'lcmpUrl' | 'tokenUrl' | 'client' | 'clientSae' | 'namespace' | 'kubeconfig' | 'prometheusUrl'
  >;
