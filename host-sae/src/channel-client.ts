// The action wrapper's side of the host SAE channel (frames.ts): one TLS connection, opened on
// first use and kept, that proves itself once with the wrapper secret; calls are lines answered by
// id. Bundled into the wrapper (node: built-ins only); tests use it to speak to an SAE as a wrapper.
import { connect, type TLSSocket } from 'node:tls';
import { CHANNEL_ALPN, readFrames, writeFrame } from './frames.ts';
import type { RefusalReason } from './protocol.ts';

export class WrapperError extends Error {
  constructor(
    readonly reason: RefusalReason | 'host-sae-unavailable' | 'misconfigured',
    message: string,
    /** With key-rate-exceeded: the host SAE's hint, passed on to the client. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface Reply {
  id?: number;
  requestKey?: string;
  responseKey?: string;
  /** Keys of the next sequence numbers, handed ahead to this connection (derive with `ahead`). */
  ahead?: { validMs: number; keys: { seq: number; requestKey: string; responseKey: string }[] };
  error?: { status?: number; reason?: RefusalReason; detail?: string; retryAfterMs?: number };
}

export interface ChannelOptions {
  host: string;
  port: number;
  /** PEM of the CA that signed the host SAE's certificate: the only one trusted. */
  ca: string;
  secret: string;
  timeoutMs?: number;
  /**
   * The SAE asks which of a key's keys handed ahead this side has not used (another container needs
   * one): drop them and name them. Without it, nothing is unused.
   */
  onRelease?: (keyId: string) => number[];
  /**
   * Keys handed ahead with the answer to `frame`, given before anything else is read: a `release`
   * right behind that answer must find them.
   */
  onAhead?: (frame: Record<string, unknown>, ahead: NonNullable<Reply['ahead']>) => void;
  /** The channel is closed: keys handed ahead over it must not be used any more (see `send`). */
  onClose?: () => void;
}

export interface SaeChannel {
  /** Sends `frame` with a fresh id; resolves with the SAE's answer (which may carry `error`). */
  call(frame: Record<string, unknown>): Promise<Reply>;
  /**
   * Writes `frame`, which the SAE does not answer; false if the channel is closed. A `used` report
   * written here reaches the SAE before the channel's end, so the SAE serves to others only what was
   * never reported on a channel that is gone.
   */
  send(frame: Record<string, unknown>): boolean;
  readonly closed: boolean;
  close(): void;
}

interface Pending {
  frame: Record<string, unknown>;
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export function openChannel(opts: ChannelOptions): SaeChannel {
  const socket: TLSSocket = connect({
    host: opts.host,
    port: opts.port,
    ca: opts.ca,
    ALPNProtocols: [CHANNEL_ALPN],
    minVersion: 'TLSv1.2',
  });
  // An idle channel must not keep a process alive (each call holds its own timer meanwhile).
  socket.unref();
  socket.setNoDelay(true);
  const pending = new Map<number, Pending>();
  let closed = false;
  let lastId = 0;

  /** Fails every call in flight; the owner opens a new channel for the next one. */
  const fail = (err: WrapperError) => {
    if (closed) return;
    closed = true;
    socket.destroy();
    opts.onClose?.();
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    pending.clear();
  };

  writeFrame(socket, { op: 'hello', secret: opts.secret });
  readFrames(
    socket,
    (text) => {
      let reply: Reply & { op?: string; ref?: number; keyId?: string };
      try {
        reply = JSON.parse(text);
      } catch {
        return fail(new WrapperError('host-sae-unavailable', 'the host SAE sent a frame that is not JSON'));
      }
      if (reply.op === 'release' && typeof reply.ref === 'number' && typeof reply.keyId === 'string')
        return writeFrame(socket, {
          op: 'released',
          ref: reply.ref,
          unused: opts.onRelease?.(reply.keyId) ?? [],
        });
      const p = reply.id === undefined ? undefined : pending.get(reply.id);
      if (!p) {
        // No id: the SAE refused the connection itself (e.g. the wrapper secret).
        return fail(
          reply.error?.status === 401
            ? new WrapperError('misconfigured', "the host SAE refused this action wrapper's secret")
            : new WrapperError(
                'host-sae-unavailable',
                reply.error?.detail ?? 'the host SAE closed the channel',
              ),
        );
      }
      pending.delete(reply.id as number);
      clearTimeout(p.timer);
      if (reply.ahead) opts.onAhead?.(p.frame, reply.ahead);
      p.resolve(reply);
    },
    () => fail(new WrapperError('host-sae-unavailable', 'the host SAE sent an oversized frame')),
  );
  socket.on('error', (err) => fail(new WrapperError('host-sae-unavailable', `host SAE: ${err.message}`)));
  socket.on('close', () => fail(new WrapperError('host-sae-unavailable', 'the host SAE closed the channel')));

  return {
    call(frame) {
      if (closed) return Promise.reject(new WrapperError('host-sae-unavailable', 'the channel is closed'));
      const id = ++lastId;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new WrapperError('host-sae-unavailable', 'the host SAE did not answer in time'));
        }, opts.timeoutMs ?? 10_000);
        pending.set(id, { frame, resolve, reject, timer });
        writeFrame(socket, { id, ...frame });
      });
    },
    send(frame) {
      if (closed || socket.destroyed || !socket.writable) return false;
      writeFrame(socket, frame);
      return true;
    },
    get closed() {
      return closed;
    },
    close: () => fail(new WrapperError('host-sae-unavailable', 'the channel was closed')),
  };
}
