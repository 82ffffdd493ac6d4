// A lean apiserver client: client-node's KubeConfig for configuration and credentials only, and raw
// JSON over undici keep-alive pools for the requests (client-node's generated API costs ~4x the raw
// request on hot write paths, control-plane.md §7a). Watches get their own unbounded pool so that
// long-lived streams never starve the request pool.
import { setMaxListeners } from 'node:events';
import type { RequestOptions as HttpsOptions } from 'node:https';
import { createSecureContext } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { type Dispatcher, Pool } from 'undici';
import { z } from 'zod';
import { KubeApiError } from './kube-errors.ts';
import { restClientMetrics } from './metrics.ts';
import { TokenBucket } from './token-bucket.ts';
import type { KubeObject } from './types.ts';

export const kubeObjectSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
});

const listSchema = z.looseObject({
  metadata: z.looseObject({ resourceVersion: z.string().optional(), continue: z.string().optional() }),
  items: z.array(z.unknown()).nullable(),
});

const watchEventSchema = z.object({
  type: z.enum(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']),
  object: z.looseObject({}),
});

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
export interface WatchEvent<T extends KubeObject> {
  type: WatchEventType;
  object: T;
}

/** Turns a decoded JSON object into T; throw on a mismatch. Defaults to a shape check of KubeObject. */
export type Parse<T> = (value: unknown) => T;
const parseKubeObject = <T extends KubeObject>(value: unknown) =>
  kubeObjectSchema.parse(value) as unknown as T;

export const clientOptionsSchema = z.object({
  /** Kubeconfig file; KUBECONFIG / ~/.kube/config / in-cluster when absent (KubeConfig.loadFromDefault). */
  kubeconfigPath: z.string().optional(),
  context: z.string().optional(),
  /** Replaces the kubeconfig's server URL (tests route through a proxy this way). */
  server: z.url().optional(),
  /** Keep-alive connections of the request pool (watches use a separate pool). */
  connections: z.int().min(1).default(16),
  /** Client-side rate limit; 0 = off, relying on API Priority and Fairness like controller-runtime. */
  qps: z.number().min(0).default(0),
  burst: z.int().min(1).default(100),
  requestTimeoutMs: z.int().min(1).default(30_000),
  userAgent: z.string().default('mecqkd-operator'),
});
export type KubeClientOptions = z.input<typeof clientOptionsSchema>;

export type PatchType = 'merge' | 'json' | 'apply';
const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size (limit/continue); 0 = one unpaginated request. */
  pageSize?: number;
}

