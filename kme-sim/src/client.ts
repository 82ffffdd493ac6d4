// A typed ETSI GS QKD 014 client for SAEs (sdk, action wrapper, operator): mutual TLS with a keep-alive
// agent, every answer validated with the schemas of qkd014/schemas.ts, errors with status and message.
import { type JsonResponse, type MtlsIdentity, mtlsAgent, requestJson } from './https-json.ts';
import { QUOTA_DETAIL } from './qkd014/errors.ts';
import {
  ErrorBody,
  type KeyContainer,
  KeyContainer as KeyContainerSchema,
  type KeyRequest,
  Status,
} from './qkd014/schemas.ts';

export interface Qkd014ClientOptions extends MtlsIdentity {
  /** KME base URL, e.g. https://127.0.0.1:8443 (the client adds /api/v1/keys/...). */
  url: string;
  timeoutMs?: number;
  maxSockets?: number;
}

export class Qkd014Error extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: ErrorBody | undefined,
    /** Seconds from Retry-After on 503, when given. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(message);
  }
}

/**
 * How long to wait when `err` is a KME's key-quota refusal (the SAE took key faster than its
 * app_qos allows; nothing was taken), else undefined: other 503s are the link's, not the SAE's.
 */
export function quotaRetryAfterMs(err: unknown): number | undefined {
  if (!(err instanceof Qkd014Error) || err.status !== 503) return undefined;
  const quota = err.body?.details?.find((d) => QUOTA_DETAIL in d)?.[QUOTA_DETAIL] as
    | { retry_after_ms?: unknown }
    | undefined;
  if (quota === undefined) return undefined;
  const ms = quota.retry_after_ms;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : (err.retryAfterSeconds ?? 1) * 1000;
}

export interface Qkd014Client {
  /** Get status (clause 5.2) for keys shared with `slaveSaeId`. */
  status(slaveSaeId: string): Promise<Status>;
  /** Get key (clause 5.3): POST with the Key request, or GET when `request` is omitted. */
  encKeys(slaveSaeId: string, request?: KeyRequest): Promise<KeyContainer>;
  /** Get key with key IDs (clause 5.4), for keys reserved by `masterSaeId`. */
  decKeys(masterSaeId: string, keyIds: string[]): Promise<KeyContainer>;
  /** Any request on the KME, answer unvalidated (for tests and probes). */
  raw(method: string, path: string, body?: unknown): Promise<JsonResponse>;
  close(): void;
}

export function createQkd014Client(opts: Qkd014ClientOptions): Qkd014Client {
  const agent = mtlsAgent(opts, opts.maxSockets);
  const url = opts.url.replace(/\/+$/, '');
  const base = new URL(url);
  const raw = (method: string, path: string, body?: unknown) =>
    requestJson(agent, base, base.pathname.replace(/\/+$/, '') + path, {
      method,
      body,
      timeoutMs: opts.timeoutMs ?? 10_000,
    });

  async function call<T>(
    schema: { parse(v: unknown): T },
    method: string,
    sae: string,
    op: string,
    body?: unknown,
  ): Promise<T> {
    const what = `${method} ${op} for SAE ${sae} at ${url}`;
    const res = await raw(method, `/api/v1/keys/${encodeURIComponent(sae)}/${op}`, body);
    if (res.status !== 200) {
      const parsed = ErrorBody.safeParse(res.body);
      const retry = Number(res.headers['retry-after']);
      const message = parsed.success ? parsed.data.message : res.text.slice(0, 200);
      throw new Qkd014Error(
        `${what}: HTTP ${res.status}: ${message}`,
        res.status,
        parsed.success ? parsed.data : undefined,
        Number.isFinite(retry) ? retry : undefined,
      );
    }
    try {
      return schema.parse(res.body);
    } catch (err) {
      throw new Error(`${what}: the KME answered an invalid body: ${(err as Error).message}`);
    }
  }

  return {
    status: (slave) => call(Status, 'GET', slave, 'status'),
    encKeys: (slave, request) =>
      request === undefined
        ? call(KeyContainerSchema, 'GET', slave, 'enc_keys')
        : call(KeyContainerSchema, 'POST', slave, 'enc_keys', request),
    decKeys: (master, keyIds) =>
      call(KeyContainerSchema, 'POST', master, 'dec_keys', { key_IDs: keyIds.map((key_ID) => ({ key_ID })) }),
    raw,
    close: () => agent.destroy(),
  };
}
