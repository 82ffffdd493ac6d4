// The kme-sim configuration file (YAML or JSON): every KME of a topology, its SAEs and the QKD links
// between KMEs. All processes of one topology read the same file and each runs a subset of its KMEs, so
// both ends of a link agree on its seed and parameters. The format is documented in kme-sim/README.md.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { AppQos, appQosProblem } from './quota.ts';
import { SkrModel } from './skr.ts';

const Id = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'IDs use letters, digits and . _ : @ -');
const Port = z.int().min(1).max(65535);
const Bits = z.int().min(0);
const KeyBits = z
  .int()
  .positive()
  .refine((v) => v % 8 === 0, 'key sizes are multiples of 8 bits');

const Sae = z.strictObject({
  id: Id,
  /** Subject CN of the SAE's client certificate when it differs from the SAE ID. */
  certCommonName: z.string().min(1).optional(),
  /** The SAE's key quota as master (QKD 015 app_qos); none: it takes key as fast as the links give it. */
  appQos: AppQos.optional(),
});

/** Status key_size when the config names none; also what provisioning sizes quotas in. */
export const DEFAULT_KEY_SIZE = 256;

const Kme = z
  .strictObject({
    id: Id,
    /** Where neighbours and SAEs reach this KME (a Service name in a cluster). */
    host: z.string().default('127.0.0.1'),
    /** Address the HTTPS server binds; `host` when absent (in a pod: 0.0.0.0). */
    listenHost: z.string().optional(),
    /** HTTPS port: QKD 014 for SAEs, the KME↔KME channel for neighbours. */
    port: Port,
    /** Optional plain-HTTP port on 127.0.0.1 for /metrics, /mecqkd/v1/links and /healthz (read-only). */
    opsPort: Port.optional(),
    /** Address of opsPort; open it to scrapers and probes, ideally behind a NetworkPolicy. */
    opsHost: z.string().default('127.0.0.1'),
    tls: z.strictObject({ cert: z.string(), key: z.string(), ca: z.string() }),
    saes: z.array(Sae).default([]),
    /** Subject CNs of client certificates (from the CA) that may use the admin endpoint; none: no admin. */
    admins: z.array(z.string().min(1)).default([]),
    keySize: KeyBits.default(DEFAULT_KEY_SIZE),
    minKeySize: KeyBits.default(64),
    maxKeySize: KeyBits.default(1024),
    maxKeyPerRequest: z.int().positive().default(128),
    maxSaeIdCount: z.int().min(0).default(4),
    /** Keys reserved for slaves and never fetched are dropped after this long. */
    keyTtlSeconds: z.number().positive().default(300),
    /** Intra-KME keys come from the KME's own random source; Status reports this as their store. */
    localCapacityBits: Bits.default(1_000_000),
  })
  .refine((k) => k.minKeySize <= k.keySize && k.keySize <= k.maxKeySize, {
    message: 'need minKeySize <= keySize <= maxKeySize',
  })
  .superRefine((k, ctx) =>
    k.saes.forEach((s, i) => {
      const problem = s.appQos && appQosProblem(s.appQos, k.keySize);
      if (problem)
        ctx.addIssue({ code: 'custom', message: problem, path: ['saes', i, 'appQos', 'burstBits'] });
    }),
  );

const Outage = z.strictObject({
  /** Seconds after the link became active. */
  startSeconds: z.number().min(0),
  durationSeconds: z.number().positive(),
});

const Link = z
  .strictObject({
    id: Id,
    kmes: z.tuple([Id, Id]),
    /** 32-byte shared secret (hex) from which both ends derive identical key streams. */
    seed: z.string().regex(/^[0-9a-fA-F]{64}$/, 'seed must be 64 hex digits (32 bytes)'),
    skrBitsPerSecond: z.number().min(0).optional(),
    fibreKm: z.number().min(0).optional(),
    model: SkrModel.optional(),
    capacityBits: z.int().positive().default(1_000_000),
    initialBits: Bits.optional(),
    outages: z.array(Outage).default([]),
  })
  .refine((l) => (l.skrBitsPerSecond === undefined) !== (l.fibreKm === undefined), {
    message: 'give exactly one of skrBitsPerSecond and fibreKm',
  })
  .refine((l) => l.kmes[0] !== l.kmes[1], { message: 'a link joins two different KMEs' })
  .refine((l) => l.initialBits === undefined || l.initialBits <= l.capacityBits, {
    message: 'initialBits must not exceed capacityBits',
  })
  .refine(
    (l) =>
      [...l.outages]
        .sort((x, y) => x.startSeconds - y.startSeconds)
        .every(
          (o, i, all) =>
            i === 0 || o.startSeconds >= (all[i - 1]?.startSeconds ?? 0) + (all[i - 1]?.durationSeconds ?? 0),
        ),
    { message: 'outages must not overlap' },
  );

export const Config = z
  .strictObject({
    kmes: z.array(Kme).min(1),
    links: z.array(Link).default([]),
  })
  .superRefine((c, ctx) => {
    const issue = (message: string) => ctx.addIssue({ code: 'custom', message });
    const kmeIds = new Set<string>();
    const saeIds = new Set<string>();
    for (const k of c.kmes) {
      if (kmeIds.has(k.id)) issue(`duplicate KME ID ${k.id}`);
      kmeIds.add(k.id);
      for (const s of k.saes) {
        if (saeIds.has(s.id)) issue(`SAE ${s.id} is attached to more than one KME`);
        saeIds.add(s.id);
      }
    }
    // A neighbour KME or an SAE must never be an admin just by its own certificate.
    const identities = new Set([
      ...kmeIds,
      ...c.kmes.flatMap((k) => k.saes.flatMap((s) => [s.id, s.certCommonName ?? s.id])),
    ]);
    for (const k of c.kmes)
      for (const a of k.admins)
        if (identities.has(a)) issue(`admin ${a} of KME ${k.id} is also the CN of a KME or SAE certificate`);
    const linkIds = new Set<string>();
    for (const l of c.links) {
      if (linkIds.has(l.id)) issue(`duplicate link ID ${l.id}`);
      linkIds.add(l.id);
      for (const end of l.kmes) if (!kmeIds.has(end)) issue(`link ${l.id} names unknown KME ${end}`);
    }
  });
export type Config = z.infer<typeof Config>;
export type KmeConfig = Config['kmes'][number];
export type LinkConfig = Config['links'][number];

/** Parses and validates a config; relative TLS paths are resolved against `baseDir`. */
export function parseConfig(raw: unknown, baseDir: string, source = 'config'): Config {
  const result = Config.safeParse(raw);
  if (!result.success) throw new Error(`${source}: ${z.prettifyError(result.error)}`);
  for (const k of result.data.kmes) {
    k.tls = {
      cert: resolve(baseDir, k.tls.cert),
      key: resolve(baseDir, k.tls.key),
      ca: resolve(baseDir, k.tls.ca),
    };
  }
  return result.data;
}

export function loadConfig(path: string): Config {
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read kme-sim config ${path}: ${(err as Error).message}`);
  }
  return parseConfig(raw, dirname(resolve(path)), path);
}
