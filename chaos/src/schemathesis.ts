// schemathesis (installed by `make fuzz-deps` into a virtualenv under the cache) run against one
// OpenAPI document, with the outcome counted from what it wrote: the JUnit report (operations and
// failed checks) and the network log (every response's status and body), so a test can demand
// "0 server errors, every rejection a clear 4xx" from the recorded exchanges, not from its summary.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { junitCounts, SCHEMATHESIS } from '@mecqkd/common/schemathesis';
import { parse } from 'yaml';

export const SEED = '20261201';
/** The project's reference specs (`../shared/specs` next to the clone). */
export const SHARED_SPECS = join(import.meta.dirname, '..', '..', '..', 'shared', 'specs');

export interface Exchange {
  method: string;
  uri: string;
  status: number;
  body: string;
}

export interface FuzzOutcome {
  /** API operations schemathesis ran. */
  operations: number;
  /** Failed checks from the JUnit report. */
  failures: { test: string; message: string }[];
  exchanges: Exchange[];
  /** Responses per status code. */
  statuses: Record<number, number>;
  stdout: string;
}

interface CassetteInteraction {
  request: { method: string; uri: string };
  response: { status: { code: string | number }; body?: { string?: string; base64_string?: string } };
}

/** The exchanges of a schemathesis network log (VCR cassette). */
export function cassetteExchanges(yamlText: string): Exchange[] {
  const doc = parse(yamlText) as { http_interactions?: CassetteInteraction[] } | null;
  return (doc?.http_interactions ?? []).map((i) => ({
    method: i.request.method,
    uri: i.request.uri,
    status: Number(i.response.status.code),
    body:
      i.response.body?.string ?? Buffer.from(i.response.body?.base64_string ?? '', 'base64').toString('utf8'),
  }));
}

export function statusCounts(exchanges: Exchange[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const e of exchanges) out[e.status] = (out[e.status] ?? 0) + 1;
  return out;
}

/** The 4xx answers whose body does not say what was wrong (`clear` decides per API). */
export function unclearRejections(exchanges: Exchange[], clear: (body: unknown) => boolean): Exchange[] {
  return exchanges.filter((e) => {
    if (e.status < 400 || e.status >= 500) return false;
    try {
      return !clear(JSON.parse(e.body));
    } catch {
      return true;
    }
  });
}

export async function runSchemathesis(opts: {
  spec: string;
  baseUrl: string;
  /** Where the JUnit report and the network log go. */
  dir: string;
  name: string;
  checks: string[];
  examples: number;
  /** Authentication, path overrides, TLS options, exclusions. */
  extra: string[];
  timeoutMs?: number;
}): Promise<FuzzOutcome> {
  if (!existsSync(SCHEMATHESIS))
    throw new Error(`schemathesis is missing at ${SCHEMATHESIS}: run \`make fuzz-deps\``);
  const junit = join(opts.dir, `${opts.name}.xml`);
  const cassette = join(opts.dir, `${opts.name}-cassette.yaml`);
  const args = [
    'run',
    opts.spec,
    '--base-url',
    opts.baseUrl,
    '--checks',
    opts.checks.join(','),
    '--data-generation-method',
    'all',
    '--hypothesis-max-examples',
    String(opts.examples),
    '--hypothesis-seed',
    SEED,
    '--hypothesis-deadline',
    'None',
    '--hypothesis-suppress-health-check',
    'all',
    '--request-timeout',
    '30000',
    '--junit-xml',
    junit,
    '--cassette-path',
    cassette,
    '--no-color',
    ...opts.extra,
  ];
  const run = await promisify(execFile)(SCHEMATHESIS, args, {
    timeout: opts.timeoutMs ?? 480_000,
    maxBuffer: 32 << 20,
  }).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr }));
  if (!existsSync(junit))
    throw new Error(`schemathesis wrote no report: ${run.stdout.slice(-2000)} ${run.stderr ?? ''}`);
  const { cases, failures } = junitCounts(readFileSync(junit, 'utf8'));
  const exchanges = existsSync(cassette) ? cassetteExchanges(readFileSync(cassette, 'utf8')) : [];
  return { operations: cases, failures, exchanges, statuses: statusCounts(exchanges), stdout: run.stdout };
}

/** One line for the test output: operations, requests, responses by status. */
export function describeOutcome(name: string, o: FuzzOutcome): string {
  const byStatus = Object.entries(o.statuses)
    .map(([s, n]) => `${s}×${n}`)
    .join(' ');
  return `${name}: ${o.operations} operations, ${o.exchanges.length} requests (${byStatus}), ${o.failures.length} failed checks`;
}
