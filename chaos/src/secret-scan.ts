// After a run: every place the architecture forbids secrets in (log lines, metrics, Events, custom
// resources, Redis keys and values, OpenWhisk activation records) searched for the run's QKD keys,
// plaintexts, tokens and credentials, and for any PEM private key. A hit names where and what kind,
// never the secret itself.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface Needle {
  kind: string;
  value: string;
}

export interface Haystack {
  where: string;
  text: string;
}

export interface Hit {
  where: string;
  kind: string;
  /** 1-based line of the first occurrence. */
  line: number;
}

const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** The spellings a secret may leak in: as given, hex and base64 of a base64 key's bytes. */
export function spellings(n: Needle): string[] {
  const out = new Set([n.value]);
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(n.value) && n.value.length >= 16) {
    const bytes = Buffer.from(n.value, 'base64');
    out.add(bytes.toString('hex'));
    out.add(bytes.toString('base64url'));
  }
  return [...out].filter((s) => s.length >= 8);
}

export function scan(haystacks: Haystack[], needles: Needle[]): Hit[] {
  const hits: Hit[] = [];
  const lineOf = (text: string, at: number) => text.slice(0, at).split('\n').length;
  for (const h of haystacks) {
    const pk = PRIVATE_KEY.exec(h.text);
    if (pk) hits.push({ where: h.where, kind: 'private key', line: lineOf(h.text, pk.index) });
    for (const n of needles)
      for (const s of spellings(n)) {
        const at = h.text.indexOf(s);
        if (at >= 0) {
          hits.push({ where: h.where, kind: n.kind, line: lineOf(h.text, at) });
          break;
        }
      }
  }
  return hits;
}

/** Every `*.log` file under `dir`. */
export function logFiles(dir: string): Haystack[] {
  const out: Haystack[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...logFiles(path));
    else if (st?.isFile() && name.endsWith('.log'))
      out.push({ where: path, text: readFileSync(path, 'utf8') });
  }
  return out;
}

/** Every Redis key with its value, whatever its type. */
export async function redisContents(url: string): Promise<Haystack> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    const lines: string[] = [];
    for (const key of await redis.keys('*')) {
      const type = await redis.type(key);
      const value =
        type === 'string'
          ? await redis.get(key)
          : type === 'hash'
            ? await redis.hgetall(key)
            : type === 'list'
              ? await redis.lrange(key, 0, -1)
              : type === 'set'
                ? await redis.smembers(key)
                : type === 'zset'
                  ? await redis.zrange(key, '0', '-1', 'WITHSCORES')
                  : type === 'stream'
                    ? await redis.xrange(key, '-', '+')
                    : type;
      lines.push(`${key} ${JSON.stringify(value)}`);
    }
    return { where: `redis ${url}`, text: lines.join('\n') };
  } finally {
    redis.disconnect();
  }
}

export async function httpText(
  where: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<Haystack> {
  const res = await fetch(url, { headers });
  return { where, text: await res.text() };
}
