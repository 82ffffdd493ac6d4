// The operator's probe and metrics endpoint: /healthz (liveness), /readyz (readiness: every named
// check passes, e.g. informers synced and watching) and /metrics (the runtime registry and the
// process's own: common/process-metrics.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metricsWithProcess } from '@mecqkd/common/process-metrics';
import { registry } from './metrics.ts';

/** Returns true when healthy; a throw or false fails the probe. */
export type Check = () => boolean | Promise<boolean>;

export interface HealthServer {
  /** The address it listens on, e.g. 0.0.0.0 (every interface) or 127.0.0.1. */
  readonly address: string;
  readonly port: number;
  addHealthzCheck(name: string, check: Check): void;
  addReadyzCheck(name: string, check: Check): void;
  close(): Promise<void>;
}

async function runChecks(checks: Map<string, Check>): Promise<{ ok: boolean; body: string }> {
  const lines: string[] = [];
  let ok = true;
  for (const [name, check] of checks) {
    let passed: boolean;
    try {
      passed = await check();
    } catch {
      passed = false;
    }
    ok &&= passed;
    lines.push(`[${passed ? '+' : '-'}]${name} ${passed ? 'ok' : 'failed'}`);
  }
  return { ok, body: `${lines.join('\n')}${lines.length ? '\n' : ''}${ok ? 'ok' : 'failed'}\n` };
}

/**
 * Listens on host:port (port 0 = any free one). 127.0.0.1 unless told otherwise; in a pod pass
 * 0.0.0.0, since the kubelet probes and Prometheus scrapes the pod IP.
 */
export async function startHealthServer(port: number, host = '127.0.0.1'): Promise<HealthServer> {
  const healthz = new Map<string, Check>([['ping', () => true]]);
  const readyz = new Map<string, Check>([['ping', () => true]]);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const respond = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const probe = (checks: Map<string, Check>) =>
      runChecks(checks).then(({ ok, body }) => respond(ok ? 200 : 500, body));
    const work =
      path === '/healthz'
        ? probe(healthz)
        : path === '/readyz'
          ? probe(readyz)
          : path === '/metrics'
            ? metricsWithProcess(registry).then((text) => respond(200, text, registry.contentType))
            : Promise.resolve(respond(404, 'not found\n'));
    work.catch((err: unknown) => respond(500, `${err instanceof Error ? err.message : String(err)}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const bound = server.address() as AddressInfo;
  return {
    address: bound.address,
    port: bound.port,
    addHealthzCheck: (name, check) => healthz.set(name, check),
    addReadyzCheck: (name, check) => readyz.set(name, check),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
