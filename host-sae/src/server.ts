// The host SAE: one small process per MEC host, next to its OpenWhisk, in the host's perimeter. It
// alone holds the host SAE's QKD 014 identity and the QKD keys. The action wrapper (any container of
// any managed action) asks it, per invocation, for the two AES keys derived from a key for one
// envelope header; the SAE fetches the key with dec_keys on first use, enforces the key-use window
// (N sequence numbers, T seconds) and refuses a sequence number it has served before. So one key
// serves its N invocations in whichever containers run them, and a replay fails in all of them.
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '@mecqkd/common/logger';
import { sameSecret } from '@mecqkd/common/same-secret';
import { parseTraceparent } from '@mecqkd/common/trace';
import { createQkd014Client, type Qkd014Client, Qkd014Error } from '@mecqkd/kme-sim/client';
import { deriveKey, type EnvelopeHeader, type RejectReason, responseHeader } from '@mecqkd/sdk/envelope';
import type { z } from 'zod';
import type { HostSaeConfig } from './config.ts';
import { claim, droppable, type HeldKey, holdKey } from './key-window.ts';
import { createHostSaeMetrics, type HostSaeMetrics } from './metrics.ts';
import { type DeriveRequest, deriveRequestSchema, failureReportSchema, type Problem } from './protocol.ts';

const MAX_BODY = 16 * 1024;

class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly reason?: RejectReason,
  ) {
    super(detail);
  }
}

const STATUS_OF: Record<RejectReason, number> = {
  malformed: 400,
  'unsupported-version': 400,
  'wrong-direction': 400,
  'wrong-binding': 409,
  'sequence-exhausted': 409,
  replay: 409,
  'unknown-key': 404,
  'key-expired': 410,
  'authentication-failed': 400,
};

const refused = (reason: RejectReason, detail: string) =>
  new ProblemError(STATUS_OF[reason], 'Envelope refused', detail, reason);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () =>
      size > MAX_BODY
        ? reject(new ProblemError(413, 'Payload too large', `bodies are limited to ${MAX_BODY} bytes`))
        : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

function parseJson<T>(body: Buffer, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ProblemError(400, 'Bad request', 'the body is not JSON', 'malformed');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProblemError(
      400,
      'Bad request',
      `${issue?.path.join('.') || 'body'}: ${issue?.message}`,
      'malformed',
    );
  }
  return parsed.data;
}

export interface KeyService {
  derive(req: DeriveRequest): Promise<{ requestKey: Buffer; responseKey: Buffer }>;
  sweep(): void;
  held(): number;
}

/** The key window over a QKD 014 client: single-flight dec_keys per key ID, then claims. */
export function createKeyService(
  kme: Qkd014Client,
  lifetimeMs: number,
  metrics: HostSaeMetrics,
  now: () => number = Date.now,
): KeyService {
  const keys = new Map<string, HeldKey>();
  const fetching = new Map<string, Promise<HeldKey>>();

  async function fetchKey(header: EnvelopeHeader, invocationsPerKey: number): Promise<HeldKey> {
    let container: Awaited<ReturnType<Qkd014Client['decKeys']>>;
    try {
      container = await kme.decKeys(header.clientSaeId, [header.keyId]);
    } catch (err) {
      if (err instanceof Qkd014Error && (err.status === 400 || err.status === 401))
        throw refused(
          'unknown-key',
          `the host KME has no key ${header.keyId} for this SAE from ${header.clientSaeId} (unknown, already delivered, or not shared with it)`,
        );
      throw new ProblemError(
        503,
        'KME unavailable',
        `dec_keys at the host KME failed: ${(err as Error).message}`,
      );
    }
    const k = container.keys.find((x) => x.key_ID === header.keyId);
    if (!k) throw new ProblemError(502, 'Bad KME answer', `the host KME did not return key ${header.keyId}`);
    metrics.keysFetched.inc();
    return holdKey(header.keyId, Buffer.from(k.key, 'base64'), header, invocationsPerKey, now());
  }

  async function keyFor(header: EnvelopeHeader, invocationsPerKey: number): Promise<HeldKey> {
    const known = keys.get(header.keyId);
    if (known) return known;
    let pending = fetching.get(header.keyId);
    if (!pending) {
      pending = fetchKey(header, invocationsPerKey).then((k) => {
        keys.set(k.keyId, k);
        return k;
      });
      pending.finally(() => fetching.delete(header.keyId)).catch(() => undefined);
      fetching.set(header.keyId, pending);
    }
    return pending;
  }

  function retire(k: HeldKey): void {
    metrics.invocationsPerKey.observe(k.usedCount);
  }

  return {
    async derive({ header, invocationsPerKey }) {
      const k = await keyFor(header, invocationsPerKey);
      const hadMaterial = k.material !== undefined;
      const c = claim(k, header, now(), lifetimeMs);
      if (hadMaterial && !k.material) retire(k);
      if (!c.ok) throw refused(c.reason, c.message);
      try {
        metrics.invocations.inc();
        return {
          requestKey: deriveKey(c.material, header),
          responseKey: deriveKey(c.material, responseHeader(header)),
        };
      } finally {
        c.material.fill(0);
      }
    },
    sweep() {
      const t = now();
      for (const [id, k] of keys) {
        if (k.material && t - k.fetchedAt >= lifetimeMs) {
          k.material.fill(0);
          k.material = undefined;
          retire(k);
        }
        if (droppable(k, t, lifetimeMs)) keys.delete(id);
      }
      metrics.keysHeld.set([...keys.values()].filter((k) => k.material).length);
    },
    held: () => [...keys.values()].filter((k) => k.material).length,
  };
}

