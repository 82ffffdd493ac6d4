// Running the operator against a local MEC testbed, and waiting for the world to look a certain way.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseExposition } from '@mecqkd/common/exposition';
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { createLogger } from '@mecqkd/common/logger';
import { freePort } from '@mecqkd/common/ports';
import { type ManagedProcess, startProcess } from '@mecqkd/common/process';
import type { AppContext, MecHost, QkdLink } from '@mecqkd/crds';
import { createQkd014Client, type Qkd014Client } from '@mecqkd/kme-sim/client';
import type { MecTestbed } from '@mecqkd/localenv/mec-testbed';
import { createKeySupply } from '@mecqkd/sdk/key-supply';
import { createSecureInvoker } from '@mecqkd/sdk/secure-invoke';
import openwhisk from 'openwhisk';
import { type OperatorConfig, parseOperatorConfig } from '../../src/config.ts';
import { type RunningOperator, startOperator } from '../../src/operator.ts';
import { buildParts } from '../../src/parts.ts';

/** A flag given as undefined is left out (e.g. `namespace: undefined` watches all namespaces). */
export type FlagValues = Record<string, string | number | boolean | undefined>;

/** Fast periods for tests; everything else as an operator would run. */
export function testFlags(tb: MecTestbed, over: FlagValues = {}): string[] {
  const flags: FlagValues = {
    kubeconfig: tb.cp.kubeconfigPath,
    namespace: tb.namespace,
    redisUrl: tb.redis.url,
    leaseNamespace: tb.namespace,
    healthPort: 0,
    healthAddress: '127.0.0.1',
    probePeriod: 1,
    telemetryPeriod: 0.5,
    maxTelemetryAge: 10,
    optimisePeriod: 1,
    migrationCooldown: 0,
    pendingRetry: 2,
    leaseDuration: 4,
    renewDeadline: 3,
    retryPeriod: 0.5,
    workers: 4,
    // the testbed's whisk-sims serve plain HTTP
    allowInsecureHosts: true,
    wrapperSecretFile: tb.secure.wrapperSecretFile,
    hostSaeCaFile: tb.secure.hostSaeCaFile,
    ...over,
  };
  return Object.entries(flags).flatMap(([k, v]) =>
    v === undefined ? [] : [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v)],
  );
}

export async function runOperator(tb: MecTestbed, over: FlagValues = {}): Promise<RunningOperator> {
  const cfg: OperatorConfig = parseOperatorConfig(testFlags(tb, over), {});
  const log = createLogger('operator', process.env.LOG_LEVEL ?? 'warn');
  return startOperator(cfg, await buildParts(cfg, log));
}

export interface OperatorProcess extends ManagedProcess {
  /** http://127.0.0.1:<port> of its /healthz, /readyz and /metrics. */
  healthUrl: string;
}

/** The operator binary as a child process (for SIGKILL and multi-replica tests). */
export async function runOperatorProcess(
  tb: MecTestbed,
  name: string,
  over: FlagValues = {},
): Promise<OperatorProcess> {
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'operator.mjs');
  const port = await freePort();
  const proc = startProcess({
    name,
    command: process.execPath,
    args: [bin, ...testFlags(tb, { identity: name, healthPort: port, ...over })],
    env: { ...process.env, LOG_LEVEL: 'info' },
    logFile: join(tb.dir, 'logs', `${name}.log`),
  });
  return Object.assign(proc, { healthUrl: `http://127.0.0.1:${port}` });
}

/** Sum of every sample of one metric on a process's /metrics (0 when it has none). */
export async function metricSum(proc: OperatorProcess, metric: string, match = ''): Promise<number> {
  const text = await (await fetch(`${proc.healthUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    if (match && !line.includes(match)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface Supervisor {
  /** Exit codes of the processes that ended by themselves, in order. */
  exits: (number | null)[];
  /** The process running now (or starting). */
  current(): ManagedProcess | undefined;
  stop(): Promise<void>;
}

/** Restarts a process whenever it exits, as the kubelet restarts a container (without back-off). */
export function supervise(start: () => Promise<ManagedProcess>): Supervisor {
  const exits: (number | null)[] = [];
  let proc: ManagedProcess | undefined;
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      proc = await start();
      const code = await proc.exited;
      if (!stopping) exits.push(code);
    }
  })();
  return {
    exits,
    current: () => proc,
    async stop() {
      stopping = true;
      await proc?.stop();
      await loop;
      await proc?.stop(); // one started while stop() waited
    },
  };
}

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** Reconciles the operator's controller `name` has finished so far (from its /metrics). */
export async function reconciles(op: RunningOperator, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${op.health.port}/metrics`)).text();
  return parseExposition(text)
    .filter((s) => s.name === 'controller_runtime_reconcile_total' && s.labels.controller === name)
    .reduce((sum, s) => sum + s.value, 0);
}

