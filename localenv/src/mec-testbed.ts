// The whole local MEC system of the architecture doc, minus the operator: a control plane with the
// CRDs, Redis, one whisk-sim per MEC host, KMEs for the client and every host with QKD links
// (optionally a host reached only through a trusted relay), and — in one namespace — the Secrets,
// MecHosts and QkdLinks that describe them. Tests, the benchmark and `make demo` start it.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { createCa } from '@mecqkd/common/pki';
import { type RunningHostSaeProcess, startHostSaeProcess } from '@mecqkd/host-sae/testbed';
import { hostWrapperSecret } from '@mecqkd/host-sae/wrapper-secret';
import type { AppQos } from '@mecqkd/kme-sim/quota';
import { startTestbed, type Testbed, type TestbedSae } from '@mecqkd/kme-sim/testbed';
import { type RunningWhiskSim, startWhiskSim } from '@mecqkd/whisk-sim/testbed';
import type { ControlPlane } from './control-plane.ts';
import type { RedisServer } from './redis.ts';
import { sharedControlPlane, sharedRedis } from './shared.ts';

export interface HostSpec {
  name: string;
  /** OpenWhisk invoker user memory (whisk-sim capacity), MB. */
  capacityMb?: number;
  labels?: Record<string, string>;
  /** Reached from the client KME through a trusted relay KME instead of a direct link. */
  relayed?: boolean;
  /** Fibre length of the host's QKD link (each hop when relayed), km. */
  fibreKm?: number;
  /** KME of the host's perimeter; hosts may share one (default: a KME of its own). */
  kmeId?: string;
  /** whisk-sim process serving the host (each host gets its own OpenWhisk namespace in it); default: its own. */
  whisk?: string;
}

export interface MecTestbedOptions {
  namespace: string;
  hosts?: HostSpec[];
  /** Where configs and logs go; a temporary directory (removed on stop) by default. */
  dir?: string;
  /** MecHosts name OpenWhisk's `_` alias (the CRD default) instead of their namespace. */
  namespaceAlias?: boolean;
  /**
   * A control plane of the caller's instead of the run's shared one, for tests that pause or break
   * the apiserver (the caller stops it).
   */
  controlPlane?: ControlPlane;
  /**
   * The client SAE's key quota at the client KME, from the declared demand of the contexts it will
   * serve (`saeKeyQuota` of @mecqkd/sdk/key-allowance); none: it takes key as fast as the links give.
   */
  clientAppQos?: AppQos;
}

export interface MecTestbed {
  namespace: string;
  dir: string;
  cp: ControlPlane;
  redis: RedisServer;
  kmes: Testbed;
  whisks: Record<string, RunningWhiskSim>;
  hosts: HostSpec[];
  /** The client perimeter's SAE (certificates for QKD 014 calls). */
  clientSae: TestbedSae;
  clientKmeId: string;
  /** Secure invocation: every host's SAE, and what the operator needs to wrap actions for them. */
  secure: {
    /** The operator's master (--wrapper-secret-file); each host SAE holds only its derived secret. */
    wrapperSecretFile: string;
    hostSaeCaFile: string;
    hostSaes: Record<string, RunningHostSaeProcess>;
  };
  /** kubectl in the testbed namespace; throws with stderr on failure. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** Steers a QKD link through kme-sim's admin endpoint (rate, stock, outage). */
  adjustLink(
    host: string,
    change: { skrBitsPerSecond?: number; storedBits?: number; enabled?: boolean },
  ): Promise<void>;
  stop(): Promise<void>;
}

export const CLIENT_KME = 'KME_CLIENT';
export const CLIENT_SAE = 'SAE_CLIENT';
export const RELAY_KME = 'KME_RELAY';
const defaultKme = (host: string) => `KME_${host.toUpperCase().replace(/-/g, '_')}`;
export const kmeOf = (h: HostSpec) => h.kmeId ?? defaultKme(h.name);
const whiskOf = (h: HostSpec) => h.whisk ?? h.name;
export const saeOf = (host: string) => `SAE_${host.toUpperCase().replace(/-/g, '_')}`;
const linkId = (a: string, b: string) => `${a}--${b}`;