export interface WatchOptions {
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Server-side watch duration; the stream then ends cleanly. */
  timeoutSeconds?: number;
  /** Abort when nothing (not even a bookmark) arrived for this long: catches half-open connections. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Every request method takes one; the request is cancelled (KubeApiError, status 0) when it aborts. */
export interface RequestOptions {
  signal?: AbortSignal;
}

export interface WriteOptions extends RequestOptions {
  fieldManager?: string;
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
  dryRun?: boolean;
}

export interface DeleteOptions extends RequestOptions {
  /** Fail with 409 unless the object still has this uid / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
}

interface Connection {
  origin: string;
  tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean };
  headers: () => Promise<Record<string, string>>;
}

const AUTH_REFRESH_MS = 60_000;

async function connectionFromKubeConfig(opts: z.output<typeof clientOptionsSchema>): Promise<Connection> {
  const kc = new KubeConfig();
  if (opts.kubeconfigPath) kc.loadFromFile(opts.kubeconfigPath);
  else kc.loadFromDefault();
  if (opts.context) kc.setCurrentContext(opts.context);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig ${opts.kubeconfigPath ?? '(default)'} has no current cluster`);
  const https: HttpsOptions = {};
  await kc.applyToHTTPSOptions(https);
  // Exec plugins and token files rotate tokens: re-read the credentials now and then, not per request.
  let cached = { at: Date.now(), headers: authHeaders(https) };
  const headers = async () => {
    if (Date.now() - cached.at > AUTH_REFRESH_MS) {
      const fresh: HttpsOptions = {};
      await kc.applyToHTTPSOptions(fresh);
      cached = { at: Date.now(), headers: authHeaders(fresh) };
    }
    return cached.headers;
  };
  const pem = (v: unknown) => (typeof v === 'string' || Buffer.isBuffer(v) ? v : undefined);
  return {
    origin: new URL(opts.server ?? cluster.server).origin,
    tls: {
      ca: pem(https.ca),
      cert: pem(https.cert),
      key: pem(https.key),
      rejectUnauthorized: https.rejectUnauthorized,
    },
    headers,
  };
}

function authHeaders(https: HttpsOptions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(https.headers ?? {})) {
    if (typeof v === 'string') out[k.toLowerCase()] = v;
  }
  if (https.auth) out.authorization = `Basic ${Buffer.from(https.auth).toString('base64')}`;
  return out;
}

export async function createKubeClient(options: KubeClientOptions = {}): Promise<KubeClient> {
  const opts = clientOptionsSchema.parse(options);
  return new KubeClient(await connectionFromKubeConfig(opts), opts);
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

interface Pools {
  pool: Pool;
  watchPool: Pool;
  bucket: TokenBucket;
}

export class KubeClient {
  private readonly pool: Pool;
  private readonly watchPool: Pool;
  private readonly bucket: TokenBucket;
  private readonly host: string;

  constructor(
    private readonly conn: Connection,
    private readonly opts: z.output<typeof clientOptionsSchema>,
    shared?: Pools,
    /** Set on a client from withSignal(): cancels its requests and watches when it aborts. */
    private readonly scope?: AbortSignal,
  ) {
    if (shared) {
      this.pool = shared.pool;
      this.watchPool = shared.watchPool;
    } else {
      // One TLS context for every connection of both pools: given PEMs, Node parses them into a new
      // context for each connection (3–10 ms of CPU with a client key), and a pool reconnects
      // whenever a keep-alive connection closes.
      const { ca, cert, key, rejectUnauthorized } = conn.tls;
      const connect = {
        secureContext: createSecureContext({ ca, cert, key }),
        ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
      };
      const common = { connect, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 };
      this.pool = new Pool(conn.origin, { ...common, connections: opts.connections });
      this.watchPool = new Pool(conn.origin, { ...common, connections: null });
    }
    this.bucket = shared?.bucket ?? new TokenBucket({ qps: opts.qps, burst: opts.burst });
    this.host = new URL(conn.origin).host;
  }

  get server(): string {
    return this.conn.origin;
  }

  /**
   * The same client (pools, rate limit), with every request and watch cancelled once `signal` aborts
   * and refused afterwards: work that must not outlive something (leadership) cannot write after it.
   * close() of the returned client is a no-op; the client it came from owns the connections.
   */
  withSignal(signal: AbortSignal): KubeClient {
    const scope = this.scope ? AbortSignal.any([this.scope, signal]) : signal;
    // every request in flight listens on it: dozens at once are normal, not a leak
    setMaxListeners(0, scope);
    return new KubeClient(
      this.conn,
      this.opts,
      { pool: this.pool, watchPool: this.watchPool, bucket: this.bucket },
      scope,
    );
  }

  /** GET one object; undefined when it does not exist (404), any other failure throws KubeApiError. */
  async get<T extends KubeObject = KubeObject>(
    path: string,
    parse: Parse<T> = parseKubeObject,
    opts: RequestOptions = {},
  ): Promise<T | undefined> {
    const res = await this.request('GET', path, { allow404: true, signal: opts.signal });
    return res === undefined ? undefined : parse(res);
  }

