// The console's HTTP face: the static page, a small JSON API and a Server-Sent Events stream of the
// live view. It listens on loopback for the tablet's own browser; requests from other origins (a page
// elsewhere posting to it, DNS rebinding) are refused, and errors are RFC 9457 problem details.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import type { ConsoleCore, LiveEvent } from './core.ts';

const STATIC = join(import.meta.dirname, 'static');
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};
const MAX_BODY = 16 * 1024;

export const assessmentRequest = z.strictObject({
  model: z.enum(['cardio', 'covid']),
  ward: z.string().min(1).max(64),
  patientId: z.string().min(1).max(64),
});

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

function problem(res: ServerResponse, p: HttpProblem): void {
  res
    .writeHead(p.status, { ...SECURITY_HEADERS, 'content-type': 'application/problem+json' })
    .end(JSON.stringify({ type: 'about:blank', title: p.title, status: p.status, detail: p.detail }));
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json' })
    .end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
    throw new HttpProblem(415, 'Unsupported Media Type', 'send application/json');
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new HttpProblem(413, 'Content Too Large', `at most ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'Bad Request', 'the body is not JSON');
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const detail = r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
  throw new HttpProblem(400, 'Bad Request', detail);
}

/** Only the console's own origin: a same-origin fetch sends a matching Host and, for POST, Origin. */
function checkOrigin(req: IncomingMessage, self: string): void {
  if (req.headers.host !== self) throw new HttpProblem(421, 'Misdirected Request', 'unexpected Host');
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${self}`)
    throw new HttpProblem(403, 'Forbidden', `requests from ${origin} are not served`);
}

function sse(req: IncomingMessage, res: ServerResponse, core: ConsoleCore): void {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'text/event-stream; charset=utf-8',
    connection: 'keep-alive',
  });
  const send = (e: LiveEvent) => res.write(`event: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
  send({ type: 'contexts', data: core.contexts() });
  for (const n of core.notifications()) send({ type: 'notification', data: n });
  const off = core.subscribe(send);
  // comments keep proxies and the browser from timing the stream out
  const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
  req.on('close', () => {
    clearInterval(beat);
    off();
  });
}

export interface ConsoleServer {
  url: string;
  close(): Promise<void>;
}

export async function serveConsole(core: ConsoleCore, host = '127.0.0.1', port = 0): Promise<ConsoleServer> {
  const files = Object.fromEntries(
    Object.entries(FILES).map(([path, f]) => [path, { ...f, body: readFileSync(join(STATIC, f.file)) }]),
  );
  let self = '';
  const server = createServer((req, res) => {
    const route = async () => {
      checkOrigin(req, self);
      const { pathname } = new URL(req.url ?? '/', `http://${self}`);
      const file = files[pathname];
      if (file && (req.method === 'GET' || req.method === 'HEAD')) {
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type }).end(file.body);
        return;
      }
      const patients = pathname.match(/^\/api\/wards\/([^/]+)\/patients$/);
      if (req.method === 'GET' && pathname === '/api/wards') return json(res, 200, core.wards());
      if (req.method === 'GET' && pathname === '/api/events') return sse(req, res, core);
      if (req.method === 'GET' && pathname === '/api/assessments') return json(res, 200, core.assessments());
      if (req.method === 'POST' && patients)
        return json(res, 201, core.addPatient(decodeURIComponent(patients[1]!)));
      if (req.method === 'POST' && pathname === '/api/assessments') {
        const body = parseWith(assessmentRequest, await readJson(req));
        return json(res, 200, await core.assess(body));
      }
      throw new HttpProblem(404, 'Not Found', `no ${req.method} ${pathname}`);
    };
    route().catch((err: unknown) => {
      if (res.headersSent) return void res.end();
      problem(
        res,
        err instanceof HttpProblem
          ? err
          : new HttpProblem(502, 'Bad Gateway', `the assessment failed: ${(err as Error).message}`),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  self = `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  return {
    url: `http://${self}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
