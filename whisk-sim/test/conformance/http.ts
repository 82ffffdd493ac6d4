// Raw HTTP for what the openwhisk client never sends (?result, ?timeout, missing or wrong credentials)
// and to see status codes and headers the client hides.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Target } from './target.ts';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export interface RawOptions {
  body?: unknown;
  /** `uuid:key`; null sends no Authorization header. */
  auth?: string | null;
  headers?: Record<string, string>;
}

export function raw(t: Target, method: string, path: string, opts: RawOptions = {}): Promise<RawResponse> {
  const url = new URL(path, t.apihost);
  const auth = opts.auth === undefined ? t.apiKey : opts.auth;
  const body =
    opts.body === undefined
      ? undefined
      : Buffer.isBuffer(opts.body)
        ? opts.body
        : Buffer.from(JSON.stringify(opts.body));
  const headers: Record<string, string> = {
    ...(auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {}),
    ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
    ...opts.headers,
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers, rejectUnauthorized: !t.insecure }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Path of an entity or collection in the target's namespace. */
export function nsPath(t: Target, rest: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/${rest}`;
}
