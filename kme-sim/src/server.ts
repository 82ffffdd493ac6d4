// The listeners of one KME. HTTPS (mutual TLS, TLS 1.2 and 1.3): QKD 014 for SAEs, the KME↔KME channel for
// neighbouring KMEs, read-only telemetry for any holder of a certificate from the CA, and the admin endpoint
// (links cut, drained, restored) for the certificate CNs in the KME's `admins`. Optional plain HTTP on
// 127.0.0.1 ("ops"): telemetry and a health probe only, so it can be opened to scrapers and probes.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { metricsWithProcess } from '@mecqkd/common/process-metrics';
import { z } from 'zod';
import { type ChannelFailure, STREAM_PROTOCOL, serveStream } from './channel-stream.ts';
import type { KmeContext } from './context.ts';
import {
  CHANNEL_PREFIX,
  ForwardBatch,
  type ForwardResult,
  Hello,
  MAX_MESSAGE_BYTES,
  RouteStockRequest,
  STREAM_PATH,
  Void,
} from './kme-channel.ts';
import { type Link, LinkAdjustment } from './link.ts';
import { type LinksResponse, linkStatus } from './link-status.ts';
import { PROBLEM_JSON, problem } from './problem.ts';
import { KmeError } from './qkd014/errors.ts';
import { getKey, getKeyWithIds, getStatus } from './qkd014/handlers.ts';
import { appQosProblem, type SaeQos, SaeQosChange } from './quota.ts';
import { receive, routeStock, withdraw } from './relay.ts';

// Far above any valid QKD 014 request; bounds what a client can make a KME buffer.
const MAX_BODY = 1 << 20;
const QKD_PATH = /^\/api\/v1\/keys\/([^/]*)\/(status|enc_keys|dec_keys)$/;
const ALLOW: Record<string, string> = { status: 'GET', enc_keys: 'GET, POST', dec_keys: 'GET, POST' };
const ADMIN_PREFIX = '/mecqkd/v1/admin/';
const ADMIN_LINK = /^\/mecqkd\/v1\/admin\/links\/([^/]+)$/;
const ADMIN_SAE_QOS = /^\/mecqkd\/v1\/admin\/saes\/([^/]+)\/app_qos$/;

