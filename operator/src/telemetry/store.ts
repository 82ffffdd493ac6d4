// Normalised telemetry in Redis (the KVS), one hash per object:
//   <prefix>:host:<namespace>/<name>  {load, time, source}
//   <prefix>:link:<namespace>/<name>  {state, secretKeyRate, storedKeys, capacityKeys, keyAvailability, time, source}
// (prefix `mecqkd:telemetry`; time in epoch ms). Keys expire after `ttlMs` so deleted objects leave nothing
// behind. Reads split samples into fresh and stale (older than `maxAgeMs`); entries that fail validation
// count as missing.
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { HostSample, LinkSample } from './types.ts';

export interface TelemetryStoreOptions {
  /** Samples older than this are stale: excluded from `fresh`, listed in `stale`. */
  maxAgeMs: number;
  /** Redis key expiry (default 10 × maxAgeMs). */
  ttlMs?: number;
  prefix?: string;
}

const num = z.coerce.number().refine(Number.isFinite, 'must be a finite number');
const hostHash = z.object({
  load: num.pipe(z.number().min(0).max(1)),
  time: num,
  source: z.enum(['prometheus', 'scrape']),
});
const linkHash = z.object({
  state: z.enum(['ACTIVE', 'PASSIVE', 'PENDING', 'OFF']),
  secretKeyRate: num,
  storedKeys: num,
  capacityKeys: num,
  keyAvailability: num.pipe(z.number().min(0).max(1)),
  time: num,
  source: z.enum(['kme', 'prometheus', 'scrape']),
});

export interface Read<T> {
  fresh: T[];
  stale: T[];
  /** Keys ("namespace/name") with no (valid) entry. */
  missing: string[];
}

export function telemetryStore(redis: Redis, opts: TelemetryStoreOptions) {
  if (!(opts.maxAgeMs > 0)) throw new Error('telemetry store: maxAgeMs must be positive');
  const prefix = opts.prefix ?? 'mecqkd:telemetry';
  const ttlMs = opts.ttlMs ?? opts.maxAgeMs * 10;
  const hostKey = (host: string) => `${prefix}:host:${host}`;
  const linkKey = (link: string) => `${prefix}:link:${link}`;

  async function write(entries: [string, Record<string, string | number>][]): Promise<void> {
    if (entries.length === 0) return;
    const pipeline = redis.multi();
    for (const [key, fields] of entries) pipeline.hset(key, fields).pexpire(key, ttlMs);
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw new Error(`telemetry store: write failed: ${(failed[0] as Error).message}`);
  }

  async function read<T extends { time: number }>(
    keys: readonly string[],
    key: (k: string) => string,
    schema: z.ZodType<Omit<T, 'host' | 'link'>>,
    name: 'host' | 'link',
    now: number,
  ): Promise<Read<T>> {
    const out: Read<T> = { fresh: [], stale: [], missing: [] };
    if (keys.length === 0) return out;
    const pipeline = redis.pipeline();
    for (const k of keys) pipeline.hgetall(key(k));
    const results = (await pipeline.exec()) ?? [];
    keys.forEach((k, i) => {
      const [err, value] = results[i] ?? [new Error('no reply')];
      const parsed = err ? undefined : schema.safeParse(value);
      if (!parsed?.success) {
        out.missing.push(k);
        return;
      }
      const sample = { [name]: k, ...parsed.data } as unknown as T;
      (now - sample.time > opts.maxAgeMs ? out.stale : out.fresh).push(sample);
    });
    return out;
  }

  return {
    hostKey,
    linkKey,
    putHosts: (samples: readonly HostSample[]) =>
      write(samples.map((s) => [hostKey(s.host), { load: s.load, time: s.time, source: s.source }])),
    putLinks: (samples: readonly LinkSample[]) =>
      write(
        samples.map(({ link, ...fields }) => [
          linkKey(link),
          fields as unknown as Record<string, string | number>,
        ]),
      ),
    getHosts: (hosts: readonly string[], now = Date.now()) =>
      read<HostSample>(hosts, hostKey, hostHash, 'host', now),
    getLinks: (links: readonly string[], now = Date.now()) =>
      read<LinkSample>(links, linkKey, linkHash, 'link', now),
  };
}
export type TelemetryStore = ReturnType<typeof telemetryStore>;
