// The host SAE: one small process per MEC host, next to its OpenWhisk, in the host's perimeter. It
// alone holds the host SAE's QKD 014 identity and the QKD keys. The action wrapper (any container of
// any managed action) asks it, per invocation, for the two AES keys derived from a key for one
// envelope header; the SAE fetches the key with dec_keys on first use, enforces the key-use window
// (N sequence numbers, T seconds) and refuses a sequence number it has served before. So one key
// serves its N invocations in whichever containers run them, and a replay fails in all of them.
// A new key ID is first checked against its context's key allowance (key-allowance.ts).
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from 'node:tls';
import { createLogger, type Logger } from '@mecqkd/common/logger';
import { metricsWithProcess } from '@mecqkd/common/process-metrics';
import { sameSecret } from '@mecqkd/common/same-secret';
import { parseTraceparent } from '@mecqkd/common/trace';
import { createQkd014Client, type Qkd014Client, Qkd014Error } from '@mecqkd/kme-sim/client';
import { deriveKeyPair, type EnvelopeHeader, type RejectReason } from '@mecqkd/sdk/envelope';
import type { z } from 'zod';
import type { HostSaeConfig } from './config.ts';
import { CHANNEL_ALPN, MAX_FRAME_BYTES, readFrames, writeFrame } from './frames.ts';
import { createKeyAllowanceCheck, type KeyAllowanceCheck } from './key-allowance.ts';
import {
  claim,
  dropHolder,
  droppable,
  forget,
  type HeldKey,
  holdKey,
  type KeyPair,
  release,
  reserve,
  spend,
} from './key-window.ts';
import { createHostSaeMetrics, type HostSaeMetrics } from './metrics.ts';
import {
  type DeriveRequest,
  helloFrameSchema,
  type Problem,
  type RefusalReason,
  type RequestFrame,
  requestFrameSchema,
} from './protocol.ts';

/** A connection that has not proven itself by then is closed. */
const HELLO_TIMEOUT_MS = 10_000;
/** A holder that does not say within this which keys ahead it has not used is taken to have used them all. */
const RELEASE_TIMEOUT_MS = 2_000;
/** Keys are handed ahead only with at least this much of their window left (the wrapper's clock is not ours). */
const AHEAD_MIN_VALID_MS = 2_000;

class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly reason?: RefusalReason,
    readonly retryAfterMs?: number,
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

interface Holder extends AheadHolder {
  /** The wrapper's answer to `release` number `ref`. */
  released(ref: number, unused: number[]): void;
  closed(): void;
}

/**
 * A wrapper connection as a holder of keys handed ahead: `release` asks it (frame `{op: "release",
 * ref, keyId}`) which of a key's it has not used; no answer in time is "all used". When the
 * connection ends, the questions are settled without an answer: `dropHolder` frees what it never
 * reported using.
 */
function createHolder(
  socket: TLSSocket,
  onReleased: (holder: Holder, keyId: string, unused: number[]) => void,
): Holder {
  const asked = new Map<string, Promise<void>>();
  const waiting = new Map<number, (unused: number[] | 'gone') => void>();
  let lastRef = 0;
  const holder: Holder = {
    release(keyId) {
      const pending = asked.get(keyId);
      if (pending) return pending;
      const ref = ++lastRef;
      const p = new Promise<void>((resolve) => {
        const timer = setTimeout(() => done([]), RELEASE_TIMEOUT_MS);
        const done = (unused: number[] | 'gone') => {
          clearTimeout(timer);
          waiting.delete(ref);
          asked.delete(keyId);
          if (unused !== 'gone') onReleased(holder, keyId, unused);
          resolve();
        };
        waiting.set(ref, done);
      });
      asked.set(keyId, p);
      // After the current microtasks: the answer handing this holder the keys may still be on its way
      // to the socket (reserved, not yet written), and must reach the holder before this question.
      setImmediate(() => writeFrame(socket, { op: 'release', ref, keyId }));
      return p;
    },
    released(ref, unused) {
      waiting.get(ref)?.(unused);
    },
    closed() {
      for (const done of [...waiting.values()]) done('gone');
    },
  };
  return holder;
}

/** The first schema issue as a `malformed` refusal naming its field. */
function parseFrame<T>(value: unknown, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ProblemError(
    400,
    'Bad request',
    `${issue?.path.join('.') || 'frame'}: ${issue?.message}`,
    'malformed',
  );
}

/**
 * A wrapper connection keys can be handed ahead to: asked which of one key's it has not used. It
 * hands its answer to the key service's `released` as soon as it has it, then settles.
 */
export interface AheadHolder {
  release(keyId: string): Promise<void>;
}

export interface Derived {
  requestKey: Buffer;
  responseKey: Buffer;
  /** Keys of the next sequence numbers, handed ahead (the SAE keeps its copies: never zero these). */
  ahead: { seq: number; keys: KeyPair }[];
  /** How long the keys ahead stay valid. */
  validMs: number;
}

