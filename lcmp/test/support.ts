// The LCMP in front of the real operator, control plane, Redis, whisk-sim and kme-sim; registered
// clients with tokens from the LCMP's own endpoint; a device app's notification receiver.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { toKubeYaml } from '@mecqkd/common/kube-yaml';
import { createLogger } from '@mecqkd/common/logger';
import { freePort } from '@mecqkd/common/ports';
import { startProcess } from '@mecqkd/common/process';
import { type MecTestbed, startMecTestbed } from '@mecqkd/localenv/mec-testbed';
import type { RunningOperator } from '@mecqkd/operator/operator';
import { eventually, runOperator } from '../../operator/test/e2e/support.ts';
import { hashSecret } from '../src/auth/secret-hash.ts';
import { parseLcmpConfig } from '../src/config.ts';
import { type RunningLcmp, startLcmp } from '../src/lcmp.ts';

export { eventually };

export interface TestClient {
  clientId: string;
  secret: string;
  devAppIds: string;
  apps: string;
}

export const CLIENTS = {
  ward: {
    clientId: 'ward-7-tablet',
    secret: 'ward-7-secret-0123456789',
    devAppIds: 'ward-7,MyNewWornderfulDevAppId',
    apps: '*',
  },
  lab: { clientId: 'lab-pc', secret: 'lab-pc-secret-0123456789', devAppIds: 'lab-1', apps: 'cardio' },
} satisfies Record<string, TestClient>;

export const CARDIO = 'function main(p) { return { risk: 0.1 }; }';

export function mecApp(
  name: string,
  info: Partial<Record<string, unknown>> = {},
  placement: Record<string, unknown> = {},
  action: Record<string, unknown> = { code: CARDIO },
): unknown {
  return {
    apiVersion: 'mecqkd.io/v1alpha1',
    kind: 'MecApp',
    metadata: { name },
    spec: {
      appInfo: {
        appDId: `did-${name}`,
        appName: name,
        appProvider: 'hospital-it',
        appSoftVersion: '1.0',
        appDVersion: '1',
        appDescription: `${name} model`,
        ...info,
      },
      action,
      placement,
    },
  };
}

export async function registerClient(tb: MecTestbed, c: TestClient, namespace = tb.namespace): Promise<void> {
  await tb.kubectl(
    ['apply', '-n', namespace, '-f', '-'],
    toKubeYaml({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: `lcmp-client-${c.clientId}`, labels: { 'mecqkd.io/lcmp-client': 'true' } },
      type: 'Opaque',
      stringData: {
        clientId: c.clientId,
        secretHash: await hashSecret(c.secret),
        devAppIds: c.devAppIds,
        apps: c.apps,
        kmeId: tb.clientKmeId,
        saeId: tb.clientSae.id,
      },
    }),
  );
}