function manifests(
  ns: string,
  tb: Testbed,
  whisks: Record<string, RunningWhiskSim>,
  hosts: HostSpec[],
  namespaceAlias: boolean,
): unknown[] {
  // the testbed's certificates are PEM files
  const pem = (path: string) => readFileSync(path, 'utf8');
  // the operator uses only Secrets labelled for the use (operator/src/controllers/trust.ts)
  const credentials = (use: 'openwhisk' | 'kme') => ({ 'mecqkd.io/credentials': use });
  const tlsSecret = (name: string, sae: TestbedSae) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: ns, labels: credentials('kme') },
    type: 'kubernetes.io/tls',
    stringData: { 'tls.crt': pem(sae.cert), 'tls.key': pem(sae.key), 'ca.crt': pem(sae.ca) },
  });
  const out: unknown[] = [tlsSecret('client-sae', tb.saes[CLIENT_SAE]!)];
  const link = (name: string, a: string, b: string, fibreKm: number) => ({
    apiVersion: 'mecqkd.io/v1alpha1',
    kind: 'QkdLink',
    metadata: { name, namespace: ns },
    spec: {
      source: { kmeId: a, url: tb.kmes[a]!.url },
      target: { kmeId: b, url: tb.kmes[b]!.url },
      fibreLengthKm: fibreKm,
      credentialsSecret: { name: 'client-sae' },
    },
  });
  if (hosts.some((h) => h.relayed)) out.push(link('client-relay', CLIENT_KME, RELAY_KME, 10));
  const linked = new Set<string>();
  for (const h of hosts) {
    const w = whisks[h.name]!;
    const kme = kmeOf(h);
    out.push(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `${h.name}-openwhisk`, namespace: ns, labels: credentials('openwhisk') },
        type: 'Opaque',
        stringData: { auth: w.auth },
      },
      tlsSecret(`${h.name}-sae`, tb.saes[saeOf(h.name)]!),
      {
        apiVersion: 'mecqkd.io/v1alpha1',
        kind: 'MecHost',
        metadata: { name: h.name, namespace: ns, labels: h.labels ?? {} },
        spec: {
          openwhisk: {
            apiHost: w.apiHost,
            namespace: namespaceAlias ? '_' : w.namespace,
            credentialsSecret: { name: `${h.name}-openwhisk` },
            insecure: w.insecure,
          },
          kme: {
            url: tb.kmes[kme]!.url,
            kmeId: kme,
            saeId: saeOf(h.name),
            credentialsSecret: { name: `${h.name}-sae` },
          },
          capacity: { memoryMb: w.capacityMb },
          location: { countryCode: 'IT' },
          metricsUrl: w.metricsUrl,
        },
      },
    );
    if (linked.has(kme)) continue;
    linked.add(kme);
    const tag = kme.toLowerCase().replace(/_/g, '-');
    out.push(
      h.relayed
        ? link(`relay-${tag}`, RELAY_KME, kme, h.fibreKm ?? 10)
        : link(`client-${tag}`, CLIENT_KME, kme, h.fibreKm ?? 10),
    );
  }
  return out;
}

/** What Kubernetes tells pods about a Service `mecqkd-host-sae` in their namespace. */
const serviceLinks = (s: RunningHostSaeProcess) => ({
  MECQKD_HOST_SAE_SERVICE_HOST: s.host,
  MECQKD_HOST_SAE_SERVICE_PORT: String(s.port),
});

/**
 * One host SAE per host with the host SAE's QKD 014 identity and its own wrapper secret, derived from
 * the operator's master as the operator derives it for that host's actions; one CA for all.
 */
async function startHostSaes(
  dir: string,
  namespace: string,
  hosts: HostSpec[],
  kmes: Testbed,
  redisUrl: string,
) {
  const root = join(dir, 'host-sae');
  mkdirSync(root, { recursive: true });
  const ca = await createCa('mecqkd host SAE development CA');
  const hostSaeCaFile = join(root, 'ca.pem');
  const wrapperSecretFile = join(root, 'wrapper-secret');
  const master = randomBytes(32).toString('base64url');
  writeFileSync(hostSaeCaFile, ca.cert);
  writeFileSync(wrapperSecretFile, master, { mode: 0o600 });
  const hostSaes: Record<string, RunningHostSaeProcess> = {};
  await Promise.all(
    hosts.map(async (h) => {
      const sae = kmes.saes[saeOf(h.name)]!;
      hostSaes[h.name] = await startHostSaeProcess({
        dir: root,
        saeId: sae.id,
        ca,
        kme: { url: sae.url, ca: sae.ca, cert: sae.cert, key: sae.key },
        wrapperSecret: hostWrapperSecret(master, { namespace, saeId: sae.id }),
        redisUrl,
      });
    }),
  );
  return { wrapperSecretFile, hostSaeCaFile, hostSaes };
}

