// What a Node part's heap holds, from V8 heap snapshots (`--heapsnapshot-signal`): a snapshot is taken
// after a full GC, so it counts only live objects — the sawtooth of garbage that makes the soak's
// sampled heap size noisy is not in it. Two snapshots of one process, one after the warm-up and one at
// the end, tell a leak (objects of some kind piling up) from V8's own growth (compiled code, hidden
// metadata) and from memory the allocator keeps.

/** The parts of a .heapsnapshot file this reads. */
export interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface Kind {
  count: number;
  bytes: number;
}

// strings and V8's internals are one kind each: their names are their contents or addresses
const ONE_KIND = new Set(['string', 'concatenated string', 'sliced string', 'code', 'hidden', 'number']);

/** Live objects by kind (`type:constructor`, e.g. `object:Socket`), with their count and own size. */
export function kinds(s: HeapSnapshot): Map<string, Kind> {
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const [ti, ni, si] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  if (ti < 0 || ni < 0 || si < 0)
    throw new Error('not a V8 heap snapshot: node fields type, name, self_size missing');
  const out = new Map<string, Kind>();
  for (let i = 0; i < s.nodes.length; i += fields.length) {
    const type = types[s.nodes[i + ti]!] ?? 'unknown';
    const name = ONE_KIND.has(type) ? '' : (s.strings[s.nodes[i + ni]!] ?? '').slice(0, 80);
    const key = `${type}:${name}`;
    const k = out.get(key) ?? { count: 0, bytes: 0 };
    k.count++;
    k.bytes += s.nodes[i + si]!;
    out.set(key, k);
  }
  return out;
}

export interface KindChange {
  kind: string;
  count: number;
  bytes: number;
}

export interface HeapChange {
  /** Live bytes in the earlier snapshot. */
  liveBytes: number;
  /** Live bytes in the later snapshot less the earlier one. */
  bytes: number;
  /** Of those, V8's compiled code and its hidden metadata (they grow as functions get optimised). */
  v8Bytes: number;
  /** The kinds that grew most, by bytes. */
  grown: KindChange[];
}

const V8_KINDS = new Set(['code:', 'hidden:']);

export function heapChange(before: Map<string, Kind>, after: Map<string, Kind>, top = 5): HeapChange {
  const total = (m: Map<string, Kind>, only?: Set<string>) =>
    [...m].reduce((s, [k, v]) => (only && !only.has(k) ? s : s + v.bytes), 0);
  const changes = [...new Set([...before.keys(), ...after.keys()])].map((kind) => ({
    kind,
    count: (after.get(kind)?.count ?? 0) - (before.get(kind)?.count ?? 0),
    bytes: (after.get(kind)?.bytes ?? 0) - (before.get(kind)?.bytes ?? 0),
  }));
  return {
    liveBytes: total(before),
    bytes: total(after) - total(before),
    v8Bytes: total(after, V8_KINDS) - total(before, V8_KINDS),
    grown: changes
      .filter((c) => c.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes || (a.kind < b.kind ? -1 : 1))
      .slice(0, top),
  };
}
