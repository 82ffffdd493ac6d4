// The device app's callbackReference: an HTTP(S) endpoint the LCMP POSTs MEC 016 notifications to.
// Each body is validated (the four exact notificationTypes) and emitted typed; 204 on success,
// ProblemDetails otherwise (400 bad JSON or schema, 404 elsewhere, 405, 413, 415). The path carries
// 128 random bits: a callbackReference is a capability, so a party that cannot read it cannot feed
// the app false AddressChange notifications.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type Notification, notification } from './mx2-schemas.ts';

const MAX_BODY = 64 * 1024;

export interface ReceiverOptions {
  /** Address to listen on (default 127.0.0.1) and port (default: any free one). */
  host?: string;
  port?: number;
  /** Serve HTTPS with this certificate (PEM); plain HTTP when absent. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Host name to put into the URL the LCMP calls, when it differs from the listen address. */
  publicHost?: string;
  /** The callback path; default /mx2/notifications/<128 random bits>. */
  path?: string;
}

export interface ReceiverEvents {
  notification: [Notification];
  /** A body that was refused (with the reason given to the sender). */
  rejected: [{ status: number; detail: string }];
}

export interface NotificationReceiver extends EventEmitter<ReceiverEvents> {
  /** The callbackReference to give the LCMP. */
  readonly url: string;
  close(): Promise<void>;
}

interface Refusal {
  status: number;
  detail: string;
  headers?: Record<string, string>;
  fields?: string[];
}

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
        ? reject({ status: 413, detail: `notifications are limited to ${MAX_BODY} bytes` } satisfies Refusal)
        : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

/** What one request means: a valid notification, or the refusal to answer. Pure but for reading. */
export async function readNotification(req: IncomingMessage, path: string): Promise<Notification> {
  const url = new URL(req.url ?? '/', 'http://receiver');
  if (url.pathname !== path) throw { status: 404, detail: 'no notification endpoint here' } satisfies Refusal;
  if (req.method !== 'POST')
    throw {
      status: 405,
      detail: `${req.method} is not accepted: notifications are POSTed`,
      headers: { allow: 'POST' },
    } satisfies Refusal;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json')
    throw { status: 415, detail: 'a notification is application/json' } satisfies Refusal;
  const body = await readBody(req);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw { status: 400, detail: 'the body is not JSON' } satisfies Refusal;
  }
  const r = notification.safeParse(value);
  if (!r.success) {
    const fields = r.error.issues.map((i) => (i.path.length ? i.path.join('.') : '(body)'));
    throw {
      status: 400,
      detail: r.error.issues.map((i, n) => `${fields[n]}: ${i.message}`).join('; '),
      fields,
    } satisfies Refusal;
  }
  return r.data;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
};

function refuse(res: ServerResponse, r: Refusal): void {
  const body = JSON.stringify({
    title: TITLES[r.status] ?? 'Bad Request',
    status: r.status,
    detail: r.detail,
    ...(r.fields ? { fields: r.fields } : {}),
  });
  res.writeHead(r.status, { 'content-type': 'application/problem+json', ...r.headers }).end(body);
}

const isRefusal = (e: unknown): e is Refusal =>
  typeof e === 'object' && e !== null && typeof (e as Refusal).status === 'number';

export async function startNotificationReceiver(opts: ReceiverOptions = {}): Promise<NotificationReceiver> {
  const path = opts.path ?? `/mx2/notifications/${randomBytes(16).toString('hex')}`;
  const emitter = new EventEmitter<ReceiverEvents>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    readNotification(req, path).then(
      (n) => {
        res.writeHead(204).end();
        emitter.emit('notification', n);
      },
      (err: unknown) => {
        const r: Refusal = isRefusal(err) ? err : { status: 400, detail: 'the request could not be read' };
        refuse(res, r);
        emitter.emit('rejected', { status: r.status, detail: r.detail });
      },
    );
  };
  const server: Server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }, handler)
    : createHttpServer(handler);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shown = opts.publicHost ?? (host.includes(':') ? `[${host}]` : host);
  const url = `${opts.tls ? 'https' : 'http'}://${shown}:${port}${path}`;
  return Object.assign(emitter, {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