export async function startMecTestbed(opts: MecTestbedOptions): Promise<MecTestbed> {
  const hosts = opts.hosts ?? [{ name: 'host-1' }, { name: 'host-2' }];
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'mecqkd-mec-'));
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s();
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [cp, redis] = await Promise.all([opts.controlPlane ?? sharedControlPlane(), sharedRedis()]);
    const relayed = hosts.some((h) => h.relayed);
    const kmes = await startTestbed(
      {
        kmes: [
          // every KME of the testbed in one process: fewer processes on a 2-core machine
          {
            id: CLIENT_KME,
            saes: [opts.clientAppQos ? { id: CLIENT_SAE, appQos: opts.clientAppQos } : CLIENT_SAE],
            process: 'kmes',
          },
          ...(relayed ? [{ id: RELAY_KME, saes: [], process: 'kmes' }] : []),
          ...[...new Set(hosts.map(kmeOf))].map((id) => ({
            id,
            saes: hosts.filter((h) => kmeOf(h) === id).map((h) => saeOf(h.name)),
            process: 'kmes',
          })),
        ],
        links: [
          ...(relayed ? [{ kmes: [CLIENT_KME, RELAY_KME] as [string, string], fibreKm: 10 }] : []),
          ...[...new Map(hosts.map((h) => [kmeOf(h), h])).values()].map((h) => ({
            kmes: [h.relayed ? RELAY_KME : CLIENT_KME, kmeOf(h)] as [string, string],
            fibreKm: h.fibreKm ?? 10,
          })),
        ],
      },
      join(dir, 'kmes'),
    );
    stoppers.push(() => kmes.stop());
    const secure = await startHostSaes(dir, opts.namespace, hosts, kmes, redis.url);
    for (const s of Object.values(secure.hostSaes)) stoppers.push(() => s.stop());
    // one whisk-sim per `whisk` group; every host of a group gets an OpenWhisk namespace of its own
    const whisks: Record<string, RunningWhiskSim> = {};
    const groups = new Map<string, HostSpec[]>();
    for (const h of hosts) groups.set(whiskOf(h), [...(groups.get(whiskOf(h)) ?? []), h]);
    await Promise.all(
      [...groups].map(async ([name, members]) => {
        const w = await startWhiskSim({
          dir: join(dir, 'whisk'),
          name,
          capacityMb: members[0]!.capacityMb ?? 1024,
          containerEnv: serviceLinks(secure.hostSaes[members[0]!.name]!),
          extraNamespaces: members
            .slice(1)
            .map((m) => ({ name: `ns-${m.name}`, containerEnv: serviceLinks(secure.hostSaes[m.name]!) })),
        });
        stoppers.push(() => w.stop());
        members.forEach((m, i) => {
          whisks[m.name] = i === 0 ? w : { ...w, ...w.extra[i - 1]! };
        });
      }),
    );
    const kubectl = async (args: string[], input?: string) => {
      const r = await cp.kubectl(['-n', opts.namespace, ...args], input === undefined ? {} : { input });
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
      return r.stdout;
    };
    await cp.kubectl(['create', 'namespace', opts.namespace]);
    const docs = manifests(opts.namespace, kmes, whisks, hosts, opts.namespaceAlias ?? false);
    await kubectl(['apply', '-f', '-'], docs.map((d) => toKubeYaml(d)).join('---\n'));
    const adjustLink: MecTestbed['adjustLink'] = async (host, change) => {
      const h = hosts.find((x) => x.name === host);
      if (!h) throw new Error(`no host ${host} in the testbed`);
      const from = h.relayed ? RELAY_KME : CLIENT_KME;
      await kmes.adjustLink(from, linkId(from, kmeOf(h)), change).catch((err: Error) => {
        throw new Error(`adjusting the QKD link of ${host}: ${err.message}`);
      });
    };
    return {
      namespace: opts.namespace,
      dir,
      cp,
      redis,
      kmes,
      whisks,
      hosts,
      clientSae: kmes.saes[CLIENT_SAE]!,
      clientKmeId: CLIENT_KME,
      secure,
      kubectl,
      adjustLink,
      stop,
    };
  } catch (err) {
    // keep the directory: the error names a log in it
    for (const st of stoppers.reverse()) await st();
    throw new Error(`starting the MEC testbed failed (logs in ${dir}): ${(err as Error).message}`);
  }
}