  /** Every item of a collection, following continue tokens; resourceVersion is the list's (for a watch). */
  async list<T extends KubeObject = KubeObject>(
    path: string,
    opts: ListOptions = {},
    parse: Parse<T> = parseKubeObject,
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const q = query({
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: opts.pageSize || undefined,
        continue: cont,
      });
      const page = listSchema.parse(await this.request('GET', path + q));
      for (const item of page.items ?? []) items.push(parse(item));
      resourceVersion = page.metadata.resourceVersion ?? '';
      cont = page.metadata.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  async create<T extends KubeObject = KubeObject>(
    collection: string,
    body: unknown,
    opts: WriteOptions = {},
    parse: Parse<T> = parseKubeObject,
  ): Promise<T> {
    return parse(await this.request('POST', collection + writeQuery(opts), { body, signal: opts.signal }));
  }

  /** PUT: optimistic concurrency through body.metadata.resourceVersion (409 when stale). */
  async replace<T extends KubeObject = KubeObject>(
    path: string,
    body: unknown,
    opts: WriteOptions = {},
    parse: Parse<T> = parseKubeObject,
  ): Promise<T> {
    return parse(await this.request('PUT', path + writeQuery(opts), { body, signal: opts.signal }));
  }

  /**
   * PATCH as merge patch, JSON Patch or server-side apply (apply needs opts.fieldManager). Strategic
   * merge patch is left out on purpose: custom resources reject it.
   */
  async patch<T extends KubeObject = KubeObject>(
    path: string,
    type: PatchType,
    body: unknown,
    opts: WriteOptions = {},
    parse: Parse<T> = parseKubeObject,
  ): Promise<T> {
    if (type === 'apply' && !opts.fieldManager)
      throw new Error(`server-side apply of ${path} needs a fieldManager`);
    const q = writeQuery({ ...opts, force: type === 'apply' ? opts.force : undefined });
    return parse(
      await this.request('PATCH', path + q, {
        body,
        contentType: PATCH_CONTENT_TYPES[type],
        signal: opts.signal,
      }),
    );
  }

  /** PATCH the /status subresource of the object at `path`. */
  patchStatus<T extends KubeObject = KubeObject>(
    path: string,
    type: PatchType,
    body: unknown,
    opts: WriteOptions = {},
    parse: Parse<T> = parseKubeObject,
  ): Promise<T> {
    return this.patch(`${path}/status`, type, body, opts, parse);
  }

  /**
   * PUT the /status subresource: `obj.status` replaces the stored status if `obj.metadata.resourceVersion`
   * is still current (409 otherwise). The apiserver takes nothing but status from this request (the
   * rest is the stored object's), so only what names the version is sent: a smaller body, and none of
   * the merge a status PATCH costs the apiserver (re-encoding the stored object to apply the patch).
   */
  replaceStatus<T extends KubeObject = KubeObject>(
    path: string,
    obj: KubeObject & { status: unknown },
    opts: WriteOptions = {},
    parse: Parse<T> = parseKubeObject,
  ): Promise<T> {
    const { name, namespace, resourceVersion } = obj.metadata;
    if (!resourceVersion) throw new Error(`status write of ${path} needs metadata.resourceVersion`);
    const body = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      metadata: { name, ...(namespace ? { namespace } : {}), resourceVersion },
      status: obj.status,
    };
    return this.replace(`${path}/status`, body, opts, parse);
  }

  /** DELETE; resolves to the apiserver's answer (the object while finalizers hold it, else a Status). */
  async delete(path: string, opts: DeleteOptions = {}): Promise<unknown> {
    const { signal, ...options } = opts;
    const body = { kind: 'DeleteOptions', apiVersion: 'v1', ...options };
    return this.request('DELETE', path, { body, signal });
  }

  /**
   * Streams watch events of a collection. An ERROR event (e.g. 410 Gone for a compacted
   * resourceVersion) is thrown as KubeApiError, as is an HTTP error; a server-side timeout ends the
   * iteration normally. Breaking out of the loop or aborting `signal` closes the connection.
   */
  async *watch<T extends KubeObject = KubeObject>(
    path: string,
    opts: WatchOptions = {},
    parse: Parse<T> = parseKubeObject,
  ): AsyncGenerator<WatchEvent<T>> {
    const url =
      path +
      query({
        watch: 1,
        allowWatchBookmarks: true,
        resourceVersion: opts.resourceVersion,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        timeoutSeconds: opts.timeoutSeconds,
      });
    this.refuseIfAborted('WATCH', url);
    let res: Dispatcher.ResponseData;
    try {
      res = await this.watchPool.request({
        method: 'GET',
        path: url,
        headers: await this.headers(),
        signal: this.signalFor(opts.signal),
        headersTimeout: this.opts.requestTimeoutMs,
        bodyTimeout: opts.idleTimeoutMs ?? 70_000,
      });
    } catch (err) {
      this.count('WATCH', 0);
      throw KubeApiError.network('WATCH', url, err);
    }
    this.count('WATCH', res.statusCode);
    if (res.statusCode >= 400) {
      throw KubeApiError.fromResponse('WATCH', url, res.statusCode, await res.body.text());
    }
    res.body.setEncoding('utf8');
    let buffered = '';
    try {
      for await (const chunk of res.body as AsyncIterable<string>) {
        buffered += chunk;
        let nl = buffered.indexOf('\n');
        while (nl >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          nl = buffered.indexOf('\n');
          if (line) yield decodeEvent(url, line, parse);
        }
      }
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      throw KubeApiError.network('WATCH', url, err);
    } finally {
      res.body.destroy();
    }
    if (buffered.trim()) yield decodeEvent(url, buffered.trim(), parse);
  }