export async function getJson<T>(tb: MecTestbed, kind: string, name?: string): Promise<T> {
  return JSON.parse(await tb.kubectl(['get', kind, ...(name ? [name] : []), '-o', 'json'])) as T;
}

/**
 * Every MecHost Ready with a load measured and every QkdLink ACTIVE and Ready: contexts created
 * before then wait Pending and are placed on whichever host happens to be Ready first.
 */
export function allReady(tb: MecTestbed): Promise<true> {
  const ready = (o: { status?: { conditions?: { type: string; status: string }[] } }) =>
    o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  return eventually('every MecHost and QkdLink Ready', async () => {
    const [hosts, links] = await Promise.all([
      getJson<{ items: MecHost[] }>(tb, 'mechosts'),
      getJson<{ items: QkdLink[] }>(tb, 'qkdlinks'),
    ]);
    return (
      hosts.items.length === tb.hosts.length &&
      hosts.items.every((h) => ready(h) && h.status?.load !== undefined) &&
      links.items.length > 0 &&
      links.items.every((l) => ready(l) && l.status?.state === 'ACTIVE')
    );
  });
}

export const contexts = async (tb: MecTestbed) =>
  (await getJson<{ items: AppContext[] }>(tb, 'appcontexts')).items;
export const host = (tb: MecTestbed, name: string) => getJson<MecHost>(tb, 'mechost', name);

let seq = 0;
export function contextId(): string {
  return `${Date.now().toString(16)}${(seq++).toString(16)}`.padEnd(32, '0').slice(0, 32);
}

export async function createContext(tb: MecTestbed, app: string, id = contextId()): Promise<string> {
  await tb.kubectl(
    ['create', '-f', '-'],
    toKubeYaml({
      apiVersion: 'mecqkd.io/v1alpha1',
      kind: 'AppContext',
      metadata: { name: id },
      spec: {
        appName: app,
        associateDevAppId: 'ward-7',
        client: { kmeId: tb.clientKmeId, saeId: tb.clientSae.id },
      },
    }),
  );
  return id;
}

export async function createApp(
  tb: MecTestbed,
  name: string,
  code: string,
  placement: Record<string, unknown> = {},
  action: Record<string, unknown> = {},
) {
  await tb.kubectl(
    ['apply', '-f', '-'],
    toKubeYaml({
      apiVersion: 'mecqkd.io/v1alpha1',
      kind: 'MecApp',
      metadata: { name },
      spec: {
        appInfo: {
          appDId: name,
          appName: name,
          appProvider: 'hospital-it',
          appSoftVersion: '1',
          appDVersion: '1',
          appDescription: `${name} model`,
        },
        action: { code, ...action },
        placement,
      },
    }),
  );
}

export function whisk(tb: MecTestbed, hostName: string) {
  const w = tb.whisks[hostName]!;
  return openwhisk({ apihost: w.apiHost, api_key: w.auth, namespace: w.namespace });
}

/** Names of the mecqkd-managed actions on a host's OpenWhisk. */
export async function managedActions(tb: MecTestbed, hostName: string): Promise<string[]> {
  const list = await whisk(tb, hostName).actions.list({ limit: 200 });
  return list
    .filter((a) =>
      a.annotations?.some(
        (x: { key: string; value: unknown }) => x.key === 'mecqkd.io/managed' && x.value === true,
      ),
    )
    .map((a) => a.name as string)
    .sort();
}

export const placedOn = (ctxs: AppContext[], hostName: string) =>
  ctxs.filter((c) => c.status?.phase === 'Placed' && c.status.host === hostName);

/** A QKD 014 client of the client perimeter's SAE (mutual TLS to the client KME). */
export function clientKme(tb: MecTestbed): Qkd014Client {
  const sae = tb.clientSae;
  return createQkd014Client({
    url: sae.url,
    ca: readFileSync(sae.ca),
    cert: readFileSync(sae.cert),
    key: readFileSync(sae.key),
  });
}

/** The sdk's secure invocation of a Placed context, with keys from `kme`. */
export function secureInvoker(tb: MecTestbed, kme: Qkd014Client, ctx: AppContext, invocationsPerKey = 1) {
  const keys = createKeySupply({ kme, hostSaeId: ctx.status!.hostSaeId!, invocationsPerKey, spares: 1 });
  const inv = createSecureInvoker(
    {
      referenceURI: ctx.status!.referenceURI!,
      contextId: ctx.metadata.name,
      clientSaeId: tb.clientSae.id,
      invocationsPerKey,
    },
    keys,
  );
  return { ...inv, invocationsPerKey, close: () => keys.close() };
}
