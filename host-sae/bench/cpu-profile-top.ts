// Summarises V8 .cpuprofile files (from cpu-profiler.cjs): per file, the samples' total, the top
// functions by self time and by inclusive time, so a bench run says where a process's CPU went.
//   node --import tsx host-sae/bench/cpu-profile-top.ts [--top 25] [--merge] FILE…
// --merge sums the files into one summary (e.g. every action container of one phase).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const label = (n: Node) => {
  const f = n.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};

export function summarise(p: Profile): {
  totalMs: number;
  self: Map<string, number>;
  inclusive: Map<string, number>;
} {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalUs = 0;
  p.samples.forEach((id, i) => {
    // a sample's weight is the time until the next one
    const us = p.timeDeltas[i + 1] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const name = label(node);
    if (name.startsWith('(idle)')) return;
    totalUs += us;
    self.set(name, (self.get(name) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur) as Node);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + us);
    }
  });
  const ms = (m: Map<string, number>) => new Map([...m].map(([k, v]) => [k, v / 1000]));
  return { totalMs: totalUs / 1000, self: ms(self), inclusive: ms(inclusive) };
}

const argv = process.argv.slice(2);
const topAt = argv.indexOf('--top');
const top = topAt >= 0 ? Number(argv.splice(topAt, 2)[1]) : 25;
const mergeAt = argv.indexOf('--merge');
if (mergeAt >= 0) argv.splice(mergeAt, 1);
const add = (into: Map<string, number>, from: Map<string, number>) => {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
};
const summaries = argv.map((file) => ({
  name: basename(file),
  ...summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile),
}));
function merged(all: typeof summaries) {
  const into = {
    name: `${all.length} files`,
    totalMs: 0,
    self: new Map<string, number>(),
    inclusive: new Map<string, number>(),
  };
  for (const s of all) {
    add(into.self, s.self);
    add(into.inclusive, s.inclusive);
    into.totalMs += s.totalMs;
  }
  return into;
}
const shown = mergeAt >= 0 ? [merged(summaries)] : summaries;
for (const s of shown) {
  console.log(`\n== ${s.name}: ${s.totalMs.toFixed(1)} ms on CPU (idle excluded)`);
  for (const [title, m] of [
    ['self', s.self],
    ['inclusive', s.inclusive],
  ] as const) {
    console.log(`-- ${title}`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`${v.toFixed(1).padStart(9)} ms ${((100 * v) / s.totalMs).toFixed(1).padStart(5)}%  ${k}`);
  }
}
