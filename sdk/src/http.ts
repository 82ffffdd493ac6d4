// The one way the SDK talks HTTP(S) to the LCMP and to referenceURIs: undici's fetch through an
// agent that verifies TLS against the given CA (the system's otherwise), with a connect timeout.
import { Agent, fetch as undiciFetch } from 'undici';

export interface HttpOptions {
  /** PEM of the CA that signed the server's certificate; the system CAs when absent. */
  ca?: string | Buffer;
  /** Connection and header deadline, ms. */
  timeoutMs?: number;
}

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

export interface HttpClient {
  fetch: Fetch;
  close(): Promise<void>;
}

export function createHttpClient(opts: HttpOptions = {}): HttpClient {
  const timeout = opts.timeoutMs ?? 30_000;
  const agent = new Agent({
    connect: { timeout, ...(opts.ca ? { ca: opts.ca } : {}), rejectUnauthorized: true },
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  return {
    fetch: (url, init) =>
      undiciFetch(url, { ...(init as object), dispatcher: agent }) as unknown as Promise<Response>,
    close: () => agent.close(),
  };
}

/** Error codes meaning the request never reached a server: whatever it asked for did not happen. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The network error code behind a failed fetch (undici wraps it in `cause`), if any. */
export function networkCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; i++) {
    if (typeof e.code === 'string') return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

/** True when the request provably was not delivered (connection never established). */
export function neverSent(err: unknown): boolean {
  const code = networkCode(err);
  return code !== undefined && NOT_SENT.has(code);
}