  async close(): Promise<void> {
    if (this.scope) return;
    await Promise.all([this.pool.close(), this.watchPool.destroy()]);
  }

  private signalFor(own?: AbortSignal): AbortSignal | undefined {
    return this.scope && own ? AbortSignal.any([this.scope, own]) : (own ?? this.scope);
  }

  private refuseIfAborted(method: string, path: string): void {
    if (this.scope?.aborted) throw KubeApiError.cancelled(method, path);
  }

  private async headers(contentType?: string): Promise<Record<string, string>> {
    const h: Record<string, string> = {
      ...(await this.conn.headers()),
      accept: 'application/json',
      'user-agent': this.opts.userAgent,
    };
    if (contentType) h['content-type'] = contentType;
    return h;
  }

  private count(method: string, status: number): void {
    restClientMetrics.requests.labels(String(status || '<error>'), method, this.host).inc();
  }

  private async throttle(method: string): Promise<void> {
    const delay = this.bucket.reserve();
    restClientMetrics.rateLimiterDuration.labels(method, this.host).observe(delay / 1000);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  }

  private async request(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    opts: { body?: unknown; contentType?: string; allow404?: boolean; signal?: AbortSignal } = {},
  ): Promise<unknown> {
    this.refuseIfAborted(method, path);
    await this.throttle(method);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    let status: number;
    let text: string;
    let retryAfter: string | undefined;
    try {
      const res = await this.pool.request({
        method,
        path,
        headers: await this.headers(
          body === undefined ? undefined : (opts.contentType ?? 'application/json'),
        ),
        body,
        signal: this.signalFor(opts.signal),
        headersTimeout: this.opts.requestTimeoutMs,
        bodyTimeout: this.opts.requestTimeoutMs,
      });
      status = res.statusCode;
      text = await res.body.text();
      const ra = res.headers['retry-after'];
      retryAfter = Array.isArray(ra) ? ra[0] : ra;
    } catch (err) {
      this.count(method, 0);
      if (this.scope?.aborted) throw KubeApiError.cancelled(method, path, err);
      throw KubeApiError.network(method, path, err);
    }
    this.count(method, status);
    if (status === 404 && opts.allow404) return undefined;
    if (status >= 400) throw KubeApiError.fromResponse(method, path, status, text, retryAfter);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`${method} ${path}: ${status} with a body that is not JSON: ${text.slice(0, 200)}`, {
        cause: err,
      });
    }
  }
}

function writeQuery(opts: WriteOptions): string {
  return query({
    fieldManager: opts.fieldManager,
    force: opts.force,
    dryRun: opts.dryRun ? 'All' : undefined,
  });
}

function decodeEvent<T extends KubeObject>(url: string, line: string, parse: Parse<T>): WatchEvent<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    // client-node drops such lines silently; a lost event must be loud, the informer then relists.
    throw new KubeApiError({
      status: 0,
      reason: 'BadWatchEvent',
      message: `unparseable watch line: ${line.slice(0, 200)}`,
      method: 'WATCH',
      path: url,
      cause: err,
    });
  }
  const ev = watchEventSchema.parse(raw);
  if (ev.type === 'ERROR') throw KubeApiError.fromStatus('WATCH', url, ev.object);
  // Bookmarks carry only kind, apiVersion and metadata.resourceVersion: no name to validate.
  const object = ev.type === 'BOOKMARK' ? (ev.object as unknown as T) : parse(ev.object);
  return { type: ev.type, object };
}