export interface KeyService {
  /** With `holder` and `req.ahead`, also hands it the keys of up to that many next sequence numbers. */
  derive(req: DeriveRequest, holder?: AheadHolder): Promise<Derived>;
  /** The holder's answer: of what it held of `keyId`, only `unused` was not used. */
  released(holder: AheadHolder, keyId: string, unused: number[]): void;
  /** The holder reports taking `seq` of `keyId`, before using it. */
  used(holder: AheadHolder, keyId: string, seq: number): void;
  /** The connection is gone: what it held ahead and never reported using is served to others. */
  dropHolder(holder: AheadHolder): void;
  sweep(): void;
  held(): number;
}

/** The key window over a QKD 014 client: single-flight dec_keys per key ID, then claims. */
export function createKeyService(
  kme: Qkd014Client,
  lifetimeMs: number,
  metrics: HostSaeMetrics,
  allowance: Pick<KeyAllowanceCheck, 'newKey'>,
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

  /** Only a key ID this SAE does not hold counts against its context's allowance. */
  async function admitted({ header, ...d }: DeriveRequest): Promise<void> {
    const v = await allowance.newKey(header.contextId, {
      expectedInvocationsPerSecond: d.expectedInvocationsPerSecond,
      invocationsPerKey: d.invocationsPerKey,
    });
    if (!v.ok)
      throw new ProblemError(
        429,
        'Key rate exceeded',
        `context ${header.contextId} takes new QKD keys faster than its allowance (${v.allowance.keysPerSecond.toPrecision(3)} keys/s, burst ${v.allowance.burst}); retry in ${v.retryAfterMs} ms`,
        'key-rate-exceeded',
        v.retryAfterMs,
      );
  }

  async function keyFor(req: DeriveRequest): Promise<HeldKey> {
    const { header, invocationsPerKey } = req;
    const known = keys.get(header.keyId);
    if (known) return known;
    let pending = fetching.get(header.keyId);
    if (!pending) {
      pending = admitted(req).then(async () => {
        const k = await fetchKey(header, invocationsPerKey);
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
    async derive(req, holder) {
      const { header } = req;
      const k = await keyFor(req);
      for (let asked = false; ; asked = true) {
        const hadMaterial = k.material !== undefined;
        const c = claim(k, header, now(), lifetimeMs, holder);
        if (hadMaterial && !k.material) retire(k);
        if ('held' in c) {
          // The holder has used it unless it says otherwise; once asked, it holds nothing more of this key.
          if (asked)
            throw refused('replay', `sequence ${header.seq} of key ${header.keyId} was already used`);
          k.shared = true; // contended: no more keys ahead for anyone
          // the holder's answer is applied (`released`) as it arrives, before any later frame of it
          await (c.held as AheadHolder).release(header.keyId);
          continue;
        }
        if (!c.ok) throw refused(c.reason, c.message);
        let pair: KeyPair;
        if ('keys' in c) pair = c.keys;
        else {
          metrics.invocations.inc();
          try {
            pair = deriveKeyPair(c.material, header);
          } finally {
            c.material.fill(0);
          }
        }
        const beforeReserve = k.material !== undefined;
        const ahead = holder
          ? reserve(k, header, holder, req.ahead ?? 0, now(), lifetimeMs, AHEAD_MIN_VALID_MS)
          : [];
        if (beforeReserve && !k.material) retire(k);
        metrics.invocations.inc(ahead.length);
        return {
          requestKey: pair.request,
          responseKey: pair.response,
          ahead,
          validMs: lifetimeMs - (now() - k.fetchedAt),
        };
      }
    },
    released(holder, keyId, unused) {
      const k = keys.get(keyId);
      if (k) release(k, holder, new Set(unused));
    },
    used(holder, keyId, seq) {
      const k = keys.get(keyId);
      if (k) spend(k, holder, seq);
    },
    dropHolder(holder) {
      for (const k of keys.values()) dropHolder(k, holder);
    },
    sweep() {
      const t = now();
      for (const [id, k] of keys) {
        if ((k.material || k.ahead.size > 0) && t - k.fetchedAt >= lifetimeMs) {
          if (k.material) retire(k);
          forget(k);
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

function problemOf(err: ProblemError): Problem {
  return {
    type: err.reason ? `urn:mecqkd:envelope:${err.reason}` : 'about:blank',
    title: err.title,
    status: err.status,
    detail: err.message,
    ...(err.reason ? { reason: err.reason } : {}),
    ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
  };
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
  const allowance = createKeyAllowanceCheck({
    redisUrl: config.redis.url,
    saeId: config.saeId,
    metrics,
    logger,
  });
  await allowance.ready(5_000);
  const keys = createKeyService(kme, lifetimeMs, metrics, allowance);
  const sweeper = setInterval(() => keys.sweep(), Math.min(lifetimeMs / 4, 10_000));
  sweeper.unref();

  /** The reply to a frame; `undefined` for `released` (the answer to the SAE's own question) and `used`. */
  async function answer(frame: RequestFrame, holder: Holder): Promise<unknown> {
    if (frame.op === 'failure') {
      metrics.failures.inc({ reason: frame.reason });
      return { id: frame.id };
    }
    // both before anything awaits: applied in the order of the connection's frames, before its end
    if (frame.op === 'released') return void holder.released(frame.ref, frame.unused);
    if (frame.op === 'used') return void keys.used(holder, frame.keyId, frame.seq);
    const derived = await keys.derive(frame, holder);
    const traceId = frame.traceparent ? parseTraceparent(frame.traceparent)?.traceId : undefined;
    // per invocation only when traced, so that an untraced hot path writes no log line
    if (traceId) {
      const { contextId, keyId, seq, action } = frame.header;
      logger.info('Derived keys for an invocation', {
        traceId,
        contextId,
        keyId,
        seq,
        action,
        ...(derived.ahead.length > 0 ? { ahead: derived.ahead.length } : {}),
      });
    }
    const b64 = (b: Buffer) => b.toString('base64');
    try {
      return {
        id: frame.id,
        requestKey: b64(derived.requestKey),
        responseKey: b64(derived.responseKey),
        ...(derived.ahead.length > 0
          ? {
              ahead: {
                validMs: derived.validMs,
                keys: derived.ahead.map((a) => ({
                  seq: a.seq,
                  requestKey: b64(a.keys.request),
                  responseKey: b64(a.keys.response),
                })),
              },
            }
          : {}),
      };
    } finally {
      derived.requestKey.fill(0);
      derived.responseKey.fill(0);
    }
  }

  const failed = (err: unknown): Problem => {
    if (err instanceof ProblemError) {
      if (err.reason) metrics.failures.inc({ reason: err.reason });
      if (err.status >= 500 || err.status === 401)
        logger.warn('wrapper request failed', { status: err.status, detail: err.message });
      return problemOf(err);
    }
    logger.error('wrapper request failed', { error: (err as Error).message });
    return problemOf(new ProblemError(500, 'Internal error', 'the host SAE failed; see its log'));
  };

  /** One wrapper connection: a hello with the wrapper secret, then frames answered as they complete. */
  function serve(socket: TLSSocket): void {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    if (socket.alpnProtocol !== CHANNEL_ALPN) return void socket.destroy();
    metrics.tlsHandshakes.inc();
    socket.setNoDelay(true);
    let authenticated = false;
    let refused = false;
    const holder = createHolder(socket, keys.released);
    const helloTimer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
    socket.on('close', () => {
      clearTimeout(helloTimer);
      holder.closed();
      keys.dropHolder(holder);
    });
    // Frames already received after a refusal are not answered: the connection is done.
    const refuse = (err: ProblemError) => {
      refused = true;
      writeFrame(socket, { error: failed(err) });
      socket.end();
    };
    readFrames(
      socket,
      (text) => {
        if (refused) return;
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          return refuse(new ProblemError(400, 'Bad request', 'a frame is not JSON'));
        }
        if (!authenticated) {
          clearTimeout(helloTimer);
          const hello = helloFrameSchema.safeParse(value);
          if (!hello.success || !sameSecret(hello.data.secret, secret))
            return refuse(new ProblemError(401, 'Unauthorized', 'the wrapper secret is missing or wrong'));
          authenticated = true;
          return;
        }
        const id = (value as { id?: unknown })?.id;
        void (async () => answer(parseFrame(value, requestFrameSchema), holder))().then(
          (reply) => reply !== undefined && writeFrame(socket, reply),
          (err: unknown) =>
            writeFrame(socket, { ...(typeof id === 'number' ? { id } : {}), error: failed(err) }),
        );
      },
      () =>
        refuse(new ProblemError(413, 'Frame too large', `frames are limited to ${MAX_FRAME_BYTES} bytes`)),
    );
  }

  const connections = new Set<TLSSocket>();
  const server = createTlsServer(
    {
      cert: readFileSync(config.tls.cert),
      key: readFileSync(config.tls.key),
      minVersion: 'TLSv1.2',
      ALPNProtocols: [CHANNEL_ALPN],
    },
    serve,
  );
  const ops = createHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://ops').pathname;
    if (path === '/healthz') return send(res, 200, { ok: true, keysHeld: keys.held() });
    if (path === '/metrics') {
      keys.sweep();
      void metricsWithProcess(metrics.registry).then((text) =>
        send(res, 200, text, metrics.registry.contentType),
      );
      return;
    }
    send(res, 404, { title: 'Not found', status: 404 });
  });
  const listen = (s: Server | TlsServer, port: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, config.host, () => resolve((s.address() as AddressInfo).port));
    });
  const port = await listen(server, config.port);
  const opsPort = await listen(ops, config.opsPort);
  const url = `tls://${config.host}:${port}`;
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
      allowance.close();
      for (const c of connections) c.destroy();
      await Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        new Promise<void>((resolve) => {
          ops.close(() => resolve());
          ops.closeAllConnections();
        }),
      ]);
    },
  };
}