export type AdjustBothEnds = (link: Link, change: LinkAdjustment) => Promise<void>;

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, err: KmeError): void {
  const headers: Record<string, string> = {};
  if (err.extra.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.extra.retryAfterSeconds);
  if (err.extra.allow) headers.allow = err.extra.allow;
  send(res, err.status, err.body(), headers);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new KmeError(400, `request body exceeds ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new KmeError(400, 'SAE ID in the path is not valid percent-encoding');
  }
}

function parseJson<T>(schema: z.ZodType<T>, body: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new KmeError(400, 'request body is not valid JSON');
  }
  return validate(schema, json);
}

function validate<T>(schema: z.ZodType<T>, json: unknown): T {
  const r = schema.safeParse(json);
  if (!r.success) throw new KmeError(400, `invalid request: ${z.prettifyError(r.error)}`);
  return r.data;
}

const identities = new WeakMap<object, string | undefined>();

/** Subject CN of a verified client certificate, cached per TLS connection. */
function commonName(req: IncomingMessage): string | undefined {
  const socket = req.socket as TLSSocket;
  if (identities.has(socket)) return identities.get(socket);
  let cn: string | undefined;
  if (socket.authorized) {
    const subject = socket.getPeerCertificate().subject as Record<string, string | string[]> | undefined;
    const value = subject?.CN;
    cn = Array.isArray(value) ? value[0] : value;
  }
  identities.set(socket, cn);
  return cn;
}

function linksResponse(ctx: KmeContext): LinksResponse {
  return { kmeId: ctx.kmeId, links: [...ctx.links.values()].map((l) => linkStatus(l, ctx.cfg.keySize)) };
}

async function routeResponse(ctx: KmeContext, target: string) {
  const route = ctx.topology.route(ctx.kmeId, target);
  if (!route || route.length < 2)
    throw new KmeError(404, `no QKD path from KME ${ctx.kmeId} to KME ${target}`);
  const stock = await routeStock(ctx, route);
  return {
    route,
    type: route.length > 2 ? 'VIRT' : 'PHYS',
    ...stock,
    keyAvailability: Math.min(1, stock.storedBits / stock.capacityBits),
  };
}

/** Telemetry served on both listeners; returns false when the path is not a telemetry path. */
async function telemetry(ctx: KmeContext, req: IncomingMessage, res: ServerResponse, path: string) {
  if (req.method !== 'GET') return false;
  if (path === '/metrics') {
    const text = await metricsWithProcess(ctx.metrics.registry);
    res.writeHead(200, { 'content-type': ctx.metrics.registry.contentType });
    res.end(text);
    return true;
  }
  if (path === '/mecqkd/v1/links') {
    send(res, 200, linksResponse(ctx));
    return true;
  }
  const route = /^\/mecqkd\/v1\/routes\/([^/]+)$/.exec(path);
  if (route) {
    send(res, 200, await routeResponse(ctx, decodeSegment(route[1] as string)));
    return true;
  }
  return false;
}

async function qkd014(
  ctx: KmeContext,
  req: IncomingMessage,
  res: ServerResponse,
  m: RegExpExecArray,
  url: URL,
) {
  const method = m[2] as 'status' | 'enc_keys' | 'dec_keys';
  const cn = commonName(req);
  const caller = cn === undefined ? undefined : ctx.topology.saeForCommonName(ctx.kmeId, cn);
  let pathSae: string | undefined;
  let status = 200;
  try {
    pathSae = decodeSegment(m[1] as string);
    if (!ALLOW[method]?.split(', ').includes(req.method ?? '')) {
      throw new KmeError(405, `method ${req.method} is not allowed on ${method}`, {
        allow: ALLOW[method] as string,
      });
    }
    if (caller === undefined) {
      throw new KmeError(
        401,
        cn === undefined ? 'client certificate missing or not trusted' : `unknown SAE ${cn}`,
      );
    }
    const raw = { method: req.method as string, query: url.searchParams, body: await readBody(req) };
    const body =
      method === 'status'
        ? await getStatus(ctx, caller, pathSae)
        : method === 'enc_keys'
          ? await getKey(ctx, caller, pathSae, raw)
          : getKeyWithIds(ctx, caller, pathSae, raw);
    send(res, 200, body);
  } catch (err) {
    const e =
      err instanceof KmeError ? err : new KmeError(503, 'key data access error', { retryAfterSeconds: 5 });
    if (!(err instanceof KmeError))
      ctx.log.error('QKD 014 request failed', { method, error: (err as Error).message });
    else if (e.status >= 500 && !e.extra.quiet)
      ctx.log.warn('QKD 014 request refused', { method, caller, message: e.message });
    status = e.status;
    sendError(res, e);
  }
  // Labels name known SAEs only: path segments are caller-controlled.
  const known = (id: string | undefined) => (id !== undefined && ctx.topology.kmeOfSae(id) ? id : 'unknown');
  const [master, slave] = method === 'dec_keys' ? [pathSae, caller] : [caller, pathSae];
  ctx.metrics.request(method, status, known(master), known(slave));
}

function forwardResult(ctx: KmeContext, s: PromiseSettledResult<void>): ForwardResult {
  if (s.status === 'fulfilled') return { ok: true };
  if (s.reason instanceof KmeError) {
    const r = s.reason;
    return {
      ok: false,
      status: r.status,
      message: r.message,
      ...(r.extra.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: r.extra.retryAfterSeconds }),
    };
  }
  ctx.log.error('relay failed', { error: (s.reason as Error).message });
  return { ok: false, status: 503, message: 'relay failed' };
}

function peerLink(ctx: KmeContext, req: IncomingMessage): Link {
  const cn = commonName(req);
  const link = cn === undefined ? undefined : ctx.links.get(cn);
  if (!link) throw new KmeError(401, `${cn ?? 'an unauthenticated client'} is not a neighbouring KME`);
  return link;
}

/** One KME↔KME channel operation from the neighbour at the other end of `link`; returns the answer body. */
async function channelOp(ctx: KmeContext, link: Link, op: string, body: unknown): Promise<unknown> {
  if (op === 'hello') {
    const m = validate(Hello, body);
    if (m.linkId !== link.id)
      throw new KmeError(400, `link ${m.linkId} does not join ${link.remoteKme} and us`);
    link.activate();
    return { kmeId: ctx.kmeId };
  }
  if (op === 'keys') {
    const { forwards } = validate(ForwardBatch, body);
    const settled = await Promise.allSettled(forwards.map((f) => receive(ctx, link.remoteKme, f)));
    return { results: settled.map((s) => forwardResult(ctx, s)) };
  }
  if (op === 'void') {
    const m = validate(Void, body);
    if (m.route[m.route.indexOf(ctx.kmeId) - 1] !== link.remoteKme)
      throw new KmeError(400, 'void off its route');
    await withdraw(ctx, m.route, m.keyIds);
    return {};
  }
  if (op === 'route-stock') return routeStock(ctx, validate(RouteStockRequest, body).route);
  const adjust = /^links\/([^/]+)\/adjust$/.exec(op);
  if (adjust && decodeSegment(adjust[1] as string) === link.id) {
    link.adjust(validate(LinkAdjustment, body));
    return {};
  }
  throw new KmeError(404, `no KME channel operation ${op}`);
}

function channelFailure(ctx: KmeContext, err: unknown): ChannelFailure {
  if (err instanceof KmeError) {
    const { retryAfterSeconds } = err.extra;
    return {
      status: err.status,
      message: err.message,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    };
  }
  ctx.log.error('KME channel operation failed', { error: (err as Error).message });
  return { status: 500, message: 'internal error' };
}

/** Accepts a neighbour's channel stream (the only use of Upgrade on this listener); refuses anything else. */
function upgrade(ctx: KmeContext, req: IncomingMessage, socket: Socket, head: Buffer): void {
  try {
    const link = peerLink(ctx, req);
    if (req.url !== STREAM_PATH || req.headers.upgrade !== STREAM_PROTOCOL)
      throw new KmeError(400, `only ${STREAM_PROTOCOL} at ${STREAM_PATH} may be upgraded to`);
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: ${STREAM_PROTOCOL}\r\n\r\n`,
    );
    serveStream(
      socket,
      head,
      MAX_MESSAGE_BYTES,
      (op, body) => channelOp(ctx, link, op, body),
      (err) => channelFailure(ctx, err),
    );
  } catch (err) {
    const { status, message } = channelFailure(ctx, err);
    const text = JSON.stringify({ message });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  }
}

