// JSON over HTTPS with a keep-alive, mutual TLS agent: the transport of the QKD 014 and admin clients.
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';
import { createSecureContext } from 'node:tls';

/** PEM: the CA that signed the KME's certificate, the caller's certificate and its private key. */
export interface MtlsIdentity {
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
}

export function mtlsAgent(id: MtlsIdentity, maxSockets = 16): Agent {
  return new Agent({
    // One TLS context for every connection; PEMs in the agent options would also be folded into the
    // connection-pool key of every request.
    secureContext: createSecureContext({ ca: id.ca, cert: id.cert, key: id.key, minVersion: 'TLSv1.2' }),
    keepAlive: true,
    maxSockets,
  });
}

export interface JsonResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or undefined for an empty or non-JSON body (then see `text`). */
  body: unknown;
  text: string;
}

export interface JsonRequest {
  method: string;
  /** Serialised as JSON when present; a string is sent as is. */
  body?: unknown;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** `path` (with any query) is taken as is, relative to the origin of `base`. */
export function requestJson(agent: Agent, base: URL, path: string, req: JsonRequest): Promise<JsonResponse> {
  const payload =
    req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  if (payload !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const r = request(
      {
        protocol: base.protocol,
        hostname: base.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: base.port,
        path,
        method: req.method,
        agent,
        headers,
        timeout: req.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      },
    );
    r.on('timeout', () => r.destroy(new Error(`${req.method} ${base.origin}${path} timed out`)));
    r.on('error', (err) => reject(new Error(`${req.method} ${base.origin}${path}: ${err.message}`)));
    r.end(payload);
  });
}
