// What etcd says about its own memory during a soak, to tell growth from a plateau not yet reached:
// its Go heap against its RSS (anonymous vs file-backed, the latter mostly bbolt's mmap), the bbolt
// file against the part of it in use, the keys and revisions the MVCC index holds between the
// apiserver's compactions, the raft entries applied since the last snapshot (etcd keeps the raft log
// in memory until --snapshot-count entries), and the Events waiting for their one-hour TTL.
import { readFileSync } from 'node:fs';
import { parseExposition } from '@mecqkd/common/exposition';

/** The /metrics series read, under the short names the soak reports. */
const METRICS = {
  'heap inuse': 'go_memstats_heap_inuse_bytes',
  'heap alloc': 'go_memstats_heap_alloc_bytes',
  'db size': 'etcd_mvcc_db_total_size_in_bytes',
  'db in use': 'etcd_mvcc_db_total_size_in_use_in_bytes',
  keys: 'etcd_debugging_mvcc_keys_total',
  revision: 'etcd_debugging_mvcc_current_revision',
  'compact revision': 'etcd_debugging_mvcc_compact_revision',
  'applied proposals': 'etcd_server_proposals_applied_total',
  snapshots: 'etcd_debugging_snap_save_total_duration_seconds_count',
} as const;

export type EtcdSample = Partial<Record<keyof typeof METRICS | 'rss anon' | 'rss file' | 'events', number>>;

function rssParts(pid: number): EtcdSample {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => {
      const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
      return m ? Number(m[1]) * 1024 : undefined;
    };
    return { 'rss anon': kb('RssAnon'), 'rss file': kb('RssFile') };
  } catch {
    return {}; // between a kill and the restart
  }
}

/** Keys under a prefix, by etcd's JSON gateway (a count-only range: no values read). */
async function countKeys(etcdUrl: string, prefix: string): Promise<number | undefined> {
  const key = Buffer.from(prefix);
  const end = Buffer.from(prefix);
  end[end.length - 1]! += 1;
  const res = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({
      key: key.toString('base64'),
      range_end: end.toString('base64'),
      count_only: true,
    }),
  });
  if (!res.ok) return undefined;
  return Number(((await res.json()) as { count?: string }).count ?? 0);
}

export async function sampleEtcd(etcdUrl: string, pid: number | undefined): Promise<EtcdSample> {
  const out: EtcdSample = pid === undefined ? {} : rssParts(pid);
  try {
    const series = parseExposition(await (await fetch(`${etcdUrl}/metrics`)).text());
    for (const [short, name] of Object.entries(METRICS))
      out[short as keyof typeof METRICS] = series.find((s) => s.name === name)?.value;
    out.events = await countKeys(etcdUrl, '/registry/events/');
  } catch {
    // etcd restarting: the sample keeps what /proc gave
  }
  return out;
}