function sendProblem(
  res: ServerResponse,
  status: number,
  detail: string,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(problem(status, detail));
  res.writeHead(status, {
    'content-type': PROBLEM_JSON,
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Who may steer links: a client certificate from the CA whose CN is one of this KME's `admins`. */
function authoriseAdmin(ctx: KmeContext, req: IncomingMessage): string {
  const cn = commonName(req);
  if (cn === undefined)
    throw new KmeError(401, "the admin endpoint needs a client certificate from the KME's CA");
  if (!ctx.cfg.admins.includes(cn)) throw new KmeError(403, `${cn} is not an admin of KME ${ctx.kmeId}`);
  return cn;
}

/** One admin request from an authorised admin: the answer, and the change to log when it made one. */
async function adminOp(
  ctx: KmeContext,
  req: IncomingMessage,
  path: string,
  adjustBothEnds: AdjustBothEnds,
): Promise<{ body: unknown; changed?: [string, Record<string, unknown>] }> {
  const linkPath = ADMIN_LINK.exec(path);
  if (linkPath) {
    if (req.method !== 'POST') throw new KmeError(405, 'admin takes POST', { allow: 'POST' });
    const id = decodeSegment(linkPath[1] as string);
    const link = [...ctx.links.values()].find((l) => l.id === id);
    if (!link) throw new KmeError(404, `KME ${ctx.kmeId} has no link ${id}`);
    const change = parseJson(LinkAdjustment, await readBody(req));
    await adjustBothEnds(link, change);
    return {
      body: linkStatus(link, ctx.cfg.keySize),
      changed: ['QKD link adjusted', { linkId: link.id, change }],
    };
  }
  const qosPath = ADMIN_SAE_QOS.exec(path);
  if (qosPath) {
    if (req.method !== 'GET' && req.method !== 'POST')
      throw new KmeError(405, 'app_qos takes GET or POST', { allow: 'GET, POST' });
    const saeId = decodeSegment(qosPath[1] as string);
    if (!ctx.cfg.saes.some((s) => s.id === saeId))
      throw new KmeError(404, `SAE ${saeId} is not attached to KME ${ctx.kmeId}`);
    const answer = (): SaeQos => ({ saeId, appQos: ctx.quotas.get(saeId) ?? null });
    if (req.method === 'GET') return { body: answer() };
    const { appQos } = parseJson(SaeQosChange, await readBody(req));
    const invalid = appQos && appQosProblem(appQos, ctx.cfg.keySize);
    if (invalid) throw new KmeError(400, `invalid request: appQos.${invalid}`);
    ctx.quotas.set(saeId, appQos ?? undefined);
    return { body: answer(), changed: ['SAE key quota set', { saeId, appQos }] };
  }
  throw new KmeError(404, `no admin route ${path}`);
}

/** Everything under /mecqkd/v1/admin/: the caller authorised first, errors as ProblemDetails. */
async function admin(
  ctx: KmeContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  adjustBothEnds: AdjustBothEnds,
): Promise<void> {
  let admin: string | undefined;
  try {
    admin = authoriseAdmin(ctx, req);
    const { body, changed } = await adminOp(ctx, req, path, adjustBothEnds);
    if (changed) ctx.log.info(changed[0], { admin, ...changed[1] });
    send(res, 200, body);
  } catch (err) {
    req.resume();
    if (!(err instanceof KmeError)) {
      ctx.log.error('admin request failed', { admin, error: (err as Error).message });
      return sendProblem(res, 500, 'internal error');
    }
    if (err.status === 401 || err.status === 403)
      ctx.log.warn('admin request refused', { status: err.status, reason: err.message });
    sendProblem(res, err.status, err.message, err.extra.allow ? { allow: err.extra.allow } : {});
  }
}

function handleErrors(ctx: KmeContext, res: ServerResponse, err: unknown): void {
  if (err instanceof KmeError) {
    const body =
      err.extra.retryAfterSeconds === undefined
        ? err.body()
        : { ...err.body(), retryAfterSeconds: err.extra.retryAfterSeconds };
    send(res, err.status, body, err.extra.allow ? { allow: err.extra.allow } : {});
    return;
  }
  ctx.log.error('request failed', { error: (err as Error).message });
  send(res, 500, { message: 'internal error' });
}

/** The HTTPS listener; `destroyStreams` ends the neighbours' channel streams, which `close` waits for. */
export function createKmeServer(
  ctx: KmeContext,
  tls: { cert: Buffer; key: Buffer; ca: Buffer },
  adjustBothEnds: AdjustBothEnds,
) {
  const server = createHttpsServer(
    { ...tls, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2', keepAliveTimeout: 30_000 },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'https://kme');
      const qkd = QKD_PATH.exec(url.pathname);
      if (qkd) return void qkd014(ctx, req, res, qkd, url).catch((err) => handleErrors(ctx, res, err));
      if (url.pathname.startsWith(ADMIN_PREFIX))
        return void admin(ctx, req, res, url.pathname, adjustBothEnds);
      void (async () => {
        if (url.pathname.startsWith(CHANNEL_PREFIX)) {
          peerLink(ctx, req);
          throw new KmeError(
            404,
            `the KME channel is a ${STREAM_PROTOCOL} stream: upgrade GET ${STREAM_PATH}`,
          );
        }
        if (commonName(req) === undefined)
          throw new KmeError(401, 'client certificate missing or not trusted');
        if (!(await telemetry(ctx, req, res, url.pathname)))
          throw new KmeError(404, `no route ${url.pathname}`);
      })().catch((err) => handleErrors(ctx, res, err));
    },
  );
  const streams = new Set<Socket>();
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    streams.add(socket);
    socket.once('close', () => streams.delete(socket));
    upgrade(ctx, req, socket, head);
  });
  return {
    server,
    destroyStreams: () => {
      for (const s of streams) s.destroy();
    },
  };
}

/** Plain HTTP on loopback unless opsHost says otherwise: telemetry and /healthz, nothing that changes state. */
export function createOpsServer(ctx: KmeContext) {
  return createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://ops');
    void (async () => {
      if (url.pathname === '/healthz' && req.method === 'GET') {
        const links = [...ctx.links.values()].map((l) => ({ id: l.id, status: l.state() }));
        return send(res, 200, { kmeId: ctx.kmeId, links });
      }
      if (url.pathname.startsWith(ADMIN_PREFIX)) {
        req.resume();
        ctx.log.warn('admin request refused', { status: 403, reason: 'on the ops listener' });
        return sendProblem(
          res,
          403,
          'the admin endpoint is not served on the ops port: use the HTTPS port with an admin client certificate',
        );
      }
      if (!(await telemetry(ctx, req, res, url.pathname)))
        throw new KmeError(404, `no route ${url.pathname}`);
    })().catch((err) => handleErrors(ctx, res, err));
  });
}
