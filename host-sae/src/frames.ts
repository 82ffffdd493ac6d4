// The wrapper ↔ host SAE channel carries one JSON object per line over a long-lived TLS connection.
// HTTP/1.1 per call cost the container and the SAE about 0.9 ms of CPU together for a ~200-byte
// exchange (request objects, header writing and parsing, per-request timers); lines on an open
// socket cost a fifth of that. JSON.stringify never emits a raw newline, so a line is a frame.
// Used by the SAE and bundled into the wrapper: node: built-ins only.
import type { Socket } from 'node:net';

/** ALPN protocol of the channel: a client that does not offer it (e.g. an HTTP client) is refused. */
export const CHANNEL_ALPN = 'mecqkd-sae/1';

/** Longest frame either side accepts; a longer one closes the connection. */
export const MAX_FRAME_BYTES = 16 * 1024;

/** Most keys one derive may ask to hold ahead (protocol.ts): the answer stays well inside a frame. */
export const MAX_AHEAD = 32;

export function writeFrame(socket: Socket, value: unknown): void {
  socket.write(`${JSON.stringify(value)}\n`);
}

/**
 * Calls `onFrame` with each line's text as it arrives; `onOversize` once a line grows past
 * MAX_FRAME_BYTES (the caller closes the connection: nothing after it can be trusted to align).
 */
export function readFrames(socket: Socket, onFrame: (text: string) => void, onOversize: () => void): void {
  let partial = '';
  const tooLong = (s: string) => s.length > MAX_FRAME_BYTES || Buffer.byteLength(s) > MAX_FRAME_BYTES;
  const onData = (chunk: string) => {
    let text = partial + chunk;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
      const line = text.slice(0, nl);
      if (tooLong(line)) return oversize();
      onFrame(line);
      text = text.slice(nl + 1);
    }
    partial = text;
    if (tooLong(partial)) oversize();
  };
  const oversize = () => {
    partial = '';
    socket.off('data', onData);
    onOversize();
  };
  socket.setEncoding('utf8');
  socket.on('data', onData);
}
