// A kme-sim topology for tests, benchmarks and `make demo`: certificates, free ports, a config file, and the
// KMEs running as tracked child processes (common/process.ts stops them when the run ends).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@mecqkd/common/ports';
import { type ManagedProcess, startProcess, waitUntil } from '@mecqkd/common/process';
import { stringify } from 'yaml';
import { createAdminClient } from './admin-client.ts';
import { writeCerts } from './certs.ts';
import { type Config, type KmeConfig, type LinkConfig, parseConfig } from './config.ts';
import type { LinkAdjustment } from './link.ts';
import type { LinkStatus } from './link-status.ts';
import type { AppQos } from './quota.ts';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
/** The admin every KME of a testbed trusts (CN of `Testbed.admin`'s certificate). */
export const TESTBED_ADMIN = 'kme-admin';

type KmeOptions = Partial<Omit<KmeConfig, 'id' | 'saes' | 'tls' | 'port' | 'opsPort' | 'host'>>;

export interface TestbedSpec {
  kmes: (KmeOptions & {
    id: string;
    /** SAE IDs, or SAEs with a key quota (QKD 015 app_qos) as masters. */
    saes: (string | { id: string; appQos?: AppQos })[];
    /** KMEs with the same process name share a process; by default each KME has its own. */
    process?: string;
  })[];
  /** Links; `id` defaults to "<a>--<b>", `seed` to fresh random bytes. */
  links: (Partial<Omit<LinkConfig, 'kmes'>> & { kmes: [string, string] })[];
}

export interface TestbedKme {
  id: string;
  url: string;
  opsUrl: string;
}

export interface TestbedSae {
  id: string;
  kmeId: string;
  /** URL of the SAE's KME. */
  url: string;
  ca: string;
  cert: string;
  key: string;
}

export interface Testbed {
  dir: string;
  configPath: string;
  config: Config;
  ca: string;
  /** Certificate and key files of TESTBED_ADMIN, for `createAdminClient`. */
  admin: { ca: string; cert: string; key: string };
  kmes: Record<string, TestbedKme>;
  saes: Record<string, TestbedSae>;
  processes: ManagedProcess[];
  /** The admin endpoint of `kmeId` as TESTBED_ADMIN: sets `linkId`'s rate, stock or generation. */
  adjustLink(kmeId: string, linkId: string, change: LinkAdjustment): Promise<LinkStatus>;
  stop(): Promise<void>;
}

const saeConfig = (s: string | { id: string; appQos?: AppQos }) => (typeof s === 'string' ? { id: s } : s);

/** Writes certificates and `kme-sim.yaml` into `dir`, with free ports on 127.0.0.1. */
export async function writeTestbedConfig(spec: TestbedSpec, dir: string) {
  const root = resolve(dir);
  const certs = await writeCerts(join(root, 'certs'), {
    kmes: spec.kmes.map((k) => ({ id: k.id })),
    saes: spec.kmes.flatMap((k) => k.saes.map(saeConfig).map((s) => s.id)),
    admins: [TESTBED_ADMIN],
  });
  const kmes = [];
  for (const { process: _group, saes, ...k } of spec.kmes) {
    const files = certs.kmes[k.id] as { cert: string; key: string };
    kmes.push({
      ...k,
      host: '127.0.0.1',
      port: await freePort(),
      opsPort: await freePort(),
      tls: { ...files, ca: certs.ca },
      saes: saes.map(saeConfig),
      admins: k.admins ?? [TESTBED_ADMIN],
    });
  }
  const links = spec.links.map((l) => ({
    ...l,
    id: l.id ?? `${l.kmes[0]}--${l.kmes[1]}`,
    seed: l.seed ?? randomBytes(32).toString('hex'),
    ...(l.skrBitsPerSecond === undefined && l.fibreKm === undefined ? { skrBitsPerSecond: 1_000_000 } : {}),
  }));
  const raw = { kmes, links };
  const configPath = join(root, 'kme-sim.yaml');
  writeFileSync(configPath, stringify(raw), { mode: 0o600 });
  return { configPath, config: parseConfig(raw, root, configPath), certs };
}

