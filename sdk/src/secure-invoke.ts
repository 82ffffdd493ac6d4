// Secure invocation from the client perimeter: a (key, sequence) from the key supply, the request
// and response keys derived from it, the arguments sealed and POSTed to the context's referenceURI
// (an OpenWhisk web action), the answer opened and checked to be the response to this very request.
// A payload is sealed under exactly one key: a failed call is reported, never re-sent under another.
import { childTraceparent } from '@mecqkd/common/trace';
import {
  checkHeader,
  deriveKeyPair,
  ENVELOPE_VERSION,
  EnvelopeError,
  type EnvelopeHeader,
  open,
  parseEnvelope,
  type RejectReason,
  seal,
} from './envelope.ts';
import type { Fetch } from './http.ts';
import { MAX_RETRY_AFTER_MS } from './key-allowance.ts';
import type { KeySupply } from './key-supply.ts';
import type { ClientMetrics } from './metrics.ts';

export interface SecureTarget {
  /** AppContext status.referenceURI: …/api/v1/web/{ns}/default/{action}.json */
  referenceURI: string;
  contextId: string;
  clientSaeId: string;
  invocationsPerKey: number;
  /** W3C trace of the context: each invocation goes as a span of it (header traceparent). */
  traceId?: string;
}

/** The host refused the envelope (reason from the envelope's vocabulary or the host SAE's). */
export class InvocationRefused extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly status: number,
  ) {
    super(`the host refused the invocation (${reason}): ${message}`);
  }
}

/**
 * The host SAE refused the context a new QKD key: it takes keys faster than its app's declared
 * demand allows. Nothing ran; the key supply holds every call back for `retryAfterMs`.
 */
export class KeyRateExceeded extends InvocationRefused {
  constructor(
    message: string,
    status: number,
    readonly retryAfterMs: number,
  ) {
    super('key-rate-exceeded', message, status);
  }
}

/** A hint the host gave, bounded. */
function retryAfterOf(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.min(v, MAX_RETRY_AFTER_MS) : 1000;
}

/** The client KME gave no key (refused or unreachable): nothing was sealed or sent. */
export class KeyUnavailable extends Error {
  constructor(override readonly cause: unknown) {
    super(`no QKD key from the client KME: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** The app's own error, delivered sealed like a result. */
export class ApplicationError extends Error {
  constructor(readonly error: unknown) {
    super(`the action answered an error: ${typeof error === 'string' ? error : JSON.stringify(error)}`);
  }
}

/** One invocation's answer with what it used and how long each step took (ms). */
export interface InvokeOutcome {
  result: unknown;
  keyId: string;
  seq: number;
  timings: { key: number; seal: number; request: number; open: number; total: number };
  /** The host's own durations (ms) as its wrapper reports them beside the envelope; shown, never trusted. */
  hostTimings?: HostTimings;
}

export interface HostTimings {
  /** Derived keys from the host SAE (dec_keys at the host KME on a key's first use). */
  key: number;
  open: number;
  run: number;
  seal: number;
}

function hostTimingsOf(v: unknown): HostTimings | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const t = v as Record<string, unknown>;
  const ok = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  return ok(t.key) && ok(t.open) && ok(t.run) && ok(t.seal)
    ? { key: t.key, open: t.open, run: t.run, seal: t.seal }
    : undefined;
}

export interface InvokeStats {
  failures: Partial<Record<RejectReason | string, number>>;
}

export function actionOf(referenceURI: string): string {
  const last = new URL(referenceURI).pathname.split('/').pop() ?? '';
  return decodeURIComponent(last.replace(/\.json$/, ''));
}

export function createSecureInvoker(
  target: SecureTarget,
  keys: KeySupply,
  metrics?: ClientMetrics,
  fetchFn: Fetch = fetch,
) {
  const action = actionOf(target.referenceURI);
  const stats: InvokeStats = { failures: {} };
  const fail = (reason: string) => {
    stats.failures[reason] = (stats.failures[reason] ?? 0) + 1;
    metrics?.failures.inc({ reason });
  };

  async function invokeTimed(args: Record<string, unknown>): Promise<InvokeOutcome> {
    const t0 = performance.now();
    const use = await keys.next().catch((err: unknown) => {
      fail('no-key');
      throw new KeyUnavailable(err);
    });
    const t1 = performance.now();
    const header: EnvelopeHeader = {
      v: ENVELOPE_VERSION,
      keyId: use.keyId,
      seq: use.seq,
      contextId: target.contextId,
      action,
      clientSaeId: target.clientSaeId,
      direction: 'request',
    };
    const { request: reqKey, response: resKey } = deriveKeyPair(use.key, header);
    use.key.fill(0);
    try {
      const sealed = JSON.stringify(seal(reqKey, header, args));
      const t2 = performance.now();
      const res = await fetchFn(target.referenceURI, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(target.traceId ? { traceparent: childTraceparent(target.traceId) } : {}),
        },
        body: sealed,
      });
      const body = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      if (res.status !== 200) {
        const reason = typeof body?.reason === 'string' ? body.reason : `http-${res.status}`;
        fail(reason);
        const message =
          typeof body?.message === 'string'
            ? body.message
            : typeof body?.error === 'string'
              ? body.error
              : '';
        if (reason === 'key-rate-exceeded') {
          const retryAfterMs = retryAfterOf(body?.retryAfterMs);
          keys.backOff(retryAfterMs);
          throw new KeyRateExceeded(message || `HTTP ${res.status}`, res.status, retryAfterMs);
        }
        throw new InvocationRefused(reason, message || `HTTP ${res.status}`, res.status);
      }
      const t3 = performance.now();
      let payload: unknown;
      try {
        const e = parseEnvelope(body);
        const { direction: _d, v: _v, ...binding } = header;
        checkHeader(e, { direction: 'response', invocationsPerKey: target.invocationsPerKey, binding });
        payload = open(resKey, e);
      } catch (err) {
        if (err instanceof EnvelopeError) fail(err.reason);
        throw err;
      }
      const t4 = performance.now();
      const p = (payload ?? {}) as { result?: unknown; error?: unknown };
      if ('error' in p) throw new ApplicationError(p.error);
      const hostTimings = hostTimingsOf(body?.timings);
      return {
        result: p.result,
        keyId: use.keyId,
        seq: use.seq,
        timings: { key: t1 - t0, seal: t2 - t1, request: t3 - t2, open: t4 - t3, total: t4 - t0 },
        ...(hostTimings ? { hostTimings } : {}),
      };
    } finally {
      reqKey.fill(0);
      resKey.fill(0);
    }
  }

  return {
    invokeTimed,
    invoke: async (args: Record<string, unknown>) => (await invokeTimed(args)).result,
    stats: () => ({ ...keys.stats(), failures: { ...stats.failures } }),
  };
}
export type SecureInvoker = ReturnType<typeof createSecureInvoker>;