function send(res: ServerResponse, status: number, body?: unknown, type = 'application/json'): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function problem(res: ServerResponse, err: ProblemError): void {
  const body: Problem = {
    type: err.reason ? `urn:mecqkd:envelope:${err.reason}` : 'about:blank',
    title: err.title,
    status: err.status,
    detail: err.message,
    ...(err.reason ? { reason: err.reason } : {}),
  };
  send(res, err.status, body, 'application/problem+json');
}

export interface RunningHostSae {
  url: string;
  opsUrl: string;
  metrics: HostSaeMetrics;
  keys: KeyService;
  close(): Promise<void>;
}

export async function startHostSae(config: HostSaeConfig, log?: Logger): Promise<RunningHostSae> {
  const logger = log ?? createLogger('host-sae', config.logLevel);
  const secret = readFileSync(config.wrapperSecretFile, 'utf8').trim();
  if (secret.length < 32)
    throw new Error(`the wrapper secret in ${config.wrapperSecretFile} is shorter than 32 characters`);
  const metrics = createHostSaeMetrics(config.saeId);
  const kme = createQkd014Client({
    url: config.kme.url,
    ca: readFileSync(config.kme.ca),
    cert: readFileSync(config.kme.cert),
    key: readFileSync(config.kme.key),
  });
  const lifetimeMs = config.keyLifetimeSeconds * 1000;
  const keys = createKeyService(kme, lifetimeMs, metrics);
  const sweeper = setInterval(() => keys.sweep(), Math.min(lifetimeMs / 4, 10_000));
  sweeper.unref();

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://host-sae').pathname;
    if (req.method !== 'POST' || (path !== '/v1/derive' && path !== '/v1/failures'))
      throw new ProblemError(404, 'Not found', `no route ${req.method} ${path}`);
    const bearer = req.headers.authorization?.match(/^Bearer (\S+)$/)?.[1];
    if (!bearer || !sameSecret(bearer, secret))
      throw new ProblemError(401, 'Unauthorized', 'the wrapper secret is missing or wrong');
    const body = await readBody(req);
    if (path === '/v1/failures') {
      const { reason } = parseJson(body, failureReportSchema);
      metrics.failures.inc({ reason });
      return send(res, 204);
    }
    const asked = parseJson(body, deriveRequestSchema);
    const derived = await keys.derive(asked);
    const traceId = parseTraceparent(req.headers.traceparent)?.traceId;
    // per invocation only when traced, so that an untraced hot path writes no log line
    if (traceId) {
      const { contextId, keyId, seq, action } = asked.header;
      logger.info('Derived keys for an invocation', { traceId, contextId, keyId, seq, action });
    }
    try {
      send(res, 200, {
        requestKey: derived.requestKey.toString('base64'),
        responseKey: derived.responseKey.toString('base64'),
      });
    } finally {
      derived.requestKey.fill(0);
      derived.responseKey.fill(0);
    }
  }

  const server: Server = createHttpsServer(
    { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key), minVersion: 'TLSv1.2' },
    (req, res) => {
      route(req, res).catch((err: unknown) => {
        req.resume();
        if (err instanceof ProblemError) {
          if (err.reason) metrics.failures.inc({ reason: err.reason });
          if (err.status >= 500 || err.status === 401)
            logger.warn('wrapper request failed', { status: err.status, detail: err.message });
          return problem(res, err);
        }
        logger.error('wrapper request failed', { error: (err as Error).message });
        problem(res, new ProblemError(500, 'Internal error', 'the host SAE failed; see its log'));
      });
    },
  );
  server.keepAliveTimeout = 65_000;
  // Wrappers keep their connections: a count rising with invocations means keep-alive is lost.
  server.on('secureConnection', () => metrics.tlsHandshakes.inc());
  const ops = createHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://ops').pathname;
    if (path === '/healthz') return send(res, 200, { ok: true, keysHeld: keys.held() });
    if (path === '/metrics') {
      keys.sweep();
      void metrics.registry.metrics().then((text) => send(res, 200, text, metrics.registry.contentType));
      return;
    }
    send(res, 404, { title: 'Not found', status: 404 });
  });
  const listen = (s: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, config.host, () => resolve((s.address() as AddressInfo).port));
    });
  const port = await listen(server, config.port);
  const opsPort = await listen(ops, config.opsPort);
  const url = `https://${config.host}:${port}`;
  const opsUrl = `http://${config.host}:${opsPort}`;
  logger.info('host SAE listening', { saeId: config.saeId, url, opsUrl, kme: config.kme.url });
  return {
    url,
    opsUrl,
    metrics,
    keys,
    close: async () => {
      clearInterval(sweeper);
      kme.close();
      await Promise.all(
        [server, ops].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