export function lcmpFlags(tb: MecTestbed, over: Record<string, string | number | boolean> = {}): string[] {
  const flags: Record<string, string | number | boolean> = {
    kubeconfig: tb.cp.kubeconfigPath,
    namespace: tb.namespace,
    port: 0,
    healthPort: 0,
    tokenEndpoint: true,
    // the receivers of the tests listen on loopback: opted in explicitly
    callbackAllow: '127.0.0.0/8',
    placeTimeout: 20,
    notifyBackoff: 0.1,
    notifyMaxBackoff: 1,
    notifyGiveUp: 60,
    leaseDuration: 4,
    renewDeadline: 3,
    retryPeriod: 0.5,
    ...over,
  };
  return Object.entries(flags).flatMap(([k, v]) => [
    `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
    String(v),
  ]);
}

export function runLcmp(tb: MecTestbed, over: Record<string, string | number | boolean> = {}) {
  return startLcmp(
    parseLcmpConfig(lcmpFlags(tb, over), {}),
    createLogger('lcmp', process.env.LOG_LEVEL ?? 'warn'),
  );
}

/** The LCMP binary as a child process (SIGKILL and two-replica tests); resolves once it serves. */
export async function runLcmpProcess(
  tb: MecTestbed,
  name: string,
  over: Record<string, string | number> = {},
) {
  // a restarted replica keeps the ports its clients know
  const port = over.port ?? (await freePort());
  const healthPort = over.healthPort ?? (await freePort());
  const bin = join(import.meta.dirname, '..', 'bin', 'lcmp.mjs');
  const proc = startProcess({
    name,
    command: process.execPath,
    args: [bin, ...lcmpFlags(tb, { identity: name, ...over, port, healthPort })],
    env: { ...process.env, LOG_LEVEL: 'info' },
    logFile: join(tb.dir, 'logs', `${name}.log`),
  });
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    `${name} ready`,
    async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok,
    60_000,
  );
  return { proc, url, healthPort };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  json: any;
}

export async function call(
  base: string,
  method: string,
  path: string,
  opts: {
    token?: string;
    body?: unknown;
    raw?: string;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = opts.contentType ?? 'application/json';
  } else if (opts.raw !== undefined) {
    body = opts.raw;
    if (opts.contentType) headers['content-type'] = opts.contentType;
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export async function tokenFor(base: string, c: TestClient): Promise<string> {
  const res = await fetch(`${base}/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${c.clientId}:${c.secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token)
    throw new Error(`no token for ${c.clientId}: ${res.status} ${JSON.stringify(body)}`);
  return body.access_token;
}

/** A create request as a device app sends it. */
export function createBody(
  appName: string,
  over: Record<string, unknown> = {},
  info: Record<string, unknown> = {},
) {
  return {
    associateDevAppId: 'ward-7',
    appInfo: {
      appName,
      appProvider: 'hospital-it',
      appDVersion: '1',
      userAppInstanceInfo: [{}],
      ...info,
    },
    ...over,
  };
}

/** A device app's callback endpoint: records every notification, answers 204 (or what `answer` says). */
export class Receiver {
  // biome-ignore lint/suspicious/noExplicitAny: notifications are asserted field by field
  readonly received: { at: number; body: any }[] = [];
  answer: () => number = () => 204;
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let data = '';
      req.on('data', (c) => {
        data += c;
      });
      req.on('end', () => {
        const status = this.answer();
        if (status >= 200 && status < 300) this.received.push({ at: Date.now(), body: JSON.parse(data) });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/notify`;
    return this;
  }

  of(type: string, contextId?: string) {
    return this.received.filter(
      (r) => r.body.notificationType === type && (contextId === undefined || r.body.contextId === contextId),
    );
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

export interface World {
  tb: MecTestbed;
  op: RunningOperator;
  lcmp: RunningLcmp;
  tokens: Record<keyof typeof CLIENTS, string>;
  stop(): Promise<void>;
}

/** Testbed, operator, catalog, client registrations, an in-process LCMP and a token per client. */
export async function startWorld(
  prefix: string,
  apps: unknown[],
  lcmpOver: Record<string, string | number | boolean> = {},
  operatorOver: Record<string, string | number | boolean> = {},
): Promise<World> {
  const tb = await startMecTestbed({ namespace: `${prefix}-${Date.now().toString(36)}` });
  const op = await runOperator(tb, operatorOver);
  await tb.kubectl(['apply', '-f', '-'], apps.map((a) => toKubeYaml(a)).join('---\n'));
  for (const c of Object.values(CLIENTS)) await registerClient(tb, c);
  const lcmp = await runLcmp(tb, lcmpOver);
  const tokens = {
    ward: await tokenFor(lcmp.url, CLIENTS.ward),
    lab: await tokenFor(lcmp.url, CLIENTS.lab),
  };
  return {
    tb,
    op,
    lcmp,
    tokens,
    async stop() {
      await lcmp.stop();
      await op.stop();
      await tb.stop();
    },
  };
}
