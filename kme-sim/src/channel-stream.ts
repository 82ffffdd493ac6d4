// The transport of the KME↔KME channel: one HTTPS request per neighbour (mutual TLS, same listener and
// certificates as everything else) is upgraded to a long-lived stream of newline-delimited JSON messages.
// Requests carry an id and are answered out of order. A whole HTTP exchange per reservation was most of a
// KME's CPU per key; a message costs one TLS record each way, and messages of one tick share a record.
import type { IncomingMessage } from 'node:http';
import { type Agent, request } from 'node:https';
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';

export const STREAM_PROTOCOL = 'mecqkd-kme-channel/1';

const ChannelRequest = z.strictObject({ id: z.int().min(0), op: z.string(), body: z.unknown() });

export const ChannelFailure = z.strictObject({
  status: z.int(),
  message: z.string(),
  retryAfterSeconds: z.number().optional(),
});
export type ChannelFailure = z.infer<typeof ChannelFailure>;

const ChannelReply = z.union([
  z.strictObject({ id: z.int(), ok: z.literal(true), body: z.unknown() }),
  z.strictObject({ id: z.int(), ok: z.literal(false), ...ChannelFailure.shape }),
]);
export type ChannelReply = z.infer<typeof ChannelReply>;

/** Feeds complete lines of `socket` (starting with `head`) to `onLine`; a line above `maxBytes` kills it. */
function readLines(socket: Socket, head: Buffer, maxBytes: number, onLine: (line: string) => void): void {
  let pending = '';
  const take = (text: string) => {
    pending += text;
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.length > 0) onLine(line);
      nl = pending.indexOf('\n');
    }
    if (pending.length > maxBytes) socket.destroy(new Error(`KME channel message exceeds ${maxBytes} bytes`));
  };
  // An HTTP server's socket refuses setEncoding, even once upgraded.
  const decoder = new StringDecoder('utf8');
  if (head.length > 0) take(decoder.write(head));
  socket.on('data', (chunk: Buffer) => take(decoder.write(chunk)));
}

/** Writes one JSON message per line; the messages of one tick leave in one TLS record. */
function lineWriter(socket: Socket): (message: unknown) => void {
  let corked = false;
  return (message) => {
    if (socket.destroyed) return;
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    socket.write(`${JSON.stringify(message)}\n`);
  };
}

/** Serves an accepted stream: each request goes to `handle`, its result or failure back with its id. */
export function serveStream(
  socket: Socket,
  head: Buffer,
  maxBytes: number,
  handle: (op: string, body: unknown) => Promise<unknown>,
  failure: (err: unknown) => ChannelFailure,
): void {
  socket.setNoDelay(true);
  const write = lineWriter(socket);
  socket.on('error', () => socket.destroy());
  readLines(socket, head, maxBytes, (line) => {
    let req: z.infer<typeof ChannelRequest>;
    try {
      req = ChannelRequest.parse(JSON.parse(line));
    } catch (err) {
      socket.destroy(new Error(`malformed KME channel request: ${(err as Error).message}`));
      return;
    }
    handle(req.op, req.body).then(
      (body) => write({ id: req.id, ok: true, body }),
      (err: unknown) => write({ id: req.id, ok: false, ...failure(err) }),
    );
  });
}

export interface StreamConnection {
  call(op: string, body: unknown, timeoutMs: number): Promise<ChannelReply>;
  destroy(): void;
}

/** Opens a stream to the KME at `url` (upgrade of GET `path`); `onClose` runs once it is gone. */
export function openStream(
  agent: Agent,
  url: URL,
  maxBytes: number,
  onClose: () => void,
): Promise<StreamConnection> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      agent,
      headers: { connection: 'Upgrade', upgrade: STREAM_PROTOCOL },
      timeout: 5000,
    });
    req.on('timeout', () => req.destroy(new Error('timed out opening the stream')));
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      reject(new Error(`stream refused with HTTP ${res.statusCode}`));
    });
    req.on('upgrade', (_res: IncomingMessage, socket: Socket, head: Buffer) => {
      socket.setTimeout(0);
      socket.setNoDelay(true);
      const waiting = new Map<number, { resolve(r: ChannelReply): void; reject(e: Error): void }>();
      let nextId = 0;
      const write = lineWriter(socket);
      const fail = (err: Error) => {
        for (const w of waiting.values()) w.reject(err);
        waiting.clear();
      };
      socket.on('error', (err) => fail(err));
      socket.on('close', () => {
        fail(new Error('stream closed'));
        onClose();
      });
      readLines(socket, head, maxBytes, (line) => {
        let reply: ChannelReply;
        try {
          reply = ChannelReply.parse(JSON.parse(line));
        } catch (err) {
          socket.destroy(new Error(`malformed KME channel reply: ${(err as Error).message}`));
          return;
        }
        waiting.get(reply.id)?.resolve(reply);
        waiting.delete(reply.id);
      });
      resolve({
        call(op, body, timeoutMs) {
          if (socket.destroyed) return Promise.reject(new Error('stream closed'));
          const id = nextId++;
          return new Promise<ChannelReply>((ok, ko) => {
            const timer = setTimeout(() => {
              waiting.delete(id);
              ko(new Error(`${op} timed out after ${timeoutMs} ms`));
            }, timeoutMs);
            waiting.set(id, {
              resolve: (r) => {
                clearTimeout(timer);
                ok(r);
              },
              reject: (e) => {
                clearTimeout(timer);
                ko(e);
              },
            });
            write({ id, op, body });
          });
        },
        destroy: () => socket.destroy(),
      });
    });
    req.end();
  });
}
