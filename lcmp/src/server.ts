// The HTTP(S) front: fastify with the Mx2 routes under /dev_app/v1, the token endpoint, the OpenAPI
// document, request ids, metrics and one error path that turns everything into ProblemDetails —
// unknown paths (404), methods (405 + Allow), oversize bodies (413), other media types (415) — and
// never lets a stack trace out.
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, STATUS_CODES } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from '@mecqkd/common/logger';
import { childTraceparent, parseTraceparent } from '@mecqkd/common/trace';
import { KubeApiError } from '@mecqkd/kube/kube-errors';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { authenticate } from './auth/bearer.ts';
import type { ClientRegistration, ClientRegistry } from './auth/registry.ts';
import { issueToken, type TokenDeps } from './auth/token-endpoint.ts';
import type { Verify } from './auth/verifier.ts';
import { lcmpMetrics, type Operation } from './metrics.ts';
import {
  type Answer,
  createContext,
  deleteContext,
  listApps,
  type Mx2Deps,
  obtainLocations,
  updateContext,
} from './mx2/routes.ts';
import { fail, PROBLEM_JSON, type Problem, ProblemError, problem } from './problem.ts';
import type { RateLimiter } from './rate-limit.ts';

export const API_BASE = '/dev_app/v1';
export const OPENAPI_PATH = '/openapi/dev_app.json';
export const TOKEN_PATH = '/oauth2/token';

export interface ServerDeps {
  mx2: Mx2Deps;
  verify: Verify;
  registry: ClientRegistry;
  /** Present when the LCMP issues tokens itself. */
  token?: TokenDeps;
  openapi: (apiRoot: string) => unknown;
  publicUrl?: string;
  bodyLimit: number;
  limits: {
    rate: RateLimiter;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    maxConnections: number;
    maxConnectionsPerAddress: number;
  };
  https?: { key: Buffer; cert: Buffer; ca?: Buffer; requestCert: boolean };
  log: Logger;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    operation?: Operation;
  }
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

function sendProblem(reply: FastifyReply, p: Problem, headers: Record<string, string> = {}) {
  return reply
    .code(p.status)
    .headers(headers)
    .type(PROBLEM_JSON)
    .send({ ...p, instance: `urn:uuid:${reply.request.id}` });
}

function send(reply: FastifyReply, a: Answer) {
  reply.code(a.status).headers(a.headers ?? {});
  return a.body === undefined ? reply.send() : reply.type('application/json').send(a.body);
}

/** Maps what fastify and its parsers throw onto ProblemDetails; anything unexpected is a 500. */
function asProblem(err: unknown): { p: Problem; headers?: Record<string, string>; internal: boolean } {
  if (err instanceof ProblemError) return { p: err.problem, headers: err.headers, internal: false };
  if (err instanceof KubeApiError)
    return {
      p: problem(503, 'the MEC system is not available right now; try again later'),
      headers: { 'retry-after': '5' },
      internal: true,
    };
  const e = err as { statusCode?: number; code?: string; message?: string };
  const status = e.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const detail =
      status === 415
        ? 'the request body must be application/json'
        : status === 413
          ? 'the request body is too large'
          : status === 400 && e.code?.startsWith('FST_ERR_CTP')
            ? `the request body is not valid JSON`
            : (STATUS_CODES[status] ?? 'bad request');
    return { p: problem(status, detail), internal: false };
  }
  return { p: problem(500, 'internal error'), internal: true };
}

