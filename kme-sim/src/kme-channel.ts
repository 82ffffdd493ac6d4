// The classical KME↔KME channel (mutual TLS, each KME authenticated by its own certificate). It carries
// reservations — key IDs, stream offsets and, on relay hops, one-time-pad ciphertext — never key bits in
// clear. It travels over one upgraded stream per neighbour (channel-stream.ts), at /mecqkd/v1/kme/stream on
// each KME's HTTPS listener.
import { Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { openStream, type StreamConnection } from './channel-stream.ts';
import type { LinkAdjustment } from './link.ts';
import { KmeError } from './qkd014/errors.ts';

export const CHANNEL_PREFIX = '/mecqkd/v1/kme/';
export const STREAM_PATH = `${CHANNEL_PREFIX}stream`;
/** Large enough for a full batch of forwards of max-size keys. */
export const MAX_MESSAGE_BYTES = 16 << 20;

export const Hello = z.strictObject({ linkId: z.string() });

/** Keys sent one hop along `route`; the receiving KME is route[i], the sender route[i-1]. */
export const Forward = z.strictObject({
  linkId: z.string(),
  /** Byte offset in the stream the sender originates on this link. */
  offset: z.int().min(0),
  sizeBits: z.int().positive(),
  keyIds: z.array(z.uuid()).min(1),
  /** Relay hops: keys XOR this hop's stream bytes (base64). Absent: the keys are the stream bytes. */
  cipher: z.base64().optional(),
  master: z.string(),
  /** Slaves at the destination KME (the last one of `route`). */
  slaves: z.array(z.string()).min(1),
  route: z.array(z.string()).min(2),
});
export type Forward = z.infer<typeof Forward>;

/** Forwards bound for the same neighbour travel together (see `pump`). */
export const ForwardBatch = z.strictObject({ forwards: z.array(Forward).min(1) });
export const ForwardResult = z.union([
  z.strictObject({ ok: z.literal(true) }),
  z.strictObject({
    ok: z.literal(false),
    status: z.int(),
    message: z.string(),
    retryAfterSeconds: z.number().optional(),
  }),
]);
export type ForwardResult = z.infer<typeof ForwardResult>;
const ForwardResults = z.strictObject({ results: z.array(ForwardResult) });

export const Void = z.strictObject({ keyIds: z.array(z.uuid()).min(1), route: z.array(z.string()).min(2) });
export type Void = z.infer<typeof Void>;

export const RouteStockRequest = z.strictObject({ route: z.array(z.string()).min(2) });
/** Bottleneck of a route: least stored bits, least capacity and least secret key rate over its links. */
export const RouteStock = z.strictObject({
  storedBits: z.number(),
  capacityBits: z.number(),
  skr: z.number(),
});
export type RouteStock = z.infer<typeof RouteStock>;

export interface KmeChannel {
  hello(peerUrl: string, body: z.infer<typeof Hello>): Promise<void>;
  forward(peerUrl: string, body: Forward): Promise<void>;
  void(peerUrl: string, body: Void): Promise<void>;
  routeStock(peerUrl: string, body: z.infer<typeof RouteStockRequest>): Promise<RouteStock>;
  adjust(peerUrl: string, linkId: string, body: LinkAdjustment): Promise<void>;
  close(): void;
}

const MAX_BATCH = 64;

interface Pending {
  body: Forward;
  resolve(): void;
  reject(err: unknown): void;
}

export function createKmeChannel(tls: { cert: string; key: string; ca: string }): KmeChannel {
  const agent = new Agent({ secureContext: createSecureContext({ ...tls, minVersion: 'TLSv1.2' }) });
  const queues = new Map<string, Pending[]>();
  const streams = new Map<string, Promise<StreamConnection>>();

  function stream(peerUrl: string): Promise<StreamConnection> {
    let s = streams.get(peerUrl);
    if (!s) {
      const forget = () => {
        if (streams.get(peerUrl) === s) streams.delete(peerUrl);
      };
      s = openStream(agent, new URL(STREAM_PATH, peerUrl), MAX_MESSAGE_BYTES, forget);
      s.catch(forget);
      streams.set(peerUrl, s);
    }
    return s;
  }

  async function post(peerUrl: string, op: string, body: unknown): Promise<unknown> {
    const reply = await stream(peerUrl)
      .then((s) => s.call(op, body, 5000))
      .catch((err: Error) => {
        throw new KmeError(503, `KME channel to ${peerUrl} failed: ${err.message}`, { retryAfterSeconds: 5 });
      });
    if (reply.ok) return reply.body;
    // A peer's refusal is a server-side condition for the SAE that asked us, except "bad request" errors
    // that the SAE's own input caused further along (passed on unchanged).
    const status = reply.status === 400 ? 400 : 503;
    throw new KmeError(status, reply.message, { retryAfterSeconds: reply.retryAfterSeconds ?? 5 });
  }

  async function flush(peerUrl: string, batch: Pending[]): Promise<void> {
    try {
      const { results } = ForwardResults.parse(
        await post(peerUrl, 'keys', { forwards: batch.map((p) => p.body) }),
      );
      if (results.length !== batch.length)
        throw new Error(`KME ${peerUrl} answered ${results.length} results`);
      batch.forEach((p, i) => {
        const r = results[i] as ForwardResult;
        if (r.ok) p.resolve();
        else {
          const status = r.status === 400 ? 400 : 503;
          p.reject(new KmeError(status, r.message, { retryAfterSeconds: r.retryAfterSeconds ?? 5 }));
        }
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  // One keys message in flight per neighbour: forwards that arrive meanwhile leave together in the next one,
  // so under load a message (one TLS record each way) carries many reservations.
  async function pump(peerUrl: string, queue: Pending[]): Promise<void> {
    while (queue.length > 0) await flush(peerUrl, queue.splice(0, MAX_BATCH));
    queues.delete(peerUrl);
  }

  function forward(peerUrl: string, body: Forward): Promise<void> {
    return new Promise((resolve, reject) => {
      let queue = queues.get(peerUrl);
      if (!queue) {
        const fresh: Pending[] = [];
        queues.set(peerUrl, fresh);
        setImmediate(() => void pump(peerUrl, fresh));
        queue = fresh;
      }
      queue.push({ body, resolve, reject });
    });
  }

  return {
    hello: async (url, body) => void (await post(url, 'hello', body)),
    forward,
    void: async (url, body) => void (await post(url, 'void', body)),
    routeStock: async (url, body) => RouteStock.parse(await post(url, 'route-stock', body)),
    adjust: async (url, linkId, body) =>
      void (await post(url, `links/${encodeURIComponent(linkId)}/adjust`, body)),
    close: () => {
      for (const s of streams.values())
        s.then(
          (c) => c.destroy(),
          () => {},
        );
      streams.clear();
      agent.destroy();
    },
  };
}
