// A private Prometheus server (Debian `prometheus` package) on a free loopback port, scraping targets
// listed in a file_sd file that `setTargets` rewrites (Prometheus notices the change itself), with its
// TSDB in a temporary directory that `stop` removes.
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@mecqkd/common/ports';
import { startProcess, waitUntil } from '@mecqkd/common/process';
import { stringify } from 'yaml';

export interface ScrapeJob {
  /** Prometheus job name; also the name of its file_sd file. */
  job: string;
  /** `host:port` of each target, with labels added to every series scraped from it. */
  targets: { address: string; labels?: Record<string, string> }[];
  scheme?: 'http' | 'https';
  metricsPath?: string;
  /** Client certificate and CA files for HTTPS targets with mutual TLS. */
  tls?: { caFile: string; certFile?: string; keyFile?: string; insecureSkipVerify?: boolean };
}

export interface PrometheusServer {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:40123 (queries at /api/v1/query). */
  url: string;
  port: number;
  /** Replaces the targets of one job (the job must have been given at start). */
  setTargets(job: string, targets: ScrapeJob['targets']): void;
  stop(): Promise<void>;
}

export function prometheusBinary(): string {
  for (const path of ['/usr/bin/prometheus', '/usr/local/bin/prometheus']) if (existsSync(path)) return path;
  throw new Error('prometheus is missing: run `make system-deps` (installs the Debian package)');
}

function writeTargets(dir: string, job: string, targets: ScrapeJob['targets']): void {
  const file = join(dir, `${job}.targets.json`);
  // Write then rename, so Prometheus never reads a half-written file.
  writeFileSync(
    `${file}.tmp`,
    JSON.stringify(targets.map((t) => ({ targets: [t.address], labels: t.labels ?? {} }))),
  );
  renameSync(`${file}.tmp`, file);
}

export async function startPrometheus(opts: {
  jobs: ScrapeJob[];
  /** Default 1000 ms; Prometheus accepts whole milliseconds. */
  scrapeIntervalMs?: number;
}): Promise<PrometheusServer> {
  const names = new Set(opts.jobs.map((j) => j.job));
  if (names.size !== opts.jobs.length) throw new Error('prometheus: job names must be unique');
  const dir = mkdtempSync(join(tmpdir(), 'mecqkd-prometheus-'));
  const interval = `${opts.scrapeIntervalMs ?? 1000}ms`;
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    scrape_configs: opts.jobs.map((j) => ({
      job_name: j.job,
      scheme: j.scheme ?? 'http',
      metrics_path: j.metricsPath ?? '/metrics',
      ...(j.tls
        ? {
            tls_config: {
              ca_file: j.tls.caFile,
              ...(j.tls.certFile ? { cert_file: j.tls.certFile, key_file: j.tls.keyFile } : {}),
              insecure_skip_verify: j.tls.insecureSkipVerify ?? false,
            },
          }
        : {}),
      file_sd_configs: [{ files: [join(dir, `${j.job}.targets.json`)], refresh_interval: '1s' }],
    })),
  };
  for (const j of opts.jobs) writeTargets(dir, j.job, j.targets);
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  const port = await freePort();
  const proc = startProcess({
    name: 'prometheus',
    command: prometheusBinary(),
    args: [
      `--config.file=${configFile}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    logFile: join(dir, 'prometheus.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(`prometheus at ${url}`, async () => (await fetch(`${url}/-/ready`)).ok, {
      timeoutMs: 30_000,
      process: proc,
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    port,
    setTargets(job, targets) {
      if (!names.has(job)) throw new Error(`prometheus: no job ${job}; jobs are fixed at start`);
      writeTargets(dir, job, targets);
    },
    stop,
  };
}