/** Closes connections beyond `max` from one remote address, before they cost a request. */
function guardConnections(app: FastifyInstance, max: number): void {
  const open = new Map<string, number>();
  app.server.on('connection', (socket) => {
    const from = socket.remoteAddress ?? '';
    const n = (open.get(from) ?? 0) + 1;
    if (n > max) {
      lcmpMetrics.connectionsRefused.inc();
      socket.destroy();
      return;
    }
    open.set(from, n);
    socket.once('close', () => {
      const left = (open.get(from) ?? 1) - 1;
      if (left > 0) open.set(from, left);
      else open.delete(from);
    });
  });
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const { limits } = deps;
  // Node enforces these deadlines only every connectionsCheckingInterval (30 s by default): checked
  // each second, a slow client (slowloris) loses its connection about when its deadline passes
  const timeouts = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    keepAliveTimeout: 5_000,
  };
  const tls = deps.https && {
    key: deps.https.key,
    cert: deps.https.cert,
    ...(deps.https.ca ? { ca: deps.https.ca } : {}),
    requestCert: deps.https.requestCert,
    rejectUnauthorized: deps.https.requestCert,
    minVersion: 'TLSv1.2' as const,
  };
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimit,
    requestTimeout: limits.requestTimeoutMs,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    serverFactory: (handler) =>
      tls ? createHttpsServer({ ...tls, ...timeouts }, handler) : createHttpServer(timeouts, handler),
  });
  app.server.maxConnections = limits.maxConnections;
  guardConnections(app, limits.maxConnectionsPerAddress);
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('client', null);

  const apiRoot = (req: FastifyRequest) =>
    deps.publicUrl?.replace(/\/$/, '') ?? `${req.protocol}://${req.host}`;
  const timings = new WeakMap<FastifyRequest, number>();
  // the caller's W3C trace, continued in a span of the LCMP's; a new trace when it sent none
  const traces = new WeakMap<FastifyRequest, string>();
  const traceparent = (req: FastifyRequest) => traces.get(req)!;
  app.addHook('onRequest', async (req, reply) => {
    timings.set(req, performance.now());
    traces.set(req, childTraceparent(parseTraceparent(req.headers.traceparent)?.traceId));
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    const operation = req.routeOptions.config.operation ?? 'unmatched';
    const status = String(reply.statusCode);
    const seconds = (performance.now() - (timings.get(req) ?? performance.now())) / 1000;
    lcmpMetrics.requests.labels(operation, status).inc();
    lcmpMetrics.latency.labels(operation, status).observe(seconds);
    // method, route and outcome only: neither headers (tokens) nor bodies reach the log
    deps.log.info('Request', {
      requestId: req.id,
      traceId: parseTraceparent(traces.get(req))?.traceId,
      method: req.method,
      route: req.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
      ms: Math.round(seconds * 10_000) / 10,
      client: (req as FastifyRequest & { client?: ClientRegistration | null }).client?.clientId,
    });
  });

  app.setErrorHandler((err, req, reply) => {
    const { p, headers, internal } = asProblem(err);
    if (internal)
      deps.log.error('Request failed', {
        requestId: req.id,
        route: req.routeOptions.url,
        error: err instanceof Error ? err.message : String(err),
      });
    return sendProblem(reply, p, headers);
  });
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, problem(404, `no resource at ${req.url.split('?')[0]}`)),
  );

  const overBudget = (who: string, what: string) => {
    const wait = limits.rate.take(who);
    if (wait > 0)
      throw fail(429, `too many requests from ${what}; try again in ${wait} s`, {
        'retry-after': String(wait),
      });
  };
  const client = async (req: FastifyRequest) => {
    let c: ClientRegistration;
    try {
      c = await authenticate(req.headers.authorization, deps.verify, deps.registry);
    } catch (err) {
      // failed attempts are paid for by the address they come from
      overBudget(`address ${req.ip}`, 'this address');
      throw err;
    }
    (req as FastifyRequest & { client?: ClientRegistration }).client = c;
    overBudget(`client ${c.clientId}`, 'this client');
    return c;
  };

  /** One path: its handlers, and 405 with Allow for every other method. */
  const resource = (
    url: string,
    handlers: Partial<
      Record<
        (typeof METHODS)[number],
        { operation: Operation; run: (req: FastifyRequest) => Answer | Promise<Answer> }
      >
    >,
  ) => {
    const allowed = Object.keys(handlers);
    if (allowed.includes('GET')) allowed.push('HEAD');
    for (const [method, h] of Object.entries(handlers)) {
      app.route({
        method: method as (typeof METHODS)[number],
        url,
        config: { operation: h.operation },
        handler: async (req, reply) => send(reply, await h.run(req)),
      });
    }
    const others = METHODS.filter((m) => !allowed.includes(m));
    app.route({
      method: others,
      url,
      handler: (req, reply) =>
        sendProblem(reply, problem(405, `${req.method} is not defined on ${url}`), {
          allow: allowed.join(', '),
        }),
    });
  };

  const mx2 = deps.mx2;
  const param = (req: FastifyRequest) => (req.params as { contextId: string }).contextId;
  resource(`${API_BASE}/app_list`, {
    GET: { operation: 'app_list', run: async (req) => listApps(mx2, await client(req), req.query) },
  });
  resource(`${API_BASE}/app_contexts`, {
    POST: {
      operation: 'create_context',
      run: async (req) => createContext(mx2, await client(req), req.body, apiRoot(req), traceparent(req)),
    },
  });
  resource(`${API_BASE}/app_contexts/:contextId`, {
    PUT: {
      operation: 'update_context',
      run: async (req) => updateContext(mx2, await client(req), param(req), req.body),
    },
    DELETE: {
      operation: 'delete_context',
      run: async (req) => deleteContext(mx2, await client(req), param(req)),
    },
  });
  resource(`${API_BASE}/obtain_app_loc_availability`, {
    POST: {
      operation: 'location_availability',
      run: async (req) => obtainLocations(mx2, await client(req), req.body),
    },
  });
  resource(OPENAPI_PATH, {
    GET: { operation: 'openapi', run: (req) => ({ status: 200, body: deps.openapi(apiRoot(req)) }) },
  });

  const token = deps.token;
  if (token) {
    // its own context: the token endpoint takes forms (RFC 6749 §4.4.2), Mx2 takes JSON
    app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string' },
        (_req, body, done) => done(null, new URLSearchParams(body as string)),
      );
      scope.route({
        method: 'POST',
        url: TOKEN_PATH,
        config: { operation: 'token' },
        handler: async (req, reply) => {
          const form = req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
          const a = await issueToken(token, form, req.headers.authorization);
          return reply.code(a.status).headers(a.headers).type('application/json').send(a.body);
        },
      });
      scope.route({
        method: METHODS.filter((m) => m !== 'POST'),
        url: TOKEN_PATH,
        handler: (req, reply) =>
          sendProblem(reply, problem(405, `${req.method} is not defined on ${TOKEN_PATH}`), {
            allow: 'POST',
          }),
      });
    });
  }
  return app;
}
