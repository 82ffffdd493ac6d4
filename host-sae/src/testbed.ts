// Starts a host SAE as a tracked child process for tests, the benchmark and `make demo`: a server
// certificate from the given CA, a config file, free ports; waits until /healthz answers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CertificateAuthority, issueCertificate } from '@mecqkd/common/pki';
import { freePort } from '@mecqkd/common/ports';
import { type ManagedProcess, startProcess, waitUntil } from '@mecqkd/common/process';
import { stringify } from 'yaml';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** How long a host SAE of a testbed holds a QKD key unless told otherwise. */
export const TESTBED_KEY_LIFETIME_SECONDS = 300;

export interface HostSaeOptions {
  dir: string;
  saeId: string;
  /** Signs the SAE's server certificate; the wrapper pins this CA. */
  ca: CertificateAuthority;
  kme: { url: string; ca: string; cert: string; key: string };
  /** This host's wrapper secret (wrapper-secret.ts derives it from the operator's master). */
  wrapperSecret: string;
  keyLifetimeSeconds?: number;
  /** The Redis holding the per-context key allowance. */
  redisUrl: string;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

export interface RunningHostSaeProcess {
  url: string;
  host: string;
  port: number;
  opsUrl: string;
  /** The file holding this SAE's wrapper secret. */
  wrapperSecretFile: string;
  /** The running process (a new one after `restart`). */
  readonly process: ManagedProcess;
  /** Starts the SAE again with the same config (ports, certificate, secret) after it died. */
  restart(): Promise<ManagedProcess>;
  stop(): Promise<void>;
}

export async function startHostSaeProcess(opts: HostSaeOptions): Promise<RunningHostSaeProcess> {
  const dir = join(opts.dir, opts.saeId);
  mkdirSync(dir, { recursive: true });
  const pem = await issueCertificate(opts.ca, {
    commonName: opts.saeId,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    server: true,
  });
  writeFileSync(join(dir, 'server.pem'), pem.cert);
  writeFileSync(join(dir, 'server-key.pem'), pem.key, { mode: 0o600 });
  const wrapperSecretFile = join(dir, 'wrapper-secret');
  writeFileSync(wrapperSecretFile, opts.wrapperSecret, { mode: 0o600 });
  const [port, opsPort] = [await freePort(), await freePort()];
  const configFile = join(dir, 'host-sae.yaml');
  writeFileSync(
    configFile,
    stringify({
      saeId: opts.saeId,
      host: '127.0.0.1',
      port,
      opsPort,
      tls: { cert: 'server.pem', key: 'server-key.pem' },
      kme: opts.kme,
      wrapperSecretFile: 'wrapper-secret',
      keyLifetimeSeconds: opts.keyLifetimeSeconds ?? TESTBED_KEY_LIFETIME_SECONDS,
      redis: { url: opts.redisUrl },
      logLevel: opts.logLevel ?? 'info',
    }),
    { mode: 0o600 },
  );
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  const spawn = async () => {
    const child = startProcess({
      name: `host-sae ${opts.saeId}`,
      command: process.execPath,
      args: ['--import', 'tsx', CLI, '--config', configFile],
      logFile: join(dir, 'host-sae.log'),
    });
    current = child;
    await waitUntil(
      `host SAE ${opts.saeId} at ${opsUrl}`,
      () => fetch(`${opsUrl}/healthz`).then((r) => r.ok),
      { timeoutMs: 30_000, process: child },
    );
    return child;
  };
  let current: ManagedProcess | undefined;
  await spawn();
  return {
    url: `tls://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    opsUrl,
    wrapperSecretFile,
    get process() {
      return current!;
    },
    restart: spawn,
    stop: () => current!.stop(),
  };
}