async function healthy(opsUrl: string): Promise<boolean> {
  const res = await fetch(`${opsUrl}/healthz`);
  return res.ok;
}

/** Runs `kmeIds` of the config at `configPath` in one child process and waits until they answer. */
export async function startKmeProcess(
  configPath: string,
  config: Config,
  kmeIds: string[],
  opts: { name: string; logFile: string; logLevel?: string },
): Promise<ManagedProcess> {
  const proc = startProcess({
    name: opts.name,
    command: process.execPath,
    args: ['--import', 'tsx', CLI, 'serve', '--config', configPath, ...kmeIds.flatMap((id) => ['--kme', id])],
    env: { ...process.env, LOG_LEVEL: opts.logLevel ?? process.env.LOG_LEVEL ?? 'warn' },
    logFile: opts.logFile,
  });
  for (const id of kmeIds) {
    const k = config.kmes.find((c) => c.id === id);
    if (k?.opsPort === undefined) throw new Error(`KME ${id} needs an opsPort to be probed`);
    const opsUrl = `http://127.0.0.1:${k.opsPort}`;
    await waitUntil(`KME ${id} at ${opsUrl}`, () => healthy(opsUrl), { timeoutMs: 30_000, process: proc });
  }
  return proc;
}

/** Certificates, config and one process per KME group; resolves once every QKD link is active. */
export async function startTestbed(
  spec: TestbedSpec,
  dir: string,
  opts: { logLevel?: string } = {},
): Promise<Testbed> {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const { configPath, config, certs } = await writeTestbedConfig(spec, root);
  const groups = new Map<string, string[]>();
  for (const k of spec.kmes) {
    const group = k.process ?? k.id;
    groups.set(group, [...(groups.get(group) ?? []), k.id]);
  }
  const processes = await Promise.all(
    [...groups].map(([group, ids]) =>
      startKmeProcess(configPath, config, ids, {
        ...opts,
        name: `kme-sim ${group}`,
        logFile: join(root, 'logs', `${group}.log`),
      }),
    ),
  );
  const stop = async () => {
    await Promise.all(processes.map((p) => p.stop()));
  };
  const kmes: Record<string, TestbedKme> = {};
  const saes: Record<string, TestbedSae> = {};
  for (const k of config.kmes) {
    const url = `https://127.0.0.1:${k.port}`;
    kmes[k.id] = { id: k.id, url, opsUrl: `http://127.0.0.1:${k.opsPort}` };
    for (const s of k.saes)
      saes[s.id] = {
        id: s.id,
        kmeId: k.id,
        url,
        ca: certs.ca,
        ...(certs.saes[s.id] as object),
      } as TestbedSae;
  }
  try {
    for (const k of Object.values(kmes)) {
      await waitUntil(
        `QKD links of KME ${k.id} to leave PENDING`,
        async () => {
          const body = (await (await fetch(`${k.opsUrl}/healthz`)).json()) as { links: { status: string }[] };
          return body.links.every((l) => l.status !== 'PENDING');
        },
        { timeoutMs: 30_000 },
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const admin = { ca: certs.ca, ...(certs.admins[TESTBED_ADMIN] as { cert: string; key: string }) };
  const adjustLink: Testbed['adjustLink'] = async (kmeId, linkId, change) => {
    const kme = kmes[kmeId];
    if (!kme) throw new Error(`no KME ${kmeId} in the testbed`);
    // A client per call: KMEs are killed and restarted under chaos, and a kept socket would be stale.
    const client = createAdminClient({
      url: kme.url,
      ca: readFileSync(admin.ca),
      cert: readFileSync(admin.cert),
      key: readFileSync(admin.key),
    });
    try {
      return await client.adjustLink(linkId, change);
    } finally {
      client.close();
    }
  };
  return { dir: root, configPath, config, ca: certs.ca, admin, kmes, saes, processes, adjustLink, stop };
}
