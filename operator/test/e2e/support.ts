// Running the operator against a local MEC testbed, and waiting for the world to look a certain way.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { createLogger } from '@mecqkd/common/logger';
import { freePort } from '@mecqkd/common/ports';
import { startProcess } from '@mecqkd/common/process';
import type { AppContext, MecHost } from '@mecqkd/crds';
import { createQkd014Client, type Qkd014Client } from '@mecqkd/kme-sim/client';
import type { MecTestbed } from '@mecqkd/localenv/mec-testbed';
import { createKeySupply } from '@mecqkd/sdk/key-supply';
import { createSecureInvoker } from '@mecqkd/sdk/secure-invoke';
import openwhisk from 'openwhisk';
import { type OperatorConfig, parseOperatorConfig } from '../../src/config.ts';
import { type RunningOperator, startOperator } from '../../src/operator.ts';
import { buildParts } from '../../src/parts.ts';

/** Fast periods for tests; everything else as an operator would run. */
export function testFlags(tb: MecTestbed, over: Record<string, string | number | boolean> = {}): string[] {
  const flags: Record<string, string | number | boolean> = {
    kubeconfig: tb.cp.kubeconfigPath,
    namespace: tb.namespace,
    redisUrl: tb.redis.url,
    leaseNamespace: tb.namespace,
    healthPort: 0,
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
    wrapperSecretFile: tb.secure.wrapperSecretFile,
    hostSaeCaFile: tb.secure.hostSaeCaFile,
    ...over,
  };
  return Object.entries(flags).flatMap(([k, v]) => [
    `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    String(v),
  ]);
}

export async function runOperator(
  tb: MecTestbed,
  over: Record<string, string | number | boolean> = {},
): Promise<RunningOperator> {
  const cfg: OperatorConfig = parseOperatorConfig(testFlags(tb, over), {});
  const log = createLogger('operator', process.env.LOG_LEVEL ?? 'warn');
  return startOperator(cfg, await buildParts(cfg, log));
}

/** The operator binary as a child process (for SIGKILL and multi-replica tests). */
export async function runOperatorProcess(
  tb: MecTestbed,
  name: string,
  over: Record<string, string | number | boolean> = {},
) {
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'operator.mjs');
  return startProcess({
    name,
    command: process.execPath,
    args: [bin, ...testFlags(tb, { identity: name, healthPort: await freePort(), ...over })],
    env: { ...process.env, LOG_LEVEL: 'info' },
    logFile: join(tb.dir, 'logs', `${name}.log`),
  });
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

export async function getJson<T>(tb: MecTestbed, kind: string, name?: string): Promise<T> {
  return JSON.parse(await tb.kubectl(['get', kind, ...(name ? [name] : []), '-o', 'json'])) as T;
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
  return { ...inv, close: () => keys.close() };
}
