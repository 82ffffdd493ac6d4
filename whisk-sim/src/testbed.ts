// Starts a whisk-sim as a tracked child process for tests and `make demo` (one per MEC host), with
// fresh credentials and a free port, and waits until it answers /ping.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@mecqkd/common/ports';
import { type ManagedProcess, startProcess, waitUntil } from '@mecqkd/common/process';
import { stringify } from 'yaml';
import type { ConfigInput, Throttles } from './config.ts';

const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface WhiskSimOptions {
  /** Holds the config file and the log (`<name>.yaml`, `<name>.log`). */
  dir: string;
  /** Process name and file prefix, e.g. `host-1`. */
  name?: string;
  /** Invoker user memory in MB (default 1024): 4 actions of 256 MB run at once. */
  capacityMb?: number;
  namespace?: string;
  /**
   * Per-namespace throttles. Default: far above any test's rate, so tests and the demo measure the
   * system rather than OpenWhisk's 60/min default.
   */
  throttles?: Partial<Throttles>;
  /** More namespaces, each with fresh credentials and its own throttles. */
  extraNamespaces?: { name: string; throttles?: Partial<Throttles>; containerEnv?: Record<string, string> }[];
  /** Environment of the main namespace's action containers (see config `containerEnv`). */
  containerEnv?: Record<string, string>;
  tls?: boolean;
  /** Anything else of the config file (limits, idleContainerMs, …). */
  config?: Omit<ConfigInput, 'port' | 'host' | 'namespaces' | 'throttles' | 'capacityMb' | 'tls'>;
}

export interface Credentials {
  namespace: string;
  /** `uuid:key`, the openwhisk client's `api_key`. */
  auth: string;
}

export interface RunningWhiskSim extends Credentials {
  name: string;
  /** e.g. `http://127.0.0.1:41234`: the openwhisk client's `apihost`. */
  apiHost: string;
  metricsUrl: string;
  /** True when HTTPS with a self-signed certificate (client option `ignore_certs`). */
  insecure: boolean;
  capacityMb: number;
  extra: Credentials[];
  configFile: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export function newCredentials(
  name: string,
  throttles: Partial<Throttles> = {},
  containerEnv: Record<string, string> = {},
) {
  const key = Array.from(randomBytes(64), (b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
  return { name, uuid: randomUUID(), key, limits: throttles, containerEnv };
}

/** GET /ping, accepting the self-signed certificate of a `--tls` whisk-sim. */
function ping(apiHost: string): Promise<boolean> {
  if (!apiHost.startsWith('https:')) return fetch(`${apiHost}/ping`).then((r) => r.ok);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${apiHost}/ping`, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function startWhiskSim(opts: WhiskSimOptions): Promise<RunningWhiskSim> {
  const name = opts.name ?? 'whisk-sim';
  const port = await freePort();
  const main = newCredentials(opts.namespace ?? 'guest', {}, opts.containerEnv);
  const extra = (opts.extraNamespaces ?? []).map((ns) =>
    newCredentials(ns.name, ns.throttles, ns.containerEnv),
  );
  const capacityMb = opts.capacityMb ?? 1024;
  const config: ConfigInput = {
    ...opts.config,
    host: '127.0.0.1',
    port,
    capacityMb,
    namespaces: [main, ...extra],
    throttles: {
      invocationsPerMinute: 1_000_000,
      concurrentInvocations: 10_000,
      firesPerMinute: 1_000_000,
      ...opts.throttles,
    },
    ...(opts.tls ? { tls: { selfSigned: true as const } } : {}),
  };
  mkdirSync(opts.dir, { recursive: true });
  const configFile = join(opts.dir, `${name}.yaml`);
  writeFileSync(configFile, stringify(config), { mode: 0o600 });
  const child = startProcess({
    name,
    command: process.execPath,
    args: ['--import', 'tsx', cli, '--config', configFile],
    logFile: join(opts.dir, `${name}.log`),
  });
  const apiHost = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  await waitUntil(`whisk-sim ${name} at ${apiHost}`, () => ping(apiHost), {
    timeoutMs: 30_000,
    process: child,
  });
  const credentials = (c: typeof main): Credentials => ({ namespace: c.name, auth: `${c.uuid}:${c.key}` });
  return {
    name,
    apiHost,
    metricsUrl: `${apiHost}/metrics`,
    insecure: Boolean(opts.tls),
    capacityMb,
    ...credentials(main),
    extra: extra.map(credentials),
    configFile,
    process: child,
    stop: () => child.stop(),
  };
}
