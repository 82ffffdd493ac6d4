// Errors from the apiserver (or from reaching it), with the request they came from.
import { z } from 'zod';

const statusSchema = z.looseObject({
  kind: z.literal('Status').optional(),
  code: z.number().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

export type KubeStatus = z.infer<typeof statusSchema>;

export class KubeApiError extends Error {
  /** HTTP status; 0 when no response arrived (connection refused, reset, timeout). */
  readonly status: number;
  /** metav1.Status reason, e.g. NotFound, Conflict, Expired, AlreadyExists; 'NetworkError' when status is 0. */
  readonly reason: string;
  readonly method: string;
  readonly path: string;
  /** Seconds from a Retry-After header (429 from API Priority and Fairness). */
  readonly retryAfterSeconds?: number;

  constructor(opts: {
    status: number;
    reason: string;
    message: string;
    method: string;
    path: string;
    retryAfterSeconds?: number;
    cause?: unknown;
  }) {
    super(`${opts.method} ${opts.path}: ${opts.status || 'no response'} ${opts.reason}: ${opts.message}`, {
      cause: opts.cause,
    });
    this.name = 'KubeApiError';
    this.status = opts.status;
    this.reason = opts.reason;
    this.method = opts.method;
    this.path = opts.path;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }

  /** From an error response body (usually a metav1.Status; anything else is kept as the message). */
  static fromResponse(method: string, path: string, status: number, body: string, retryAfter?: string) {
    let parsed: KubeStatus | undefined;
    try {
      parsed = statusSchema.parse(JSON.parse(body));
    } catch {
      parsed = undefined;
    }
    const seconds = retryAfter === undefined ? undefined : Number(retryAfter);
    return new KubeApiError({
      status,
      reason: parsed?.reason ?? 'Unknown',
      message: parsed?.message ?? body.slice(0, 500),
      method,
      path,
      retryAfterSeconds: seconds !== undefined && Number.isFinite(seconds) ? seconds : undefined,
    });
  }

  /** From a watch ERROR event's Status object. */
  static fromStatus(method: string, path: string, status: unknown): KubeApiError {
    const parsed = statusSchema.safeParse(status);
    const s = parsed.success ? parsed.data : {};
    return new KubeApiError({
      status: s.code ?? 500,
      reason: s.reason ?? 'Unknown',
      message: s.message ?? JSON.stringify(status).slice(0, 500),
      method,
      path,
    });
  }

  static network(method: string, path: string, cause: unknown): KubeApiError {
    const message = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    return new KubeApiError({ status: 0, reason: 'NetworkError', message, method, path, cause });
  }

  /** The caller's scope (e.g. a leadership term) ended: not a failure of the apiserver or the network. */
  static cancelled(method: string, path: string, cause?: unknown): KubeApiError {
    const message = 'the client scope has ended';
    return new KubeApiError({ status: 0, reason: 'Cancelled', message, method, path, cause });
  }
}

const hasStatus = (err: unknown, status: number) => err instanceof KubeApiError && err.status === status;

export const isCancelled = (err: unknown) => err instanceof KubeApiError && err.reason === 'Cancelled';
export const isNotFound = (err: unknown) => hasStatus(err, 404);
export const isConflict = (err: unknown) => hasStatus(err, 409);
export const isAlreadyExists = (err: unknown) =>
  isConflict(err) && (err as KubeApiError).reason === 'AlreadyExists';
/** 410: the resourceVersion (or list continue token) is older than etcd's compaction. */
export const isGone = (err: unknown) => hasStatus(err, 410);

/**
 * Worth retrying (client-node PR #3034's split): no response, 408, 429 and 5xx are transient; any
 * other 4xx means the request itself is wrong and repeating it changes nothing.
 */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof KubeApiError)) return false;
  return err.status === 0 || err.status === 408 || err.status === 429 || err.status >= 500;
}
