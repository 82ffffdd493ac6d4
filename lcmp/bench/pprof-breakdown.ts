// Where a kube-apiserver CPU profile's time went, by stage of the request path (issue 11): reads
// `go tool pprof -traces` and gives each sample to the first stage, in the order below, that any of
// its frames belongs to, so the stages add up to the whole profile. Usage:
//   npx tsx lcmp/bench/pprof-breakdown.ts <profile.pprof>[=<operations>] ...
// With `=<operations>` (what the profiled window served) each stage is also given in ms per operation.
import { execFileSync } from 'node:child_process';
import { basename } from 'node:path';

/** Stages, most specific first: a sample goes to the first one matching any of its frames. */
const STAGES: { stage: string; frame: RegExp }[] = [
  { stage: 'authn: x509 client certificate verify', frame: /crypto\/x509\.|authentication\/request\/x509/ },
  { stage: 'authz (RBAC)', frame: /pkg\/authorization\/|rbac\./ },
  { stage: 'admission', frame: /k8s\.io\/apiserver\/pkg\/admission\./ },
  {
    stage: 'managedFields (fieldmanager, structured-merge-diff)',
    frame: /managedfields|structured-merge-diff/,
  },
  { stage: 'CEL validation rules', frame: /schema\/cel\.|cel-go|google\/cel|apiserver\/cel/ },
  {
    stage: 'schema validation (OpenAPI, ratcheting, ObjectMeta)',
    frame: /apiextensions-apiserver\/pkg\/apiserver\/validation|kube-openapi\/pkg\/validation|Validate/,
  },
  { stage: 'watch cache: decoding etcd watch events', frame: /etcd3\.\(\*watchChan\)/ },
  {
    stage: 'watch: dispatch, encode and send events',
    frame:
      /cacher\.\(\*(Cacher\)\.(dispatch|processEvent|startDispatching)|cacheWatcher|watchCache)|WatchServer|handleWatch/,
  },
  { stage: 'etcd client (gRPC)', frame: /go\.etcd\.io\/etcd\/client|google\.golang\.org\/grpc/ },
  { stage: 'storage: encode for etcd, decode stored object', frame: /storage\/etcd3\.\(\*store\)/ },
  {
    stage: 'request body: decode, schema coercion, pruning, defaulting',
    frame:
      /schemaCoercingDecoder|unstructuredSchemaCoercer|pruning\.|defaulting\.|serializer\/versioning\.\(\*codec\)\.Decode/,
  },
  { stage: 'response: encode', frame: /transformResponseObject|WriteObjectNegotiated|SerializeObject/ },
  {
    stage: 'registry: strategy, deep copies, ObjectMeta',
    frame: /pkg\/registry\/|customresource\.|objectmeta\./,
  },
  {
    stage: 'TLS and HTTP I/O',
    frame: /crypto\/tls\.|net\/http\.\(\*conn\)|net\/http\.\(\*http2|internal\/poll|syscall\./,
  },
  {
    stage: 'handler chain: filters, priority and fairness, metrics, tracing',
    frame: /endpoints\/filters|server\/filters|flowcontrol|prometheus|otel|tracing|audit|endpoints\/handlers/,
  },
  {
    stage: 'GC (background mark, sweep)',
    frame: /runtime\.gcBgMarkWorker|runtime\.bgsweep|runtime\.bgscavenge/,
  },
];
const OTHER = 'other (runtime, leases, controllers)';

/** Samples of one profile as [milliseconds, frames leaf first]. */
function traces(file: string): [number, string[]][] {
  const text = execFileSync('go', ['tool', 'pprof', '-traces', file], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const out: [number, string[]][] = [];
  for (const block of text.split(/^-+\+-+$/m).slice(1)) {
    const lines = block.split('\n').filter((l) => l.trim());
    const first = lines[0]?.match(/^\s*([\d.]+)(ms|s|us|µs)\s+(.*)$/);
    if (!first) continue;
    const scale = { s: 1000, ms: 1, us: 0.001, µs: 0.001 }[first[2] as 's' | 'ms' | 'us' | 'µs'];
    out.push([Number(first[1]) * scale, [first[3]!, ...lines.slice(1).map((l) => l.trim())]]);
  }
  return out;
}

function breakdown(samples: [number, string[]][]): Map<string, number> {
  const ms = new Map<string, number>([...STAGES.map((s) => [s.stage, 0] as const), [OTHER, 0]]);
  for (const [t, frames] of samples) {
    const stage = STAGES.find((s) => frames.some((f) => s.frame.test(f)))?.stage ?? OTHER;
    ms.set(stage, ms.get(stage)! + t);
  }
  return ms;
}

function main(args: string[]): void {
  if (args.length === 0) {
    console.error('usage: pprof-breakdown <profile.pprof>[=<operations>] ...');
    process.exitCode = 2;
    return;
  }
  const columns = args.map((arg) => {
    const [file, ops] = arg.split('=');
    const ms = breakdown(traces(file!));
    const total = [...ms.values()].reduce((a, b) => a + b, 0);
    return { name: basename(file!, '.pprof'), ms, total, ops: ops ? Number(ops) : undefined };
  });
  const cell = (c: (typeof columns)[number], v: number) =>
    `${((100 * v) / c.total).toFixed(1)}%${c.ops ? ` ${(v / c.ops).toFixed(2)}ms` : ''}`;
  const rows = [...columns[0]!.ms.keys()].map((stage) => [
    stage,
    ...columns.map((c) => cell(c, c.ms.get(stage)!)),
  ]);
  rows.push([
    'total',
    ...columns.map(
      (c) => `${(c.total / 1000).toFixed(2)}s${c.ops ? ` ${(c.total / c.ops).toFixed(2)}ms` : ''}`,
    ),
  ]);
  const header = ['stage', ...columns.map((c) => c.name)];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) console.log(r.map((v, i) => v.padEnd(widths[i]!)).join('  '));
}

main(process.argv.slice(2));
