// The whisk-sim HTTP server: routes of the OpenWhisk controller (info, admin, metrics, /api/v1), basic
// auth with the controller's 401/403 answers, the `_` namespace alias, CORS, and the error envelope
// `{error, code}` where `code` is the transaction id.
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createLogger, type Logger } from '@mecqkd/common/logger';
import { createCa, issueCertificate } from '@mecqkd/common/pki';
import { metricsWithProcess } from '@mecqkd/common/process-metrics';
import { createActivationStore } from './activations.ts';
import { handleActions } from './api/actions.ts';
import { handleActivations } from './api/activations.ts';
import { apiInfo, deploymentInfo } from './api/info.ts';
import { handleWeb, WEB_PREFIX } from './api/web.ts';
import { createAuthenticator } from './auth.ts';
import { type Config, type ConfigInput, type NamespaceConfig, parseConfig, throttlesFor } from './config.ts';
import { createActionStore } from './entities/actions.ts';
import { HttpError, messages } from './errors.ts';
import { randomId } from './ids.ts';
import { createInvoker } from './invoke.ts';
import { createMetrics } from './metrics.ts';
import { createExecutor } from './runtime/execute.ts';
import { createPool } from './runtime/pool.ts';
import { runnerScript } from './runtime/runner-script.ts';
import { loadRuntimes } from './runtimes.ts';
import { createThrottle } from './throttle.ts';

/** Largest request body read at all (OpenWhisk's action code limit); invoke bodies are capped lower. */
const MAX_BODY_BYTES = 48 * 1024 * 1024;

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, DELETE, POST, PUT, HEAD',
  'access-control-allow-headers': 'Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent',
};

export interface ApiRequest {
  method: string;
  /** Path segments after /api/v1/namespaces/{ns}/, URL-decoded. */
  segments: string[];
  query: URLSearchParams;
  body: Buffer;
  contentType: string;
  caller: NamespaceConfig;
  /** The namespace addressed, with `_` resolved. */
  namespace: string;
  transactionId: string;
}

export interface ApiReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Services = ReturnType<typeof createServices>;

function createServices(config: Config, apiHost: () => string, logger: Logger) {
  const runtimes = loadRuntimes(config.runtimesFile);
  const actions = createActionStore({ runtimes, limits: config.limits });
  const activations = createActivationStore({
    maxRecords: config.maxActivations,
    retentionMs: config.activationRetentionSeconds * 1000,
  });
  // The closures below reach `metrics` and `invoker` only once requests flow, after both exist.
  const pool = createPool({
    capacityMb: config.capacityMb,
    idleMs: config.idleContainerMs,
    apiHost,
    onStart: (state) => metrics.containerStarted(state),
  });
  const metrics = createMetrics({
    capacityMb: config.capacityMb,
    pool: () => pool.stats(),
    inflight: () => invoker.inflight(),
  });
  const throttle = createThrottle((ns, kind) => metrics.throttled(ns, kind));
  const execute = createExecutor({
    pool,
    maxResultBytes: config.limits.maxPayloadBytes,
    containerStartTimeoutMs: config.containerStartTimeoutMs,
  });
  const invoker = createInvoker({ config, execute, activations, throttle, metrics, logger });
  const authenticate = createAuthenticator(config.namespaces);
  return { config, runtimes, actions, activations, pool, metrics, invoker, authenticate };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) reject(new HttpError(413, messages.payloadTooLarge(size, MAX_BODY_BYTES)));
      else resolve(Buffer.concat(chunks, size));
    });
    req.on('error', reject);
  });
}

function decodeSegments(path: string): string[] {
  try {
    return path.split('/').map(decodeURIComponent);
  } catch {
    throw new HttpError(400, messages.malformed(`invalid URL path ${path}`));
  }
}

async function routeApi(services: Services, req: IncomingMessage, url: URL, tid: string): Promise<ApiReply> {
  const method = req.method ?? 'GET';
  const caller = services.authenticate(req.headers.authorization);
  const rest = url.pathname.replace(/^\/api\/v1\/?/, '');
  if (rest === 'namespaces' || rest === 'namespaces/') {
    if (method !== 'GET') throw new HttpError(405, 'HTTP method not allowed, supported methods: GET');
    return { status: 200, body: [caller.name] };
  }
  const parts = decodeSegments(rest);
  if (parts[0] !== 'namespaces' || parts.length < 3) throw new HttpError(404, messages.notFound);
  const [, rawNs, collection, ...segments] = parts as [string, string, string, ...string[]];
  const namespace = rawNs === '_' ? caller.name : rawNs;
  if (namespace !== caller.name) {
    const entity = segments.filter(Boolean).join('/');
    throw new HttpError(403, entity ? messages.notAuthorizedFor(namespace, entity) : messages.notAuthorized);
  }
  const api: ApiRequest = {
    method,
    segments: segments.length === 1 && segments[0] === '' ? [] : segments,
    query: url.searchParams,
    body: await readBody(req),
    contentType: req.headers['content-type'] ?? '',
    caller,
    namespace,
    transactionId: tid,
  };
  switch (collection) {
    case 'actions':
      return handleActions(services, api);
    case 'activations':
      return handleActivations(services, api);
    case 'limits': {
      const t = throttlesFor(services.config, caller);
      return {
        status: 200,
        body: {
          invocationsPerMinute: t.invocationsPerMinute,
          concurrentInvocations: t.concurrentInvocations,
          firesPerMinute: t.firesPerMinute,
        },
      };
    }
    default:
      throw new HttpError(404, messages.notFound);
  }
}

async function route(services: Services, req: IncomingMessage, url: URL, tid: string): Promise<ApiReply> {
  const path = url.pathname;
  if (path === '/api/v1' || path === '/api/v1/') return { status: 200, body: apiInfo() };
  if (path.startsWith(WEB_PREFIX)) {
    if (req.method === 'OPTIONS') return { status: 200, body: '' };
    return handleWeb(services, req, url, await readBody(req), tid);
  }
  if (path.startsWith('/api/v1/')) {
    if (req.method === 'OPTIONS') return { status: 200, body: '' };
    return routeApi(services, req, url, tid);
  }
  if (req.method !== 'GET') throw new HttpError(404, messages.notFound);
  const { invoker, metrics, config, runtimes } = services;
  switch (path) {
    case '/':
      return { status: 200, body: deploymentInfo(config, runtimes) };
    case '/ping':
      return { status: 200, body: 'pong' };
    case '/metrics':
      return {
        status: 200,
        body: await metricsWithProcess(metrics.registry),
        headers: { 'content-type': metrics.registry.contentType },
      };
    case '/invokers':
      return { status: 200, body: { 'invoker0/0': 'up' } };
    case '/invokers/healthy/count':
      return { status: 200, body: 1 };
    case '/invokers/ready':
      return { status: 200, body: { 'invoker0/0': 'up' } };
    case '/activation/count':
      return { status: 200, body: invoker.inflight().count };
    default:
      throw new HttpError(404, messages.notFound);
  }
}

function send(res: ServerResponse, reply: ApiReply, cors: boolean): void {
  const raw = typeof reply.body === 'string' || Buffer.isBuffer(reply.body);
  const text = raw ? (reply.body as string | Buffer) : JSON.stringify(reply.body);
  const contentType = raw ? 'text/plain; charset=UTF-8' : 'application/json';
  res.writeHead(reply.status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    ...(cors ? CORS : {}),
    ...reply.headers,
  });
  res.end(text);
}

export interface WhiskSim {
  /** e.g. `http://127.0.0.1:3233`: what the openwhisk client takes as `apihost`. */
  url: string;
  port: number;
  services: Services;
  close(): Promise<void>;
}

async function tlsOptions(config: Config): Promise<{ cert: string; key: string } | undefined> {
  if (!config.tls) return undefined;
  if ('certFile' in config.tls) {
    return { cert: readFileSync(config.tls.certFile, 'utf8'), key: readFileSync(config.tls.keyFile, 'utf8') };
  }
  const ca = await createCa('whisk-sim self-signed CA');
  const leaf = await issueCertificate(ca, {
    commonName: 'whisk-sim',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    server: true,
  });
  // PEM blocks must start on a line of their own; the encoder ends them without a newline.
  return { cert: `${leaf.cert.trimEnd()}\n${ca.cert.trimEnd()}\n`, key: leaf.key };
}

/** Starts a whisk-sim in this process. */
/** Node's HTTP parser refused the request: say so in OpenWhisk's error envelope, not an empty 400. */
function answerUnparsable(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout']
        : [400, 'Bad Request'];
  const body = JSON.stringify({ error: messages.malformed(err.message), code: randomId() });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export async function startServer(input: ConfigInput | Config, log?: Logger): Promise<WhiskSim> {
  const config = parseConfig(input);
  const logger = log ?? createLogger('whisk-sim', config.logLevel);
  runnerScript(); // bundle now, so the first cold start does not pay for it
  let url = '';
  const services = createServices(config, () => config.apiHost ?? url, logger);
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const header = req.headers['x-request-id'];
    const tid = typeof header === 'string' && header ? header : randomId();
    const parsed = new URL(req.url ?? '/', 'http://whisk-sim');
    const cors = parsed.pathname.startsWith('/api/v1');
    route(services, req, parsed, tid).then(
      (reply) => send(res, reply, cors),
      (err: unknown) => {
        if (!(err instanceof HttpError)) {
          logger.error('request failed', {
            method: req.method,
            path: parsed.pathname,
            error: (err as Error).stack,
          });
        }
        const status = err instanceof HttpError ? err.status : 500;
        const message = err instanceof HttpError ? err.message : 'Internal Server Error';
        const headers = err instanceof HttpError ? err.headers : {};
        // The body may be unread when the request failed early; drain it so the socket stays usable.
        req.resume();
        send(res, { status, body: { error: message, code: tid }, headers }, cors);
      },
    );
  };
  const tls = await tlsOptions(config);
  const server: Server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
  server.keepAliveTimeout = 65_000;
  server.on('clientError', answerUnparsable);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  url = `${tls ? 'https' : 'http'}://${config.host}:${port}`;
  logger.info('whisk-sim listening', {
    url,
    namespaces: config.namespaces.map((n) => n.name),
    capacityMb: config.capacityMb,
  });
  return {
    url,
    port,
    services,
    close: () =>
      new Promise<void>((resolve) => {
        services.pool.shutdown();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
